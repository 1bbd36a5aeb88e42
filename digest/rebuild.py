"""A build resumed from the last one, for a few edited article files.

After an edit, a full build of a 10,000-article archive reads every record and
plans 11,000 files again (0.8 s), to render a handful. When only article files
changed, and none of them moved in any listing (same date, topics, file and
id), the last build's plan still holds: only the files that show an edited
article get new keys, and only they are rendered. That is what this module
does, from ``.digest/plan.sqlite``: the last full build's plan, and the keys and
records of its articles, read one by one as pages need them.

It gives up (returns None, and the caller builds in full) whenever it cannot be
sure: settings, a template, the inbox or the feeds' state changed; a file came
or went; an edit moved an article or cannot be read; the output was written by
something else since (digest serve, say). A full build saves a new plan.
"""

from __future__ import annotations

import contextlib
import hashlib
import marshal
import os
import pickle
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, overload

from digest import __version__, archive, config, output
from digest.archive import Stored
from digest.model import Article

if TYPE_CHECKING:
    from digest import render
    from digest.build import Report

_FILE = "plan.sqlite"
_SCHEMA = 1
_MOST = 200
"""Changed files beyond which a full build is as quick."""
_TABLES = """
CREATE TABLE meta (name TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE article (id TEXT PRIMARY KEY, path TEXT NOT NULL, keys BLOB NOT NULL,
                      uses BLOB NOT NULL, record BLOB NOT NULL);
CREATE TABLE spec (n INTEGER PRIMARY KEY, data BLOB NOT NULL);
"""


@dataclass(frozen=True, slots=True)
class _Header:
    """What tells whether the saved plan still holds, and what a report needs."""

    version: tuple[str, int]
    settings: str
    """A key of everything but the articles that a build reads (see `_settings`)."""
    files: dict[str, tuple[int, int, str]]
    """Article files by path in the articles folder: modification time, size, id."""
    common: str
    topics: list[tuple[str, str, str, tuple[str, ...]]]
    has_sources: bool
    counts: tuple[int, int, int, int]
    """Articles, topics with articles, files of the site, inbox files."""


@dataclass(frozen=True, slots=True)
class _State:
    """What each resumed build changes: small, so it is quick to write."""

    manifest: tuple[int, ...]
    """The stat of the output's record of keys as the last build left it."""
    read: dict[str, tuple[int, int]]
    """Files read again since the plan was made, with the modification time and size read."""


def save(
    cfg: config.Config,
    plan: render.Plan,
    loaded: archive.Loaded,
    persisted: archive.Persisted,
    articles: list[Article],
    has_sources: bool,
    counts: tuple[int, int, int, int],
) -> None:
    """Keep a full build's plan, with the records (as grouped) and files it was made from.

    The files' stat is the one taken before they were read, or as they were
    written: a file saved by someone else during the build looks changed next time.
    """
    manifest = output.manifest_stamp(cfg.state)
    files = {rel: (s.st_mtime_ns, s.st_size) for rel, s in loaded.found} | persisted.written
    header = _Header(
        (__version__, _SCHEMA),
        _settings(cfg),
        {a.path: (*files[a.path], a.id) for a in articles},
        plan.common,
        plan.topics,
        has_sources,
        counts,
    )
    rows = []
    for article in articles:
        own = persisted.bodies.stored(article.id)
        record = Stored(article, own.untouched, own.file, own.body_key)
        rows.append(
            (
                article.id,
                plan.paths[article.id],
                marshal.dumps(tuple(plan.keys[article.id])),
                marshal.dumps(plan.uses.get(article.id, [])),
                pickle.dumps(record, pickle.HIGHEST_PROTOCOL),
            )
        )
    specs = [(n, pickle.dumps(s, pickle.HIGHEST_PROTOCOL)) for n, s in enumerate(plan.specs)]
    cfg.state.mkdir(parents=True, exist_ok=True)
    temporary = cfg.state / f"{_FILE}.tmp"
    temporary.unlink(missing_ok=True)
    with contextlib.closing(sqlite3.connect(temporary)) as db, db:
        db.executescript(_TABLES)
        db.execute("INSERT INTO meta VALUES ('header', ?)", (pickle.dumps(header),))
        db.execute(
            "INSERT INTO meta VALUES ('state', ?)", (pickle.dumps(_State(manifest or (), {})),)
        )
        db.executemany("INSERT INTO article VALUES (?, ?, ?, ?, ?)", rows)
        db.executemany("INSERT INTO spec VALUES (?, ?)", specs)
    temporary.replace(cfg.state / _FILE)


def forget(cfg: config.Config) -> None:
    """Drop the saved plan: this build wrote article files it does not know about."""
    (cfg.state / _FILE).unlink(missing_ok=True)


def resume(cfg: config.Config) -> Report | None:
    """Bring the site up to date from the saved plan; None when a full build is needed."""
    try:
        with contextlib.closing(
            sqlite3.connect(f"file:{cfg.state / _FILE}?mode=rw", uri=True)
        ) as db:
            return _resume(cfg, db)
    except (sqlite3.Error, pickle.UnpicklingError, EOFError, ValueError, TypeError, KeyError,
            AttributeError):  # fmt: skip
        return None  # no plan, or one this version cannot read: build in full


def _resume(cfg: config.Config, db: sqlite3.Connection) -> Report | None:
    from digest.build import Report, Tally

    header, state = (pickle.loads(v) for (v,) in db.execute(_META))  # noqa: S301 - digest's own
    if not isinstance(header, _Header) or header.version != (__version__, _SCHEMA):
        return None
    if header.settings != _settings(cfg) or not cfg.output.is_dir():
        return None
    if state.manifest != output.manifest_stamp(cfg.state):
        return None  # the site was written since (digest serve): its plan is another
    found = archive.walk(cfg.articles) if cfg.articles.is_dir() else []
    if len(found) != len(header.files):
        return None
    changed = {}
    for rel, stat in found:
        known = state.read.get(rel) or header.files.get(rel)
        if known is None:
            return None  # a new file; as many went
        if known[:2] != (stat.st_mtime_ns, stat.st_size):
            changed[rel] = (stat.st_mtime_ns, stat.st_size)
    articles, topics, pages, inbox = header.counts
    written = 0
    if changed:
        if len(changed) > _MOST:
            return None
        written = _redo(cfg, db, header, state, changed)
        if written < 0:
            return None
    return Report(articles, topics, (Tally("inbox", 0, 0, inbox),), pages, written, (), ())


_META = "SELECT value FROM meta WHERE name IN ('header', 'state') ORDER BY name"


def _redo(
    cfg: config.Config,
    db: sqlite3.Connection,
    header: _Header,
    state: _State,
    changed: dict[str, tuple[int, int]],
) -> int:
    """Render the files that show the changed files' articles; -1 if one moved or is broken.

    The site is written first, then the plan: a crash between the two leaves a
    plan whose record of the output no longer matches, and the next build is full.
    """
    from digest import group, render  # only now: a build with nothing to do need not import them

    store = _Store(db)
    edited: dict[str, Stored] = {}
    for rel in changed:
        known_id = header.files[rel][2]
        new = _reread(cfg, rel, store.stored[known_id])
        if new is None:
            return -1
        edited[known_id] = new
    old = {i: store.keys(i) for i in edited}
    store.edit(edited)
    keys = {
        i: render.keys_of(s.article, store.paths[i], cfg, store.bodies) for i, s in edited.items()
    }
    listed = {i for i in keys if keys[i].shown != old[i].shown}  # as listings show it
    read = {i for i in keys if keys[i].content != old[i].content}  # its body, its image
    places = sorted({n for i in listed | read for n in store.uses(i)})
    specs = [
        (n, s)
        for n, s in zip(places, store.specs(places), strict=True)
        if listed.intersection(s.shown) or read.intersection(s.full)
    ]
    lookup = _Lazy(store.keys)
    lookup.update(keys)
    rekeyed = render.rekey_specs(header.common, [s for _, s in specs], lookup)
    shelves = [
        group.Topic(title, slug, description, _Shelf(ids, store.articles))
        for title, slug, description, ids in header.topics
    ]
    site = render.Site(cfg, store.paths, store.articles, shelves, store.bodies, header.has_sources)
    done = output.publish(cfg.output, render.bind(rekeyed, site), cfg.state, partial=True)
    with db:
        db.executemany(
            "UPDATE article SET keys = ?, record = ? WHERE id = ?",
            [
                (marshal.dumps(tuple(keys[i])), pickle.dumps(item, pickle.HIGHEST_PROTOCOL), i)
                for i, item in edited.items()
            ],
        )
        db.executemany(
            "UPDATE spec SET data = ? WHERE n = ?",
            [
                (pickle.dumps(spec, pickle.HIGHEST_PROTOCOL), n)
                for (n, _), spec in zip(specs, rekeyed, strict=True)
            ],
        )
        state = _State(output.manifest_stamp(cfg.state) or (), state.read | changed)
        db.execute("UPDATE meta SET value = ? WHERE name = 'state'", (pickle.dumps(state),))
    return done.written + done.removed


def _reread(cfg: config.Config, rel: str, old: Stored) -> Stored | None:
    """An edited file's record, grouped as a full build would; None if it moved or is broken."""
    parsed = archive.parse(cfg, rel)
    if parsed is None:
        return None
    from digest import group

    article = group.assign(parsed.article, cfg.topics, lambda _: parsed.body())
    # The same topics as the grouped record, as written: then grouping gives the same names
    # for this article and every other (the first spelling seen of a name is its title).
    same = (article.id, article.path, article.published, article.topics) == (
        old.article.id,
        old.article.path,
        old.article.published,
        old.article.topics,
    )
    return replace(parsed, article=article) if same else None


def _settings(cfg: config.Config) -> str:
    """A key of the settings, the templates, the inbox and the feeds' state, by stat."""
    hasher = hashlib.blake2b(digest_size=16)
    hasher.update(f"{__version__}\x1f{cfg.root}\x1f{cfg.output}\x1f{cfg.articles}".encode())
    for top in (cfg.root / config.FILENAME, cfg.templates, config.DEFAULT_THEME, cfg.inbox,
                cfg.state / "state.sqlite"):  # fmt: skip
        for path, stat in _stats(top):
            hasher.update(f"{path}\x1f{stat.st_mtime_ns}\x1f{stat.st_size}\x1e".encode())
    return hasher.hexdigest()


def _stats(top: Path) -> Iterator[tuple[str, os.stat_result]]:
    if top.is_file():
        yield str(top), top.stat()
        return
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames.sort()
        for name in sorted(filenames):
            path = os.path.join(dirpath, name)  # noqa: PTH118 - str is faster
            yield path, os.stat(path)  # noqa: PTH116


class _Store:
    """The saved plan's articles and specs, read from the database as they are needed."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self.edited: dict[str, Stored] = {}
        self.stored = _Lazy(self._record)
        self.articles = _Lazy(lambda i: self.stored[i].article)
        self.paths = _Lazy(lambda i: self._row("path", i))
        self.bodies = archive.Bodies(self.stored)

    def edit(self, edited: dict[str, Stored]) -> None:
        self.stored.update(edited)
        self.articles.update({i: s.article for i, s in edited.items()})

    def _row(self, column: str, i: str) -> Any:
        row = self.db.execute(f"SELECT {column} FROM article WHERE id = ?", (i,)).fetchone()  # noqa: S608 - a column name of this module
        if row is None:
            raise KeyError(i)
        return row[0]

    def _record(self, i: str) -> Stored:
        record = pickle.loads(self._row("record", i))  # noqa: S301 - digest's own file
        if not isinstance(record, Stored):
            raise TypeError(i)
        return record

    def keys(self, i: str) -> render.Keys:
        from digest import render

        return render.Keys(*marshal.loads(self._row("keys", i)))  # noqa: S302 - digest's own file

    def uses(self, i: str) -> list[int]:
        found: list[int] = marshal.loads(self._row("uses", i))  # noqa: S302 - digest's own file
        return found

    def specs(self, numbers: list[int]) -> list[render.Spec]:
        found = []
        for n in numbers:
            (data,) = self.db.execute("SELECT data FROM spec WHERE n = ?", (n,)).fetchone()
            found.append(pickle.loads(data))  # noqa: S301 - digest's own file
        return found


class _Lazy(dict[str, Any]):
    """A dict that reads a missing entry with ``load`` (and keeps it)."""

    def __init__(self, load: Any) -> None:
        super().__init__()
        self.load = load

    def __missing__(self, key: str) -> Any:
        value = self[key] = self.load(key)
        return value


class _Shelf(Sequence[Article]):
    """A topic's articles: ids, each record read when a template asks for it."""

    def __init__(self, ids: tuple[str, ...], records: Mapping[str, Article]) -> None:
        self.ids, self.records = ids, records

    def __len__(self) -> int:
        return len(self.ids)

    @overload
    def __getitem__(self, index: int) -> Article: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[Article, ...]: ...
    def __getitem__(self, index: int | slice) -> Article | tuple[Article, ...]:
        if isinstance(index, slice):
            return tuple(self.records[i] for i in self.ids[index])
        return self.records[self.ids[index]]

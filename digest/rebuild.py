"""A build resumed from the last one, for a few edited article files.

After an edit, a full build of a 10,000-article archive reads every record and
plans 11,000 files again (0.8 s), to render a handful. When only article files
changed, and none of them moved in any listing (same date, topics, source, file
and id), the last build's plan still holds: only the files that show an edited
article get new keys, and only they are rendered, with the search index's shards
that hold its words (digest.render.search). That is what this module does,
from ``.digest/plan.sqlite``: the last full build's plan, with each article's
keys, neighbours and listings, read a few at a time as pages need them. Records
come from the parse cache (digest.archive), as the plan's files were read.

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
import time
import zlib
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar, overload

from digest import __version__, archive, config, output, parsecache, sqlitefile
from digest.archive import Stored
from digest.forked import Forked
from digest.model import Article, Report, Tally

if TYPE_CHECKING:
    from digest.render import Rendered
    from digest.render.plan import Plan, Spec

_V = TypeVar("_V")
_FILE = "plan.sqlite"
_SCHEMA = 8
_MOST = 200
"""Changed files beyond which a full build is as quick."""
_TABLES = """
CREATE TABLE meta (name TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE article (bucket INTEGER PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE listing (chunk INTEGER PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE record (id TEXT PRIMARY KEY, data BLOB NOT NULL);
"""
_BUCKETS = 2048
"""Articles are kept in this many rows, by a hash of the id: a page's few articles come
from a few small rows; a row per article would make a full build insert 10,000."""
_CHUNK = 16
"""Listing specs per row: an edit's pages are in a few rows, read whole."""


class _Header(NamedTuple):
    """What tells whether the saved plan still holds, and what a report needs."""

    version: tuple[str, int]
    settings: str
    common: str
    topics: list[tuple[str, str, str, tuple[str, ...]]]
    has_sources: bool
    counts: Counts


class Counts(NamedTuple):
    """A build's figures for its report."""

    articles: int
    topics: int
    """Topics with articles."""
    pages: int
    """Files of the site."""
    inbox: int
    """Inbox files."""


class _State(NamedTuple):
    """What each resumed build changes: small, so it is quick to write."""

    output: tuple[object, ...] | None
    """The output as the last build left it (`output.stamp`)."""
    read: dict[str, tuple[int, int]]
    """Files read again since the plan was made, with the modification time and size read."""
    racy: frozenset[str]
    """Files modified too near the last build's start for their stat to tell (`_racy`)."""


_RACY_NS = 2_000_000_000
"""A file modified this close to a build's start may change again within the same tick of
a coarse file system clock (FAT: 2 s), unseen by its stat: it is read again next time."""


def _racy(stats: dict[str, tuple[int, int]], started: int) -> frozenset[str]:
    """The files modified near ``started``: the next build reads them again, whatever their stat."""
    return frozenset(rel for rel, (mtime, _) in stats.items() if mtime >= started - _RACY_NS)


class _Info(NamedTuple):
    """What the plan knows of one article (stored as a plain tuple, with marshal)."""

    rel: str
    """Its file in the articles folder."""
    path: str
    """Its page's folder."""
    shown: str
    content: str
    month: str
    topics: tuple[str, ...]
    """As grouped: the parse cache holds them as written, or none."""
    near: tuple[tuple[str, str, str, str], ...]
    """Its neighbours in each of its listings (see `digest.render.plan.article_spec`)."""
    uses: list[int]
    """The listing specs that show it, by number."""
    stat: tuple[int, int]
    """Its file's modification time and size when the plan was made: its record in the
    parse cache must be of that file."""
    story: tuple[str, str, int] | tuple[()]
    related: tuple[str, ...]
    """What its page shows of its story and of other stories (`article_spec`)."""
    shown_by: list[str]
    """The articles whose page shows it as their story's first report or as related."""
    placed: str
    """What the stories placed it as (`digest.stories.stage.placed_as`), or "" (no stories):
    an edit that leaves it the same (past the body's lead) needs no stories state."""


class _StaleError(Exception):
    """The plan, or a record it needs, is not as it was saved: the build is done in full."""


class Start(NamedTuple):
    """A build's start: the plan it saves holds for the settings and files as they were then."""

    time: int
    """`time.time_ns`."""
    settings: str
    """A key of everything but the articles that a build reads (see `_settings`)."""


def begin(cfg: config.Config) -> Start:
    return Start(time.time_ns(), _settings(cfg))


class Resumable(NamedTuple):
    """What a full build hands on for the next to resume from."""

    start: Start
    plan: Plan
    loaded: archive.Loaded
    persisted: archive.Persisted
    articles: list[Article]
    has_sources: bool
    counts: Counts
    placed: Mapping[str, str]
    """What the stories placed each article as (empty without stories)."""


def save(cfg: config.Config, resumable: Resumable) -> None:
    """Keep a full build's plan, with what it knows of each article, beside the current one:
    `settle` puts it in place once the output is written, with the output's stamp.

    The files' stat is the one taken before they were read, or as they were
    written: a file saved by someone else during the build looks changed next time,
    and so does one modified near the build's start. A settings or template file
    edited during the build does too: its stat is the one taken at the start.
    Records of files written by this build are kept here; the others are in the
    parse cache, which this build wrote.
    """
    start, plan, loaded, persisted, articles, has_sources, counts, placed = resumable
    files = {rel: (s.st_mtime_ns, s.st_size) for rel, s in loaded.found} | persisted.written
    stats = {a.path: files[a.path] for a in articles}
    header = _Header(
        (__version__, _SCHEMA),
        start.settings,
        plan.common,
        plan.topics,
        has_sources,
        counts,
    )
    from digest.render.pages import ArticleData, PageArgs

    near: dict[str, tuple[tuple[str, str, str, str], ...]] = {}
    told: dict[str, ArticleData] = {}
    shown_by: dict[str, list[str]] = {}
    listings: list[Spec] = []
    number: dict[int, int] = {}
    for n, spec in enumerate(plan.specs):
        if isinstance(spec.args, PageArgs) and isinstance(spec.args.data, ArticleData):
            data = spec.args.data
            near[data.id] = data.near  # the spec is made again from _Info
            told[data.id] = data
            for other in {*data.story[1:2], *data.related}:
                shown_by.setdefault(other, []).append(data.id)
        elif spec.shown or spec.full:  # static files and pages that list no article stay
            number[n] = len(listings)
            listings.append(spec)
    buckets: list[dict[str, tuple[Any, ...]]] = [{} for _ in range(_BUCKETS)]
    for a in articles:
        uses = [number[n] for n in plan.uses.get(a.id, ()) if n in number]
        info = (
            a.path,
            plan.paths[a.id],
            *plan.keys[a.id],
            a.topics,
            near[a.id],
            uses,
            stats[a.path],
            told[a.id].story,
            told[a.id].related,
            sorted(shown_by.get(a.id, ())),
            placed.get(a.id, ""),
        )
        buckets[_bucket(a.id)][a.id] = info
    records = [
        (a.id, parsecache.dumps(replace(persisted.bodies.stored(a.id), article=a)))
        for a in articles
        if a.path in persisted.written
    ]
    cfg.state.mkdir(parents=True, exist_ok=True)
    temporary = cfg.state / f"{_FILE}.tmp"
    sqlitefile.drop(temporary)
    with contextlib.closing(sqlite3.connect(temporary)) as db, db:
        db.executescript(_TABLES)
        state = _State(None, {}, _racy(stats, start.time))
        db.executemany(
            "INSERT INTO meta VALUES (?, ?)",
            [
                ("header", pickle.dumps(header)),
                ("state", pickle.dumps(state)),
                ("stats", marshal.dumps(_pack(stats))),
            ],
        )
        # Rows made as they are written, not all at once: tens of MB at 100,000 articles.
        db.executemany(
            "INSERT INTO article VALUES (?, ?)",
            ((b, marshal.dumps(d)) for b, d in enumerate(buckets)),
        )
        db.executemany(
            "INSERT INTO listing VALUES (?, ?)",
            (
                (c, parsecache.dumps(listings[c * _CHUNK : (c + 1) * _CHUNK]))
                for c in range(-(-len(listings) // _CHUNK))
            ),
        )
        db.executemany("INSERT INTO record VALUES (?, ?)", records)


def settle(cfg: config.Config) -> None:
    """Put the plan `save` wrote in place, stamped with the output as this build left it."""
    temporary = cfg.state / f"{_FILE}.tmp"
    with contextlib.closing(sqlite3.connect(temporary)) as db, db:
        (state,) = _meta(db, "state")
        stamped = state._replace(output=output.stamp(cfg.output, cfg.state))
        db.execute("UPDATE meta SET value = ? WHERE name = 'state'", (pickle.dumps(stamped),))
    forget(cfg)
    temporary.replace(cfg.state / _FILE)


def _bucket(article_id: str) -> int:
    return zlib.crc32(article_id.encode("utf-8")) % _BUCKETS


def forget(cfg: config.Config) -> None:
    """Drop the saved plan: the next build must be a full one."""
    sqlitefile.drop(cfg.state / _FILE)


def resume(cfg: config.Config, start: Start, memory: Rendered) -> Report | None:
    """Bring the site up to date from the saved plan; None when a full build is needed.

    The walk of the archive (`_changed`: 40-70 ms at 10,000 files) runs in a forked child
    while this process imports what a render needs, about as long.
    """
    try:
        with (
            Forked(True, _changed, cfg) as changes,
            sqlitefile.existing(cfg.state / _FILE) as db,
        ):
            return _resume(cfg, db, start, changes, memory)
    except (sqlite3.Error, _StaleError, output.UnknownSiteError):
        return None  # no plan, or one this version cannot read, or no site: build in full


def _resume(
    cfg: config.Config,
    db: sqlite3.Connection,
    start: Start,
    changes: Forked[dict[str, tuple[int, int]] | None],
    memory: Rendered,
) -> Report | None:
    header, state = _meta(db, "header", "state")
    if not isinstance(header, _Header) or header.version != (__version__, _SCHEMA):
        return None
    if header.settings != start.settings or state.output != output.stamp(cfg.output, cfg.state):
        return None  # the site was written since (by digest serve, say), or by hand
    # What a render needs, imported while the walk runs: an edit is why most builds run.
    from digest import frontmatter, group  # noqa: F401
    from digest.render import plan  # noqa: F401

    frontmatter.loader()
    try:
        changed = changes.result()
    except (OSError, RuntimeError) as exc:  # the full build walks again, and says why
        raise _StaleError(repr(exc)) from exc
    if changed is None:
        return None  # a file came or went
    written = 0
    if changed:
        if len(changed.keys() - state.racy) > _MOST:  # read again, racy files rarely changed
            return None
        done = _redo(cfg, db, header, changed, memory)
        if done is None:
            return None
        written = done
        stamp = output.stamp(cfg.output, cfg.state)
        state = _State(stamp, state.read | changed, _racy(changed, start.time))
        with db:
            db.execute("UPDATE meta SET value = ? WHERE name = 'state'", (pickle.dumps(state),))
    counts = header.counts
    inbox = Tally("inbox", 0, 0, counts.inbox)
    return Report(counts.articles, counts.topics, (inbox,), counts.pages, written, (), ())


def _changed(cfg: config.Config) -> dict[str, tuple[int, int]] | None:
    """The walk, compared with the plan's stat of every file (and of those read since)."""
    with sqlitefile.existing(cfg.state / _FILE) as db:
        state, (rels, numbers) = _meta(db, "state", "stats")
    stats = array("q")
    stats.frombytes(numbers)
    found = archive.walk(cfg.articles) if cfg.articles.is_dir() else []
    seen = {rel: (stat.st_mtime_ns, stat.st_size) for rel, stat in found}
    known = dict(zip(rels, zip(stats[::2], stats[1::2], strict=True), strict=True)) | state.read
    if seen.keys() != known.keys():
        return None
    changed = {} if seen == known else {r: s for r, s in seen.items() if known[r] != s}
    return changed | {rel: seen[rel] for rel in state.racy}


def _pack(stats: dict[str, tuple[int, int]]) -> tuple[list[str], bytes]:
    """The stat of every file as the paths and an array of numbers: marshal reads 10,000
    big integers in 7 ms, and the array's bytes in none."""
    return list(stats), array("q", [n for stat in stats.values() for n in stat]).tobytes()


def _meta(db: sqlite3.Connection, *names: str) -> list[Any]:
    """Rows of the meta table: ``stats`` in marshal (see `_pack`), the others pickled."""
    found = []
    with _reading():
        for name in names:
            (value,) = db.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
            found.append((marshal.loads if name == "stats" else pickle.loads)(value))
    return found


@contextlib.contextmanager
def _reading() -> Iterator[None]:
    """A plan that cannot be read as this version writes it is not to be trusted."""
    try:
        yield
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, KeyError, AttributeError,
            ImportError) as exc:  # fmt: skip
        raise _StaleError(repr(exc)) from exc


def _redo(
    cfg: config.Config,
    db: sqlite3.Connection,
    header: _Header,
    changed: dict[str, tuple[int, int]],
    memory: Rendered,
) -> int | None:
    """Render the files that show the changed files' articles: how many were written.

    None if an edit moved an article or cannot be read. The site is written first,
    then the plan: a crash between the two leaves a plan whose record of the output
    no longer matches, and the next build is full.
    """
    from digest import group
    from digest.render import plan, templates
    from digest.render.pages import Site

    store = _Store(cfg, db)
    edited: dict[str, Stored] = {}
    for rel in changed:
        new = _reread(cfg, rel, store)
        if new is None:
            return None
        edited[new.article.id] = new
    placed = _placed_as(cfg, edited)
    moved = any(placed[i] != store.info[i].placed for i in edited)  # in the stories' eyes
    if moved and not _stories_hold(cfg, edited, store):
        # The full build must read these files, whose stat may not show the edit.
        parsecache.forget(cfg, {rel.rpartition("/")[0] for rel in changed})
        return None
    old = {i: store.keys[i] for i in edited}
    store.edit(edited)
    keys = {
        i: plan.keys_of(s.article, store.paths[i], cfg, store.bodies) for i, s in edited.items()
    }
    store.keys.update(keys)
    try:
        articles = [s.article for s in edited.values()]
        shards = plan.search_shards(cfg, articles, store.keys, store.bodies, complete=False)
    except LookupError:
        return None  # no search index kept
    listed = {i for i in keys if keys[i].shown != old[i].shown}  # as listings show it
    read = {i for i in keys if keys[i].content != old[i].content}  # its body, its image
    pages = (
        listed
        | read
        | {n for i in listed for near in store.info[i].near for n in near[2:] if n}
        | {n for i in listed for n in store.info[i].shown_by}
    )
    numbers = sorted({n for i in listed | read for n in store.info[i].uses})
    listings = [
        (n, s)
        for n, s in store.listings(numbers)
        if listed.intersection(s.shown) or read.intersection(s.full)
    ]
    store.prefetch(i for _, s in listings for i in (*s.shown, *s.full) if i)
    page_key = memory.page_key
    rekeyed = plan.rekey_specs(header.common, [s for _, s in listings], store.keys, page_key)
    store.prefetch(pages)
    specs = [
        plan.article_spec(
            header.common,
            i,
            store.paths[i],
            store.info[i].near,
            store.keys,
            page_key,
            tuple(store.info[i].story),  # type: ignore[arg-type]  # marshal gives what it got
            tuple(store.info[i].related),
        )
        for i in sorted(pages)
    ]
    shelves = [
        group.Topic(title, slug, description, _Shelf(ids, store.articles))
        for title, slug, description, ids in header.topics
    ]
    theme = templates.theme_key(cfg)
    site = Site(
        cfg, store.paths, store.articles, shelves, store.bodies, header.has_sources, theme, memory
    )
    jobs = plan.bind(specs + rekeyed + shards, site)
    done = output.publish(cfg.output, jobs, cfg.state, partial=True)
    with db:
        for i in edited:
            store.info_bucket(i)[i] = tuple(
                store.info[i]._replace(
                    shown=keys[i].shown,
                    content=keys[i].content,
                    month=keys[i].month,
                    placed=placed[i],
                )
            )
        db.executemany(
            "UPDATE article SET data = ? WHERE bucket = ?",
            [(marshal.dumps(store.buckets[b]), b) for b in {_bucket(i) for i in edited}],
        )
        for (n, _), spec in zip(listings, rekeyed, strict=True):
            store.chunks[n // _CHUNK][n % _CHUNK] = spec
        db.executemany(
            "UPDATE listing SET data = ? WHERE chunk = ?",
            [(parsecache.dumps(store.chunks[c]), c) for c in {n // _CHUNK for n, _ in listings}],
        )
        db.executemany(
            "INSERT OR REPLACE INTO record VALUES (?, ?)",
            [(i, parsecache.dumps(item)) for i, item in edited.items()],
        )
    return done.written + done.removed


def _placed_as(cfg: config.Config, edited: dict[str, Stored]) -> dict[str, str]:
    """What the stories would place each edited article as ("" for all without stories)."""
    if not cfg.stories.enabled:
        return dict.fromkeys(edited, "")
    from digest.stories import stage

    bodies = archive.Bodies(edited)
    return {i: stage.placed_as(s.article, bodies) for i, s in edited.items()}


def _stories_hold(cfg: config.Config, edited: dict[str, Stored], store: _Store) -> bool:
    """Place the edited articles in their stories again; whether every story kept its
    reports, copies and outlets (then the saved plan holds, and the new state is saved).

    Otherwise a full build places them (the state on disk is left as it was).
    """
    from digest.stories import stage

    kept = stage.load(cfg)
    if kept is None or kept.settings != cfg.stories:
        return False
    if any(s.article.source != store.stored[i].article.source for i, s in edited.items()):
        return False  # the home page ranks stories by their outlets
    state = kept.state
    before = (state.assignment(), state.copies(), dict(state.merged))
    bodies = archive.Bodies(edited)
    articles = [s.article for s in edited.values()]
    kept, _, changed = stage.update(kept, cfg.stories, articles, bodies, everything=False)
    if not changed:
        return True
    if (state.assignment(), state.copies(), dict(state.merged)) != before:
        return False
    stage.save(cfg, kept)
    return True


def _reread(cfg: config.Config, rel: str, store: _Store) -> Stored | None:
    """An edited file's record, grouped as a full build would; None if it moved or is broken."""
    parsed = archive.parse(cfg, rel)
    if parsed is None:
        return None
    i = parsed.article.id
    if i not in store.info_bucket(i) or store.info[i].rel != rel:
        return None  # its id changed
    from digest import group

    old = store.stored[i].article
    article = group.assign(parsed.article, cfg.topics, lambda _: parsed.body())
    # The same topics as the grouped record, as written: then grouping gives the same names
    # for this article and every other (the first spelling seen of a name is its title).
    if (article.published, article.topics, article.source) != (
        old.published,
        old.topics,
        old.source,
    ):
        return None
    return replace(parsed, article=article)


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
    """The saved plan's articles and listings, read from the database as they are needed."""

    def __init__(self, cfg: config.Config, db: sqlite3.Connection) -> None:
        from digest.render.plan import Keys

        self.cfg, self.db = cfg, db
        self.buckets: dict[int, dict[str, tuple[Any, ...]]] = {}
        self.chunks: dict[int, list[Spec]] = {}
        self.folders: dict[str, dict[str, bytes]] = {}
        self.recorded: set[str] | None = None
        self.info = _Lazy(self._info)
        self.stored = _Lazy(self._record)
        self.articles = _Lazy(lambda i: self.stored[i].article)
        self.paths = _Lazy(lambda i: self.info[i].path)
        self.keys = _Lazy(
            lambda i: Keys(self.info[i].shown, self.info[i].content, self.info[i].month)
        )
        self.bodies = archive.Bodies(self.stored)

    def edit(self, edited: dict[str, Stored]) -> None:
        self.stored.update(edited)
        self.articles.update({i: s.article for i, s in edited.items()})

    def info_bucket(self, i: str) -> dict[str, tuple[Any, ...]]:
        """The row of articles that holds ``i``'s (a marshalled dict, kept to be written back)."""
        bucket = _bucket(i)
        if bucket not in self.buckets:
            self.prefetch((i,))
            if bucket not in self.buckets:
                raise _StaleError(f"no row {bucket} of articles")
        return self.buckets[bucket]

    def prefetch(self, ids: Iterable[str]) -> None:
        """Read the rows that hold ``ids``, those not read yet, in one query: a title edit's
        pages show 300."""
        wanted = sorted({_bucket(i) for i in ids} - self.buckets.keys())
        with _reading():
            for start in range(0, len(wanted), 500):
                part = wanted[start : start + 500]
                marks = ",".join("?" * len(part))
                query = f"SELECT bucket, data FROM article WHERE bucket IN ({marks})"  # noqa: S608
                for bucket, data in self.db.execute(query, part):
                    self.buckets[bucket] = marshal.loads(data)  # noqa: S302 - digest's own file

    def _info(self, i: str) -> _Info:
        with _reading():
            return _Info(*self.info_bucket(i)[i])

    def listings(self, numbers: list[int]) -> list[tuple[int, Spec]]:
        with _reading():
            for chunk in {n // _CHUNK for n in numbers} - self.chunks.keys():
                (data,) = self.db.execute(
                    "SELECT data FROM listing WHERE chunk = ?", (chunk,)
                ).fetchone()
                self.chunks[chunk] = pickle.loads(data)  # noqa: S301 - digest's own file
            return [(n, self.chunks[n // _CHUNK][n % _CHUNK]) for n in numbers]

    def _record(self, i: str) -> Stored:
        """A record as the plan was made (or as a resumed build read it), grouped."""
        with _reading():
            if self.recorded is None:  # a few: those written by the last build and since
                self.recorded = {row for (row,) in self.db.execute("SELECT id FROM record")}
            if i in self.recorded:
                (data,) = self.db.execute("SELECT data FROM record WHERE id = ?", (i,)).fetchone()
                found = pickle.loads(data)  # noqa: S301 - digest's own file
                if not isinstance(found, Stored):
                    raise _StaleError(i)
                return found
            info = self.info[i]
            folder = info.rel.rpartition("/")[0]
            if folder not in self.folders:
                data = parsecache.read(self.cfg, [folder]).get(folder)
                if data is None:
                    raise _StaleError(i)
                self.folders[folder] = parsecache.unpack(data)
            packed = self.folders[folder].get(info.rel)
            entry = None if packed is None else archive.entry(packed)
            if entry is None or entry[:2] != tuple(info.stat):
                raise _StaleError(i)  # the parse cache was written since, after an edit
            stored = entry[2]
            if stored.article.topics == info.topics:  # as written, as most are
                return stored
            return replace(stored, article=replace(stored.article, topics=info.topics))


class _Lazy(dict[str, _V]):
    """A dict that reads a missing entry with ``load`` (and keeps it)."""

    def __init__(self, load: Callable[[str], _V]) -> None:
        super().__init__()
        self.load = load

    def __missing__(self, key: str) -> _V:
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

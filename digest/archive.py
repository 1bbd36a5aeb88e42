"""content/articles: the digest's archive and source of truth.

`load` reads every article file; `persist` stores imported articles, updating
an article in place (same id, same file) when its inbox file changed, and never
overwriting one a person has edited.
"""

from __future__ import annotations

import functools
import hashlib
import os
import pickle
import re
from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from stat import S_ISREG
from typing import NamedTuple
from zoneinfo import ZoneInfo

from digest import atomic, frontmatter, parsecache
from digest.config import Config
from digest.errors import ContentError, Problem
from digest.model import Article
from digest.sources.files import HIDDEN, is_ignored


@dataclass(frozen=True, slots=True)
class Stored:
    """An article file as found on disk, its body left there until it is needed.

    Bodies are nine tenths of an archive: 100,000 articles hold 1.3 GB of text
    in memory, their metadata a tenth of that. So ``article.body`` is empty here;
    `body` reads it, and ``body_key`` tells whether it changed.
    """

    article: Article
    untouched: bool
    """Written by digest and not edited since: digest may rewrite it."""
    file: str
    """Its path; a string, since thousands of these are pickled in the cache."""
    body_key: str
    """A hash of the body, as read."""

    def __reduce__(self) -> tuple[type[Stored], tuple[Article, bool, str, str]]:
        return Stored, (self.article, self.untouched, self.file, self.body_key)  # as Article's

    @classmethod
    def of(cls, article: Article, untouched: bool, file: str) -> Stored:
        return cls(replace(article, body=""), untouched, file, body_key(article.body))

    def text(self) -> str:
        return Path(self.file).read_text(encoding="utf-8")

    def body(self) -> str:
        """The body as it was at `load` (a page needs it again), or an error if it changed.

        A build renders the files as it read them or not at all: pages and the HTML
        kept by body key (`digest.render.Rendered.html`) never mix two versions of a file.
        """
        try:
            body = frontmatter.body(self.text(), Path(self.file))
        except (OSError, UnicodeDecodeError) as exc:
            raise ContentError(
                Problem(self.file, f"cannot read: {exc}", "build again once it is saved")
            ) from None
        if body_key(body) != self.body_key:
            raise ContentError(
                Problem(
                    self.file,
                    "changed while the site was being built",
                    "build again (with --full if this comes back: its size and time are as before)",
                )
            )
        return body


def body_key(body: str) -> str:
    return hashlib.blake2b(body.strip().encode("utf-8"), digest_size=16).hexdigest()


class Bodies:
    """Each article's body by id, read from its file when a page or a feed needs it."""

    def __init__(self, stored: Mapping[str, Stored]) -> None:
        self._stored = stored

    def stored(self, article_id: str) -> Stored:
        return self._stored[article_id]

    def text(self, article: Article) -> str:
        return self._stored[article.id].body()

    def key(self, article: Article) -> str:
        return self._stored[article.id].body_key


class Loaded(NamedTuple):
    """The archive as read: its articles, the files that could not be read, and what they block."""

    stored: list[Stored]
    problems: list[Problem]
    blocked: frozenset[str]
    """Imports (inbox paths, feed item ids) whose article file is broken: importing them
    again would make a second copy, so they wait until the file is fixed."""
    found: Found = ()
    """Every article file with its stat, taken before it was parsed."""


@dataclass(frozen=True, slots=True)
class Persisted:
    """What `persist` did."""

    articles: list[Article]
    """Every article of the archive afterwards, newest first; without bodies (see `Stored`)."""
    bodies: Bodies
    status: dict[str, str]
    """For each import (by inbox path, or by id for a feed item): new, updated or unchanged."""
    notes: list[Problem]
    written: dict[str, tuple[int, int]]
    """The files written, by path in the articles folder: modification time and size."""

    def count(self, keys: Iterable[str], status: str) -> int:
        return sum(1 for key in keys if self.status.get(key) == status)


Entry = tuple[int, int, "Stored"]
"""A parsed file with the modification time and size it was parsed at."""
Found = Sequence[tuple[str, os.stat_result]]
"""Article files by path inside the articles folder, sorted, with their stat."""


@dataclass
class ParsedFiles:
    """Article files parsed by the last load, for a caller that keeps its memory."""

    entries: dict[str, Entry] = field(default_factory=dict)
    """Parsed files by path inside the articles folder."""
    found: Found | None = None
    """The last walk of the articles folder."""
    scope: tuple[str, str] = ("", "")
    """The articles folder and the timezone the entries were read for (dates are read in
    it): when digest.toml changes either, the entries are dropped."""


_Chunk = tuple[bytes, dict[str, Entry]]
"""One folder's entries, pickled and as read: an unchanged folder is written back as is."""
_PARALLEL = 400
"""Files to parse from which parsing is spread over processes."""


def load(
    config: Config,
    memory: ParsedFiles | None = None,
    *,
    workers: int = 1,
    changed: Collection[Path] | None = None,
    progress: bool = False,
    everything: bool = False,
) -> Loaded:
    """Read every ``.md`` file under the articles folder; bad ones become problems.

    Parsed files are remembered in ``.digest/articles.sqlite`` by size and
    modification time, one pickled chunk per folder (``2022/09/``), so a rebuild
    parses only the files that changed and writes back the other folders' bytes
    as they were. A long-running caller (``digest serve``) passes ``memory``
    instead, kept between calls, and the file is neither read nor written; when
    it also says which paths ``changed`` since its last call, only those are
    looked at again instead of walking the whole folder. ``progress`` shows a
    bar on the terminal while files are parsed.
    Many files are parsed over ``workers`` processes, a folder each; each sends
    back its folder pickled, which is also what the cache stores.
    """
    if not config.articles.is_dir():
        return Loaded([], [], frozenset())
    if memory is not None and memory.scope != (str(config.articles), str(config.timezone)):
        memory.entries, memory.found = {}, None
        memory.scope = (str(config.articles), str(config.timezone))
    # ``everything`` (digest build --full) trusts no stat: a file saved with its old size and
    # modification time (restored by a copy, say) is read again.
    chunks: dict[str, _Chunk] = {} if memory is not None or everything else _read_cache(config)
    known = (
        memory.entries
        if memory is not None
        else {r: e for _, c in chunks.values() for r, e in c.items()}
    )
    found = None
    if memory is not None and memory.found is not None and changed is not None:
        found = _rewalk(config.articles, memory.found, changed)
    if found is None:
        found = sorted(walk(config.articles))
    # A file serve was told of is read again even if its stat did not change: two saves
    # within one tick of the file system's clock, the second of the same size.
    told = {
        p.relative_to(config.articles).as_posix()
        for p in changed or ()
        if config.articles in p.parents
    }
    fresh: dict[str, Entry] = {}
    todo: dict[str, list[tuple[str, int, int]]] = {}
    for rel, stat in found:
        hit = known.get(rel)
        if hit and hit[:2] == (stat.st_mtime_ns, stat.st_size) and rel not in told:
            fresh[rel] = hit
        else:
            todo.setdefault(_folder(rel), []).append((rel, stat.st_mtime_ns, stat.st_size))
    problems: list[Problem] = []
    blocked: set[str] = set()
    whole: dict[str, bytes] = {}  # folders parsed entire and without a fault: their chunk
    sizes = Counter(_folder(rel) for rel, _ in found) if todo and memory is None else Counter()
    base = _Base(str(config.articles), str(config.root), str(config.timezone))
    results = _parse_folders(base, list(todo.values()), workers)
    from tqdm import tqdm

    bar = tqdm(  # not for the few files of a rebuild
        total=sum(map(len, todo.values())),
        desc="reading",
        unit="file",
        leave=False,
        disable=not (progress and len(todo) > 1),
    )
    for folder, (data, failed) in zip(todo, results, strict=True):
        bar.update(len(todo[folder]))
        fresh.update(unpickle(data))
        for problem_list, keys in failed:
            problems.extend(problem_list)
            blocked.update(keys)
        if not failed and len(todo[folder]) == sizes[folder]:
            whole[folder] = data
    bar.close()
    if memory is not None:
        memory.entries, memory.found = fresh, found
    else:
        _write_cache(config, found, fresh, chunks, set(todo), whole)
    stored = [fresh[rel][2] for rel, _ in found if rel in fresh]
    return Loaded(_unique_ids(stored, problems, config), problems, frozenset(blocked), found)


def walk(top: Path) -> list[tuple[str, os.stat_result]]:
    """Every article file under ``top``, with its stat (os.scandir: no extra stat); unsorted."""
    found: list[tuple[str, os.stat_result]] = []
    folders = [(str(top), "")]
    while folders:
        folder, prefix = folders.pop()
        with os.scandir(folder) as entries:
            for entry in entries:
                name = entry.name
                # is_ignored, for a name that ends in .md: the walk's most run line
                if name.endswith(".md") and not name.startswith(HIDDEN) and not entry.is_dir():
                    try:
                        found.append((prefix + name, entry.stat()))
                    except OSError:  # a broken link: reading it will say so
                        found.append((prefix + name, entry.stat(follow_symlinks=False)))
                elif not name.startswith(".") and entry.is_dir(follow_symlinks=False):
                    folders.append((entry.path, f"{prefix}{name}/"))
    return found


def _rewalk(top: Path, found: Found, changed: Collection[Path]) -> Found | None:
    """The last walk with the changed files looked at again; None if a folder changed.

    A folder, the articles folder itself or one above it: what it holds is unknown.
    """
    files = dict(found)
    for path in changed:
        if path == top or path in top.parents:
            return None
        if top not in path.parents:
            continue  # the settings, a template or the inbox
        rel = path.relative_to(top)
        if not path.name.endswith(".md") or any(part.startswith(".") for part in rel.parts):
            return None  # a folder came, went or moved: what it held is unknown
        try:
            stat = path.stat()
        except OSError:
            files.pop(rel.as_posix(), None)
            continue
        if not S_ISREG(stat.st_mode):
            return None
        if not is_ignored(path.name):
            files[rel.as_posix()] = stat
    return sorted(files.items())


def _folder(rel: str) -> str:
    return rel.rpartition("/")[0]


_Failure = tuple[list[Problem], list[str]]
"""A file that could not be parsed: the problems, and the imports it stands for."""


class _Base(NamedTuple):
    """Where the files are and how to read their dates: what each parsing worker needs."""

    articles: str
    root: str
    timezone: str


def _parse_folders(
    base: _Base, folders: list[list[tuple[str, int, int]]], workers: int
) -> Iterator[tuple[bytes, list[_Failure]]]:
    """Parse each folder's files: the good ones pickled, and the failures."""
    parse = functools.partial(_parse_folder, base)  # pickled to each task: three strings
    if workers < 2 or len(folders) < 2 or sum(map(len, folders)) < _PARALLEL:
        yield from map(parse, folders)
        return
    import multiprocessing  # here: a resumed build parses its few files in-process

    if "fork" not in multiprocessing.get_all_start_methods():
        yield from map(parse, folders)
        return
    context = multiprocessing.get_context("fork")
    with context.Pool(min(workers, len(folders))) as pool:
        yield from pool.imap(parse, folders)


def _parse_folder(base: _Base, files: list[tuple[str, int, int]]) -> tuple[bytes, list[_Failure]]:
    articles, root, zone = base
    timezone = ZoneInfo(zone)
    shown = Path(articles).relative_to(root)  # how messages name the folder
    entries: dict[str, Entry] = {}
    failed: list[_Failure] = []
    for rel, mtime, size in files:
        result = _parse_one(articles, shown, rel, timezone)
        if isinstance(result, Stored):
            entries[rel] = (mtime, size, result)
        else:
            failed.append(result)
    return parsecache.pack(entries), failed


def parse(config: Config, rel: str) -> Stored | None:
    """One article file, read again (digest.rebuild); None if it cannot be parsed."""
    shown = config.articles.relative_to(config.root)
    found = _parse_one(str(config.articles), shown, rel, config.timezone)
    return found if isinstance(found, Stored) else None


def _parse_one(articles: str, folder: Path, rel: str, timezone: ZoneInfo) -> Stored | _Failure:
    """Parse one article file, or say why not and which import it stands for."""
    path = Path(f"{articles}/{rel}")
    shown = folder / rel
    text = ""
    try:
        text = path.read_text(encoding="utf-8")
        article = frontmatter.parse(text, shown, rel, timezone)
    except UnicodeDecodeError:
        return [Problem(shown, "not UTF-8 text", "save the file as UTF-8")], []
    except OSError as exc:
        return [Problem(shown, f"cannot read: {exc.strerror}", "check the file")], []
    except ContentError as exc:
        # The file may still say which inbox file or feed item it came from.
        keys = re.findall(r"^(?:  path: (\S.*)|id: (\S+))$", text, re.MULTILINE)
        return list(exc.problems), [a or b for a, b in keys]
    return Stored.of(article, frontmatter.is_untouched(text), str(path))


def _read_cache(config: Config) -> dict[str, _Chunk]:
    try:
        return {folder: (data, unpickle(data)) for folder, data in parsecache.read(config).items()}
    except (pickle.UnpicklingError, EOFError, AttributeError, ValueError, TypeError, KeyError):
        return {}


def entry(data: bytes) -> Entry:
    found: Entry = pickle.loads(data)  # noqa: S301 - digest's own file in .digest/
    return found


def unpickle(data: bytes) -> dict[str, Entry]:
    """A packed folder's entries, read."""
    return {rel: entry(one) for rel, one in parsecache.unpack(data).items()}


def _write_cache(
    config: Config,
    found: Found,
    fresh: dict[str, Entry],
    chunks: dict[str, _Chunk],
    reparsed: set[str],
    whole: dict[str, bytes],
) -> None:
    """Store each folder's entries; a folder whose entries are as read keeps its bytes."""
    current: dict[str, dict[str, Entry]] = {}
    for rel, _ in found:
        if rel in fresh:
            current.setdefault(_folder(rel), {})[rel] = fresh[rel]
    folders: dict[str, bytes] = {}
    for folder, entries in current.items():
        old = chunks.get(folder)
        if old is not None and folder not in reparsed and old[1].keys() == entries.keys():
            folders[folder] = old[0]  # the same files, none parsed again: the same entries
        elif folder in whole:
            folders[folder] = whole[folder]
        else:
            folders[folder] = parsecache.pack(entries)
    before = {f: c[0] for f, c in chunks.items()}
    if folders != before:
        parsecache.write(config, folders, before)


def _unique_ids(stored: list[Stored], problems: list[Problem], config: Config) -> list[Stored]:
    """Keep the first file of each id; a copied file would make two feed items one."""
    first: dict[str, str] = {}
    kept = []
    for item in stored:
        owner = first.setdefault(item.article.id, item.article.path)
        if owner == item.article.path:
            kept.append(item)
            continue
        problems.append(
            Problem(
                config.articles.relative_to(config.root) / item.article.path,
                f"id {item.article.id} is already used by {owner}",
                "remove the id line so digest mints a new one, or delete the copy",
            )
        )
    return kept


def key(article: Article) -> str:
    """How an import is known across builds: its inbox file, or a feed item's id."""
    return article.origin.path if article.origin and article.origin.path else article.id


def persist(
    config: Config, imported: Iterable[Article], loaded: Loaded, *, now: datetime
) -> Persisted:
    """Store imported articles; return every article of the archive afterwards.

    An inbox file's article is found again by the file's path, a feed item's by
    its id. The same article from a second feed (same canonical URL) is stored
    once, with the second source added to ``also``. A changed feed item keeps
    its id and publication date and gets ``updated`` bumped (to the feed's
    value, else ``now``). A file a person edited is never rewritten.
    """
    archive = _Index(config, loaded.stored)
    status: dict[str, str] = {}
    notes: list[Problem] = []
    for article in imported:
        origin = article.origin
        if origin is None:  # only imports come here; they always have one
            continue
        name = key(article)
        if name in loaded.blocked:
            notes.append(
                Problem(
                    origin.path or article.feed,
                    "not imported again: its article file is broken",
                    "fix that file (see above); digest will not make a second copy",
                )
            )
            continue
        old = archive.by_origin.get(origin.path) if origin.path else archive.by_id.get(article.id)
        if old is None:
            twin = archive.by_id.get(article.id) or archive.by_url.get(article.url or "-")
            if twin is None:
                article = replace(article, path=_free_path(article, archive.by_path, config))
                archive.save(article, frontmatter.dump(article))
                status[name] = "new"
            elif article.feed and twin.article.feed:
                status[name] = "unchanged"
                also = (*twin.article.also, article.source)
                if twin.untouched and article.source not in (
                    twin.article.source,
                    *twin.article.also,
                ):
                    merged = replace(twin.article, also=also, body=twin.body())
                    archive.save(merged, frontmatter.dump(merged))
                    status[name] = "updated"
            else:
                notes.append(
                    Problem(
                        origin.path or article.feed,
                        f"same article as {twin.article.path}; not imported",
                    )
                )
            continue
        article = replace(article, id=old.article.id, path=old.article.path)
        incoming = article.updated
        if article.feed:  # keep what was decided when the item was first seen
            article = replace(
                article,
                published=old.article.published,
                updated=old.article.updated,
                also=old.article.also,
            )
        text = frontmatter.dump(article)
        if text == old.text():
            status[name] = "unchanged"
            continue
        if not old.untouched:
            status[name] = "unchanged"
            if old.article.origin and old.article.origin.sha256 != origin.sha256:
                notes.append(
                    Problem(
                        config.articles.relative_to(config.root) / old.article.path,
                        "edited by hand, so not updated from the changed "
                        + (origin.path or article.feed),
                        "delete the article file to import the new version",
                    )
                )
            continue
        if article.feed:
            floor = old.article.updated or old.article.published
            article = replace(article, updated=incoming if incoming and incoming > floor else now)
            text = frontmatter.dump(article)
        archive.save(article, text)
        status[name] = "updated"
    articles = [s.article for s in archive.by_path.values()]
    articles.sort(key=lambda a: (a.published.timestamp(), a.id), reverse=True)
    bodies = Bodies({s.article.id: s for s in archive.by_path.values()})
    return Persisted(articles, bodies, status, notes, archive.written)


class _Index:
    """The stored articles by path, id, inbox file and URL, kept current as files are saved."""

    def __init__(self, config: Config, stored: list[Stored]) -> None:
        self.config = config
        self.by_path = {s.article.path: s for s in stored}
        self.by_id = {s.article.id: s for s in stored}
        self.by_origin = {
            s.article.origin.path: s for s in stored if s.article.origin and s.article.origin.path
        }
        self.by_url = {s.article.url: s for s in stored if s.article.url}
        self.written: dict[str, tuple[int, int]] = {}

    def save(self, article: Article, text: str) -> None:
        stat = atomic.write_text(self.config.articles / article.path, text)
        self.written[article.path] = (stat.st_mtime_ns, stat.st_size)
        item = Stored.of(article, True, str(self.config.articles / article.path))
        self.by_path[article.path] = item
        self.by_id[article.id] = item
        if article.origin and article.origin.path:
            self.by_origin[article.origin.path] = item
        if article.url:
            self.by_url[article.url] = item


def _free_path(article: Article, taken: dict[str, Stored], config: Config) -> str:
    """``YYYY/MM/slug.md``, unique; the slug comes from the untrusted title, made safe."""
    from slugify import slugify

    stem = slugify(article.title, max_length=80, word_boundary=True) or article.id[:8]
    folder = f"{article.published:%Y/%m}"
    for candidate in (f"{folder}/{stem}.md", f"{folder}/{stem}-{article.id[:8]}.md"):
        if candidate not in taken and not (config.articles / candidate).exists():
            return candidate
    return f"{folder}/{article.id}.md"

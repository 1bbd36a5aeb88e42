"""The output folder: render what changed, write it atomically, in parallel.

A first build (or one whose record of the last build is gone) renders every
file into a folder beside the output and swaps the two with renames. Later
builds render only the files whose `Job.key` changed, stage them beside the
output, write a journal of the moves, and move them in: a crash while moving
is finished by the next run, and Ctrl-C waits the milliseconds the moves
take. Either way no reader of ``site/`` ever sees half a build, and a file
whose bytes did not change keeps its timestamp.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import gc
import json
import os
import pickle
import re
import shutil
import signal
import sqlite3
import sys
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import IO, TYPE_CHECKING, Any, NamedTuple

from digest import atomic, sqlitefile
from digest.errors import OutputError, Problem

if TYPE_CHECKING:
    from digest.render.plan import Job

_MANIFEST = "pages.sqlite"
_TABLES = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS page (path TEXT PRIMARY KEY, key TEXT NOT NULL) WITHOUT ROWID;
"""
_JOURNAL = ".journal.json"
_MARKER = ".digest-output"
"""The file that marks an output folder as digest's to replace (see `_check_ours`)."""
_CHUNK = 128
"""Pages a worker renders per task: large enough to amortise, small enough to balance."""
_FORK_FROM = 2000
"""Files to render from which forked workers pay: each starts by copying the pages of the
parent's heap that it touches (records' reference counts), about a second of CPU at
10,000 articles, while a page costs about a millisecond. Adding 200 articles to 10,000
renders some 800 files: 4.8 s in one process, 6.4 s over two workers."""


_Record = dict[str, tuple[int, str, dict[str, str]]]
"""The record of keys by its file, with the modification time and output folder it had."""


class UnknownSiteError(Exception):
    """A partial publish (digest.rebuild) found no site, or no record of its keys."""


class Published(NamedTuple):
    """What a build did to the output folder."""

    written: int
    removed: int


def publish(
    out: Path,
    jobs: list[Job],
    state: Path,
    *,
    workers: int = 1,
    progress: bool = False,
    verify: bool = True,
    partial: bool = False,
    memory: _Record | None = None,
) -> Published:
    """Make ``out`` hold exactly the files of ``jobs``, doing as little as possible.

    With ``verify``, a file missing from ``out`` is written again even if its key
    did not change; a long-running caller, the only writer of ``out`` while it runs,
    saves the stat of every file. With ``partial``, ``jobs`` are some of the
    site's files (a resumed build): the others stay as they are. ``memory`` keeps
    the record of keys between calls (`digest.memory.Memory.published`).
    """
    memory = {} if memory is None else memory
    recover(out)
    previous = (
        _known(state, out, [job.path for job in jobs]) if partial else _load(state, out, memory)
    )
    for job in jobs:
        if previous is None or job.path not in previous:  # the others passed before
            _check(job.path)
    if partial and (previous is None or not out.is_dir()):
        raise UnknownSiteError(out)
    keys = {job.path: job.key for job in jobs}
    if previous is None or not out.is_dir():
        _check_ours(out)
        written = _full(out, jobs, workers, progress)
        _save(state, out, keys, [], whole=True, memory=memory)
        return Published(written, 0)
    written, removed, moved = _incremental(
        out, jobs, state, previous, workers, progress, verify, partial, memory
    )
    if not partial:
        _mark(out)  # a site made before the marker existed
    changed = {p: k for p, k in keys.items() if previous.get(p) != k or p in moved}
    gone = [] if partial else [p for p in previous if p not in keys]
    if changed or gone:
        _save(
            state, out, changed, gone, whole=False, memory=memory, cached=None if partial else keys
        )
    return Published(written, removed)


@contextlib.contextmanager
def one_build(state: Path) -> Iterator[None]:
    """Hold the project's lock for a build: two at once would move files under each other.

    The lock is the operating system's (flock, or msvcrt on Windows), so it goes with
    the process that held it, however that ends; the file says who holds it.
    """
    state.mkdir(parents=True, exist_ok=True)
    path = state / "lock"
    with path.open("a+", encoding="utf-8") as file:
        try:
            _lock(file)
        except OSError:
            file.seek(0)
            holder = file.read().strip() or "another build"
            raise OutputError(
                Problem(path, f"{holder} is running in this project", "wait for it to end")
            ) from None
        file.truncate(0)
        file.write(f"build {os.getpid()} (started {datetime.now():%Y-%m-%d %H:%M:%S})\n")
        file.flush()
        try:
            yield
        except OSError as exc:
            if exc.errno not in _CANNOT_WRITE:
                raise
            where, (what, how) = exc.filename or state, _CANNOT_WRITE[exc.errno]
            raise OutputError(Problem(where, what, how)) from None
        except sqlite3.OperationalError as exc:
            if not any(word in str(exc) for word in ("full", "readonly", "disk I/O", "open")):
                raise
            what = f"digest cannot write its records here ({exc})"
            raise OutputError(Problem(state, what, _CANNOT_WRITE[errno.ENOSPC][1])) from None
        finally:
            file.truncate(0)


_FULL = ("no space left on the device", "free some space, then build again")
_CANNOT_WRITE = {
    errno.ENOSPC: _FULL,
    errno.EDQUOT: _FULL,
    errno.EROFS: ("the file system is read-only", "make it writable, or choose another folder"),
    errno.EACCES: ("permission denied", "make it writable (chmod u+w), or choose another folder"),
    errno.EPERM: ("permission denied", "make it writable (chmod u+w), or choose another folder"),
}
"""What a failed write means for the user, and what to do, by errno: the build's files are
written to a temporary name or folder first, so none is lost or half-written."""


def _lock(file: IO[str]) -> None:
    """Take the lock on ``file`` without waiting; OSError if another process holds it."""
    if sys.platform == "win32":
        import msvcrt

        file.seek(0)
        msvcrt.locking(file.fileno(), msvcrt.LK_NBLCK, 1)
    else:
        import fcntl

        fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)


def stamp(out: Path, state: Path) -> tuple[object, ...] | None:
    """What tells that the output is as the last build left it (digest.rebuild trusts it).

    The record of its keys, which every build that writes rewrites; and the
    folders of its top three levels, which a folder or page deleted by hand changes
    (``rm -r site/*``, ``site/topics``, one article's folder). A page file deleted
    inside its own folder is not seen: ``digest build --full`` writes it again.
    """
    try:
        record = (state / _MANIFEST).stat()
        folders = [(str(out), out.stat().st_mtime_ns)]
        level = [str(out)]
        for _ in range(2):
            below = []
            for folder in level:
                with os.scandir(folder) as entries:
                    for entry in entries:
                        if entry.is_dir(follow_symlinks=False) and not entry.name.startswith("."):
                            below.append(entry.path)
                            folders.append(
                                (entry.path, entry.stat(follow_symlinks=False).st_mtime_ns)
                            )
            level = below
    except OSError:
        return None
    return (record.st_ino, record.st_mtime_ns, record.st_size, sorted(folders))


_UNSAFE = re.compile(r"^/|\\|(?:^|/)\.{0,2}(?:/|$)")
"""A path that is absolute, has a backslash, or an empty, ``.`` or ``..`` segment."""


def _check(path: str) -> None:
    """Paths come from slugs; this is the last guard that none leaves the output folder."""
    if not path or _UNSAFE.search(path):
        raise ValueError(f"refusing to write outside the output folder: {path}")


def _check_ours(out: Path) -> None:
    """A full build replaces the whole output folder: refuse one that holds files digest
    did not make (no marker, no record), e.g. ``output = "docs"`` naming the user's docs."""
    if (out / _MARKER).is_file() or not out.is_dir():
        return
    if any(not entry.name.startswith(".") for entry in out.iterdir()):
        raise OutputError(
            Problem(
                out,
                "this folder holds files digest did not make, and a build would replace them",
                "empty it or set output in digest.toml to another folder",
            )
        )


def _mark(folder: Path) -> None:
    marker = folder / _MARKER
    if not marker.is_file():
        marker.write_text("This folder is made by digest build.\n", encoding="utf-8")


def _full(out: Path, jobs: list[Job], workers: int, progress: bool) -> int:
    new, old = out.with_name(f".{out.name}.new"), out.with_name(f".{out.name}.old")
    shutil.rmtree(new, ignore_errors=True)
    shutil.rmtree(old, ignore_errors=True)
    new.mkdir(parents=True)
    try:
        written = _render(jobs, new, out, workers, progress, link_same=True)
        _mark(new)
        current = _visible(out)
        if not written and current == {job.path for job in jobs}:
            return 0  # an identical site: leave it, timestamps and all
        _swap(out, new, old)
    finally:
        shutil.rmtree(new, ignore_errors=True)
    shutil.rmtree(old, ignore_errors=True)
    return max(written, 1)  # at least the swap: files may have gone


def _swap(out: Path, new: Path, old: Path) -> None:
    """Put ``new`` in the place of ``out``, hidden entries (a ``.git`` used for publishing,
    say) carried over; on failure ``out`` is as it was, hidden entries and all."""
    hidden = [e.name for e in out.iterdir() if e.name.startswith(".")] if out.exists() else []
    moved: list[str] = []
    try:
        for name in hidden:
            (out / name).replace(new / name)
            moved.append(name)
        if out.exists():
            out.replace(old)
        new.replace(out)
    except BaseException as exc:
        if old.exists() and not out.exists():
            old.replace(out)
        for name in moved:
            (new / name).replace(out / name)
        if not isinstance(exc, OSError) or exc.errno not in (errno.EXDEV, errno.EBUSY):
            raise
        _fill(out, new)  # the output folder is a mount point (a bind mount): file by file


def _fill(out: Path, new: Path) -> None:
    """Make ``out`` hold the visible files of ``new``, each moved (or copied) in, then
    the files it held and ``new`` does not removed."""
    keep = _visible(new)
    for path in sorted(keep):
        (out / path).parent.mkdir(parents=True, exist_ok=True)
        _move(new / path, out / path)
    for path in _visible(out) - keep:
        (out / path).unlink()
    _mark(out)


def _move(source: Path, target: Path) -> None:
    """Rename ``source`` to ``target``; across file systems, copy it beside it and rename."""
    try:
        source.replace(target)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        temporary = target.with_name(f".{target.name}.digest-copy")
        shutil.copyfile(source, temporary)
        temporary.replace(target)
        source.unlink()


def _incremental(
    out: Path,
    jobs: list[Job],
    state: Path,
    previous: dict[str, str],
    workers: int,
    progress: bool,
    verify: bool,
    partial: bool,
    memory: _Record,
) -> tuple[int, int, set[str]]:
    """Render the jobs whose key changed; written, removed, and the paths moved or deleted."""
    top = str(out)
    todo = [
        job
        for job in jobs
        if previous.get(job.path) != job.key or (verify and not os.path.isfile(f"{top}/{job.path}"))  # noqa: PTH113 - 11,000 of them
    ]
    paths = {job.path for job in jobs}
    deletes = (
        [] if partial else sorted(p for p in previous if p not in paths and (out / p).exists())
    )
    if not todo and not deletes:
        return 0, 0, set()
    stage = _stage(out)
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir(parents=True)
    try:
        written = _render(todo, stage, out, workers, progress, link_same=False)
        moves = sorted(str(p.relative_to(stage).as_posix()) for p in _files(stage))
        journal = stage / _JOURNAL
        # From here on, the next run finishes what this one started.
        atomic.write_text(journal, json.dumps({"moves": moves, "deletes": deletes}))
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    # The record of these files' keys is the old site's until it is saved again: with no
    # key (""), a crash after the moves makes the next build render them again, not trust
    # them, and delete those it no longer has (a page a date edit moved, then undone).
    _save(state, out, dict.fromkeys(moves, ""), deletes, whole=False, memory=memory)
    _apply(out, stage)
    return written, len(deletes), {*moves, *deletes}


def recover(out: Path) -> None:
    """Finish or undo what an interrupted build left beside the output folder."""
    old = out.with_name(f".{out.name}.old")
    if old.exists() and not out.exists():  # stopped between the two renames of a swap
        old.replace(out)
        new = out.with_name(f".{out.name}.new")
        for entry in new.iterdir() if new.is_dir() else ():
            if entry.name.startswith(".") and not (out / entry.name).exists():
                entry.replace(out / entry.name)  # the hidden entries it had carried over
    stage = _stage(out)
    if (stage / _JOURNAL).is_file():
        _apply(out, stage)
    shutil.rmtree(stage, ignore_errors=True)


def _stage(out: Path) -> Path:
    return out.with_name(f".{out.name}.stage")


def _apply(out: Path, stage: Path) -> None:
    """Carry out a journal: move staged files in, delete stale ones. Ctrl-C waits for it."""
    plan = json.loads((stage / _JOURNAL).read_text(encoding="utf-8"))
    with _deferred_interrupt():
        for path in plan["moves"]:
            source = stage / path
            if source.is_file():
                (out / path).parent.mkdir(parents=True, exist_ok=True)
                _move(source, out / path)
        for path in plan["deletes"]:
            target = out / path
            target.unlink(missing_ok=True)
            for parent in target.parents:
                if parent == out or any(parent.iterdir()):
                    break
                parent.rmdir()
        shutil.rmtree(stage, ignore_errors=True)


@contextlib.contextmanager
def _deferred_interrupt() -> Iterator[None]:
    """Hold Ctrl-C until the block is done, then raise it."""
    caught: list[int] = []

    def hold(signum: int, frame: FrameType | None) -> None:
        caught.append(signum)

    try:
        previous = signal.signal(signal.SIGINT, hold)
    except ValueError:  # not the main thread (digest serve): nothing to defer
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught:
        raise KeyboardInterrupt


# ---------------------------------------------------------------------------
# Rendering, over processes when there is much to do
# ---------------------------------------------------------------------------


class _Work(NamedTuple):
    """A render's jobs and where they go: what each worker process is started with."""

    jobs: list[Job]
    target: Path
    current: Path
    link_same: bool


def _render(
    jobs: list[Job], target: Path, current: Path, workers: int, progress: bool, *, link_same: bool
) -> int:
    """Render ``jobs`` into ``target``; return how many differ from ``current``.

    A file whose bytes are those in ``current`` is hard-linked (``link_same``)
    or left out of ``target``.
    """
    work = _Work(jobs, target, current, link_same)
    chunks = [(start, min(start + _CHUNK, len(jobs))) for start in range(0, len(jobs), _CHUNK)]
    if not progress:  # and tqdm is not imported: 0.05 s, a third of a one-page rebuild
        return _render_all(work, chunks, workers, lambda _: None)
    from tqdm import tqdm

    with tqdm(total=len(jobs), desc="rendering", unit="file", leave=False) as bar:
        return _render_all(work, chunks, workers, bar.update)


def _render_all(
    work: _Work, chunks: list[tuple[int, int]], workers: int, done: Callable[[int], object]
) -> int:
    """Render every chunk, over forked processes when there are several; ``done`` is told
    how many files each chunk held."""
    if workers > 1 and len(work.jobs) >= _FORK_FROM and _can_fork():
        return _render_forked(work, chunks, min(workers, len(chunks)), done)
    written = 0
    for chunk in chunks:
        written += _render_chunk(work, chunk)
        done(chunk[1] - chunk[0])
    return written


def _render_forked(
    work: _Work, chunks: list[tuple[int, int]], processes: int, done: Callable[[int], object]
) -> int:
    """Render ``chunks`` over forked processes started with ``work``.

    Under fork the jobs, their records and the templates are the parent's pages,
    neither pickled nor copied. Every object is first moved to a generation the
    collector leaves alone, so the workers do not touch (and so copy) the whole
    inherited heap; they stay there as long as the build (see build.build).
    """
    import multiprocessing
    import queue

    gc.freeze()
    context = multiprocessing.get_context("fork")
    tasks: Any = context.SimpleQueue()
    results: Any = context.Queue()
    for chunk in chunks:
        tasks.put(chunk)
    for _ in range(processes):
        tasks.put(None)
    started = [
        context.Process(target=_worker, args=(work, tasks, results), daemon=True)
        for _ in range(processes)
    ]
    for process in started:
        process.start()
    written = 0
    try:
        for _ in chunks:
            while True:
                try:
                    outcome = results.get(timeout=0.5)
                    break
                except queue.Empty:
                    if any(p.exitcode not in (None, 0) for p in started):
                        raise RuntimeError("a rendering process died") from None
            if isinstance(outcome, BaseException):
                raise outcome
            size, count = outcome
            written += count
            done(size)
    finally:
        for process in started:
            process.join(timeout=5)
            if process.is_alive():
                process.terminate()
                process.join()
        results.close()
    return written


def _worker(work: _Work, tasks: Any, results: Any) -> None:
    """A worker process: render chunks until told to stop; an error is sent back, once."""
    while (chunk := tasks.get()) is not None:
        try:
            results.put((chunk[1] - chunk[0], _render_chunk(work, chunk)))
        except BaseException as exc:  # the parent raises it, as the build's error
            try:
                pickle.dumps(exc)
            except Exception:  # whatever cannot travel is named
                exc = RuntimeError(repr(exc))
            results.put(exc)
            return


def _render_chunk(work: _Work, chunk: tuple[int, int]) -> int:
    jobs, target, current, link_same = work
    written = 0
    compare = current.is_dir()  # a first build has nothing to compare with
    for job in jobs[chunk[0] : chunk[1]]:
        data = job.make()
        existing = current / job.path
        destination = target / job.path
        same = False
        with contextlib.suppress(OSError):
            same = (
                compare and existing.stat().st_size == len(data) and existing.read_bytes() == data
            )
        if same and not link_same:
            continue
        destination.parent.mkdir(parents=True, exist_ok=True)
        if same:
            try:
                os.link(existing, destination)
            except OSError:  # another file system, or no hard links there: write it
                _write(destination, data)
        else:
            _write(destination, data)
            written += 1
    return written


_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0)


def _write(path: Path, data: bytes) -> None:
    """Path.write_bytes in three system calls instead of six (no fstat for a buffer, no tty
    check, no seek): a build writes tens of thousands of files."""
    fd = os.open(path, _FLAGS, 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)


# ---------------------------------------------------------------------------
# The record of the last build
# ---------------------------------------------------------------------------


def _load(state: Path, out: Path, memory: _Record) -> dict[str, str] | None:
    """The keys of the files the last build wrote to ``out``; None when unknown.

    ``memory`` keeps the record as last read or written whole, by path, with its
    modification time and output folder: a long-running caller reads it once.
    """
    path = state / _MANIFEST
    try:
        stamp = path.stat().st_mtime_ns
        known = memory.get(str(path))
        if known and known[:2] == (stamp, str(out)):
            return known[2]
        with sqlitefile.existing(path) as db:
            if not _for(db, out):
                return None
            keys = dict(db.execute("SELECT path, key FROM page"))
    except (OSError, sqlite3.Error, TypeError, ValueError):
        return None
    memory[str(path)] = (stamp, str(out), keys)
    return keys


def _known(state: Path, out: Path, paths: list[str]) -> dict[str, str] | None:
    """The last build's keys of some files only (digest.rebuild): a few rows of 10,000."""
    try:
        with sqlitefile.existing(state / _MANIFEST) as db:
            if not _for(db, out):
                return None
            query = "SELECT key FROM page WHERE path = ?"
            rows = ((p, db.execute(query, (p,)).fetchone()) for p in paths)
            return {p: row[0] for p, row in rows if row is not None}
    except (sqlite3.Error, TypeError, ValueError):
        return None


def _for(db: sqlite3.Connection, out: Path) -> bool:
    row = db.execute("SELECT value FROM meta WHERE name = 'out'").fetchone()
    return row is not None and row[0] == str(out)


def _save(
    state: Path,
    out: Path,
    keys: dict[str, str],
    gone: list[str],
    *,
    whole: bool,
    memory: _Record,
    cached: dict[str, str] | None = None,
) -> None:
    """Record ``keys`` and forget ``gone``; ``whole``: these are all the keys there are.

    Only rows that changed are written: a rebuild of one page writes one row, not
    11,000. ``cached`` is the whole record after this change, for `_load` to keep.
    """
    state.mkdir(parents=True, exist_ok=True)
    path = state / _MANIFEST
    memory.pop(str(path), None)
    sqlitefile.write(
        path, functools.partial(_write_keys, out=out, keys=keys, gone=gone, whole=whole)
    )
    record = keys if whole else cached
    if record is not None:
        memory[str(path)] = (path.stat().st_mtime_ns, str(out), record)


def _write_keys(
    db: sqlite3.Connection, *, out: Path, keys: dict[str, str], gone: list[str], whole: bool
) -> None:
    db.executescript(_TABLES)
    if whole:
        db.execute("DELETE FROM page")
        db.execute("INSERT OR REPLACE INTO meta VALUES ('out', ?)", (str(out),))
    elif not _for(db, out):
        return  # no record of this site to change: a few keys would hide the other files
    db.executemany("DELETE FROM page WHERE path = ?", ((p,) for p in gone))
    db.executemany("INSERT OR REPLACE INTO page VALUES (?, ?)", keys.items())


def _files(folder: Path) -> Iterator[Path]:
    for dirpath, _, filenames in os.walk(folder):
        for name in filenames:
            if name != _JOURNAL:
                yield Path(dirpath) / name


def _visible(folder: Path) -> set[str]:
    """Files under ``folder``, hidden top-level entries left out."""
    if not folder.is_dir():
        return set()
    found = set()
    for path in _files(folder):
        rel = path.relative_to(folder)
        if not rel.parts[0].startswith("."):
            found.add(rel.as_posix())
    return found


def _can_fork() -> bool:
    import multiprocessing  # only here: a short rebuild renders in this process

    return "fork" in multiprocessing.get_all_start_methods()


def cpu_workers() -> int:
    """Processes to render with: the cores this process may use."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def is_terminal() -> bool:
    return sys.stderr.isatty()

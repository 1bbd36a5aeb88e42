"""digest's SQLite files in ``.digest/``: the plan, the parse cache, the record of page keys.

Each is a cache: a missing one costs a full build, and a damaged one is made again.
The two traps are the same for all three. A journal left beside a file by a killed
write is played back into whatever file next has that name, and a read-only
connection cannot roll it back; and ``file:`` URIs end a path at a ? or a #.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable
from pathlib import Path

_DAMAGED = ("SQLITE_NOTADB", "SQLITE_CORRUPT")
"""The errors of a file that is not a database, or a damaged one."""


def existing(path: Path) -> contextlib.closing[sqlite3.Connection]:
    """The database at ``path``, closed on leaving; sqlite3.OperationalError if there is none.

    Read-write, so that a journal left by a killed write is rolled back; the URI comes
    from ``as_uri``, which escapes ? # and %.
    """
    uri = f"{path.absolute().as_uri()}?mode=rw"
    return contextlib.closing(sqlite3.connect(uri, uri=True))


def drop(path: Path) -> None:
    """Delete a database, then its journal."""
    path.unlink(missing_ok=True)
    path.with_name(f"{path.name}-journal").unlink(missing_ok=True)


def write(path: Path, change: Callable[[sqlite3.Connection], None]) -> None:
    """Make ``change`` to ``path`` (created if missing) in one transaction.

    A file that is not a database, or a damaged one, is dropped and ``change`` made to a
    new one. Other errors (a lock held by another build) are raised: the file is not ours
    to drop.
    """
    try:
        _write(path, change)
    except sqlite3.DatabaseError as exc:
        if exc.sqlite_errorname not in _DAMAGED:
            raise
        drop(path)
        _write(path, change)


def _write(path: Path, change: Callable[[sqlite3.Connection], None]) -> None:
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        change(db)

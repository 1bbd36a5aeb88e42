"""The parse cache, ``.digest/articles.sqlite``: article files as parsed, a row per folder.

Reading 10,000 articles' YAML front matter is most of a warm build's reading;
the cache keeps each folder's parsed entries (pickled by digest.archive, which
knows what they hold) by the files' size and modification time, so a build
parses only the files that changed, and writes back only the folders whose bytes
changed. It is safe to delete.
"""

from __future__ import annotations

import io
import pickle
import sqlite3
from collections.abc import Iterable, Mapping

from digest import __version__, sqlitefile
from digest.config import Config

_FILE = "articles.sqlite"
_TABLES = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS folder (name TEXT PRIMARY KEY, data BLOB NOT NULL);
"""
SCHEMA = 7
"""Bumped whenever the cached records change shape, or what a file reads as."""


def dumps(value: object) -> bytes:
    """Records pickled for digest's caches (this one and the saved plan)."""
    # No memo of every object pickled: the records share nothing worth it, and it is faster.
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.fast = True
    try:
        pickler.dump(value)
    except ValueError:  # a value that refers to itself: needs the memo
        return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    return buffer.getvalue()


def pack(entries: Mapping[str, object]) -> bytes:
    """A folder's entries as the cache keeps them: each pickled apart, so that a resumed
    build can read the five it needs of a folder's 300 (see `unpack`)."""
    return dumps({rel: dumps(entry) for rel, entry in entries.items()})


def unpack(data: bytes) -> dict[str, bytes]:
    """A packed folder's entries, each still pickled."""
    found: dict[str, bytes] = pickle.loads(data)  # noqa: S301 - digest's own file in .digest/
    return found


def read(config: Config, folders: Iterable[str] | None = None) -> dict[str, bytes]:
    """Each folder's packed entries: every folder's, or only those of ``folders``."""
    try:
        with sqlitefile.existing(config.state / _FILE) as db:
            version = db.execute("SELECT value FROM meta WHERE name = 'version'").fetchone()
            if version is None or version[0] != _version(config):
                return {}
            if folders is None:
                return dict(db.execute("SELECT name, data FROM folder"))
            query = "SELECT data FROM folder WHERE name = ?"
            rows = ((f, db.execute(query, (f,)).fetchone()) for f in folders)
            return {f: row[0] for f, row in rows if row is not None}
    except sqlite3.Error:
        return {}


def forget(config: Config, folders: Iterable[str]) -> None:
    """Drop ``folders``' entries: the next load parses their files whatever their stat."""
    try:
        with sqlitefile.existing(config.state / _FILE) as db, db:
            db.executemany("DELETE FROM folder WHERE name = ?", [(f,) for f in folders])
    except sqlite3.Error:
        return


def write(config: Config, folders: dict[str, bytes], before: dict[str, bytes]) -> None:
    """Make the cache hold ``folders``: write those whose bytes differ from ``before``
    (what was read), and drop the folders that are gone."""
    config.state.mkdir(parents=True, exist_ok=True)
    version = _version(config)

    def store(db: sqlite3.Connection) -> None:
        db.executescript(_TABLES)
        row = db.execute("SELECT value FROM meta WHERE name = 'version'").fetchone()
        known = before if row is not None and row[0] == version else {}
        if not known:
            db.execute("DELETE FROM folder")
            db.execute("INSERT OR REPLACE INTO meta VALUES ('version', ?)", (version,))
        gone = [(f,) for (f,) in db.execute("SELECT name FROM folder") if f not in folders]
        db.executemany("DELETE FROM folder WHERE name = ?", gone)
        db.executemany(
            "INSERT OR REPLACE INTO folder VALUES (?, ?)",
            [(f, data) for f, data in folders.items() if known.get(f) != data],
        )

    sqlitefile.write(config.state / _FILE, store)


def _version(config: Config) -> str:
    """Entries hold for one digest, one articles folder and one timezone (dates are read in it)."""
    return f"{__version__}\x1f{SCHEMA}\x1f{config.articles}\x1f{config.timezone}"

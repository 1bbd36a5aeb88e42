"""What digest remembers about feeds between builds, in ``.digest/state.sqlite``.

For each feed: the HTTP validators (ETag, Last-Modified) so an unchanged feed
costs a 304, where a permanent redirect leads, whether it is gone or asked us
to back off, its last good copy, and its health for the Sources page. Losing
this file costs only bandwidth: the articles themselves live in content/.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from types import TracebackType

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feed (
    url TEXT PRIMARY KEY,
    data TEXT NOT NULL,
    body BLOB
)
"""


@dataclass(frozen=True, slots=True)
class FeedState:
    """One feed's memory; ``url`` is the URL as configured."""

    url: str
    location: str = ""
    """Where a permanent redirect (301, 308) leads; fetched instead of ``url``."""
    etag: str = ""
    last_modified: str = ""
    gone: bool = False
    """The server answered 410 Gone: the feed is not fetched again."""
    retry_at: float = 0.0
    """Unix time before which the server asked not to be asked again (429, 503)."""
    last_success: str = ""
    """ISO time of the last fetch that gave a readable feed or a 304."""
    last_error: str = ""
    last_error_at: str = ""
    content_type: str = ""
    content_location: str = ""
    body: bytes | None = None
    """The last good copy of the feed, used when a fetch fails."""


class Store:
    """A small SQLite table of `FeedState`s; a context manager that commits on exit."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path)
        self._db.execute(_SCHEMA)

    def get(self, url: str) -> FeedState:
        row = self._db.execute("SELECT data, body FROM feed WHERE url = ?", (url,)).fetchone()
        if row is None:
            return FeedState(url)
        known = {f.name for f in fields(FeedState)}
        data = {k: v for k, v in json.loads(row[0]).items() if k in known}
        return replace(FeedState(**data), body=row[1])

    def put(self, state: FeedState) -> None:
        data = asdict(state)
        body = data.pop("body")
        self._db.execute(
            "INSERT OR REPLACE INTO feed (url, data, body) VALUES (?, ?, ?)",
            (state.url, json.dumps(data, sort_keys=True), body),
        )

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if kind is None:
            self._db.commit()
        self._db.close()

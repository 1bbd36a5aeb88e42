"""A real feed reader (Debian's newsboat) subscribed to the generated feeds, served on 127.0.0.1."""

from __future__ import annotations

import functools
import os
import shutil
import sqlite3
import subprocess
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from digest import build
from tests.conftest import write


def newsboat() -> str:
    path = shutil.which("newsboat")
    if path is None:
        reason = "newsboat is not installed (Debian package newsboat)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return path


class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A project folder whose site/ is served on 127.0.0.1, and the site's URL."""
    root = tmp_path / "proj"
    (root / "site").mkdir(parents=True)
    handler = functools.partial(Quiet, directory=str(root / "site"))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield root, f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


class Reader:
    """newsboat run non-interactively: ``reload`` fetches, the SQLite cache tells what it has."""

    def __init__(self, folder: Path, url: str) -> None:
        self.binary = newsboat()
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        write(folder / "urls", url + "\n")
        write(folder / "config", "")

    def reload(self) -> None:
        subprocess.run(
            [self.binary, "-u", "urls", "-c", "cache.db", "-C", "config", "-x", "reload"],
            cwd=self.folder, check=True, capture_output=True, timeout=60,
            env={**os.environ, "HOME": str(self.folder)},
        )  # fmt: skip

    def items(self) -> list[tuple[str, str, int]]:
        with sqlite3.connect(self.folder / "cache.db") as db:
            return list(db.execute("SELECT guid, title, unread FROM rss_item ORDER BY guid"))


def article(root: Path, name: str, title: str, day: str) -> Path:
    return write(
        root / "content" / "articles" / f"{name}.md",
        f"---\ntitle: {title}\ndate: {day}\n---\n\nBody of {name}. [A link](/relative/page)\n",
    )


@pytest.mark.parametrize("feed", ["feed.xml", "atom.xml"])
def test_reader_sees_each_item_once_and_never_an_old_one_as_new(
    served: tuple[Path, str], tmp_path: Path, feed: str
) -> None:
    root, url = served
    write(root / "digest.toml", f'title = "Reader test"\nbase_url = "{url}"\n')
    for n in range(3):
        article(root, f"a{n}", f"Article {n}", f"2024-01-0{n + 1}")
    build.build(root)
    reader = Reader(tmp_path / "reader", url + feed)
    reader.reload()
    items = reader.items()
    assert len(items) == 3
    assert all(unread == 1 for _, _, unread in items)

    article(root, "a3", "A new article", "2024-01-09")
    build.build(root)
    reader.reload()
    after = reader.items()
    new = {guid for guid, _, _ in after} - {guid for guid, _, _ in items}
    assert len(new) == 1
    assert sum(unread for _, _, unread in after) == 4

    edited = root / "content" / "articles" / "a0.md"
    edited.write_text(
        edited.read_text("utf-8").replace("Article 0", "Article 0, retitled"), "utf-8"
    )
    build.build(root)
    reader.reload()
    final = reader.items()
    assert {guid for guid, _, _ in final} == {guid for guid, _, _ in after}
    assert len(final) == 4  # no guid stored twice
    assert sum(unread for _, _, unread in final) == 4


@pytest.mark.parametrize("feed", ["editions/feed.xml", "editions/atom.xml"])
def test_reader_sees_a_new_edition_once_and_a_growing_one_never_again(
    served: tuple[Path, str], tmp_path: Path, feed: str
) -> None:
    root, url = served
    write(root / "digest.toml", f'title = "Reader test"\nbase_url = "{url}"\n')
    article(root, "a0", "Monday's article", "2024-01-01T08:00:00Z")
    article(root, "a1", "Tuesday's article", "2024-01-02T08:00:00Z")
    build.build(root)
    reader = Reader(tmp_path / "reader", url + feed)
    reader.reload()
    assert len(reader.items()) == 2
    with sqlite3.connect(reader.folder / "cache.db") as db:
        db.execute("UPDATE rss_item SET unread = 0")  # the reader has read both editions

    article(root, "a2", "Wednesday's article", "2024-01-03T08:00:00Z")  # a new edition
    build.build(root)
    reader.reload()
    items = reader.items()
    assert len(items) == 3
    assert [title for _, title, unread in items if unread] == [
        "Reader test: Wednesday 3 January 2024"
    ]
    with sqlite3.connect(reader.folder / "cache.db") as db:
        db.execute("UPDATE rss_item SET unread = 0")

    article(root, "a3", "Wednesday's second article", "2024-01-03T17:00:00Z")  # it grows
    build.build(root)
    assert "second article" in (root / "site" / feed).read_text("utf-8")
    reader.reload()
    after = reader.items()
    assert {guid for guid, _, _ in after} == {guid for guid, _, _ in items}
    assert sum(unread for _, _, unread in after) == 0

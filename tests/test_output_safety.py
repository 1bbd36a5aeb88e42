"""The output and its folder are safe from hostile text, failed swaps and a wrong `output`."""

from __future__ import annotations

import errno
import html
import io
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import feedparser
import pytest
from markupsafe import Markup

from digest import build, config, output, sqlitefile
from digest.model import Article
from digest.render import Rendered, feeds, templates
from digest.serve.notify import Pages
from digest.serve.rebuild import Rebuilder
from digest.serve.watch import Changes
from tests.conftest import REPO, Run, project, write

HOSTILE = "<b>x</b> & <script>alert(1)</script>"


def _as_text(detail: Any, value: str) -> str:
    """What a reader shows: a text/html value is HTML, its tags would be live."""
    assert "<" not in value or detail.type != "text/html", value  # no live markup
    return html.unescape(value) if detail.type == "text/html" else value


def _feeds(tmp_path: Path, article: Article) -> dict[str, bytes]:
    write(tmp_path / "digest.toml", 'base_url = "https://e.org/"\n')
    cfg = config.load(tmp_path)
    env = templates.environment(cfg, "test", Rendered())
    scope = feeds.context(
        cfg, "", "Feed", "", [article], {article.id: "a/"}, lambda a: Markup("<p>body</p>")
    )
    return {name: feeds.render(env, cfg, name, "", scope) for name in feeds.FEED_TYPES}


def test_text_fields_are_text_in_every_feed_format(tmp_path: Path) -> None:
    article = Article(
        id="1",
        title=HOSTILE,
        published=datetime(2024, 1, 1, tzinfo=UTC),
        body="x",
        url="javascript:alert(1)",
        authors=(HOSTILE,),
        summary=HOSTILE,
        topics=(HOSTILE,),
    )
    made = _feeds(tmp_path, article)
    for name in ("feed.xml", "atom.xml"):
        entry = feedparser.parse(made[name]).entries[0]
        assert _as_text(entry.title_detail, entry.title) == HOSTILE, name
        assert _as_text(entry.summary_detail, entry.summary) == HOSTILE, name
        assert entry.author == HOSTILE or html.unescape(entry.author) == HOSTILE, name
        assert [t.term for t in entry.tags] in ([HOSTILE], [html.escape(HOSTILE)]), name
    rss = made["feed.xml"].decode()
    assert "<title>&amp;lt;b&amp;gt;x&amp;lt;/b&amp;gt; &amp;amp; &amp;lt;script" in rss
    item = json.loads(made["feed.json"])["items"][0]
    assert item["title"] == item["summary"] == HOSTILE  # plain text by the spec
    assert item["authors"] == [{"name": HOSTILE}] and item["tags"] == [HOSTILE]
    assert "external_url" not in item


def test_hostile_front_matter_reaches_no_feed_as_markup(tmp_path: Path, digest: Run) -> None:
    root = project(tmp_path / "p")
    write(
        root / "content" / "articles" / "hostile.md",
        "---\n"
        f"title: {json.dumps(HOSTILE)}\nauthors: [{json.dumps(HOSTILE)}]\n"
        f"source: {json.dumps(HOSTILE)}\nsummary: {json.dumps(HOSTILE)}\n"
        "url: javascript:alert(1)\ndate: 2024-01-01T00:00:00+00:00\n---\nBody.\n",
    )
    assert digest("build", "-C", root).code == 0
    site = root / "site"
    for name in ("feed.xml", "atom.xml"):
        entry = feedparser.parse((site / name).read_bytes()).entries[0]
        title = _as_text(entry.title_detail, entry.title)
        assert "<" not in title and title.strip(), (name, title)
    item = json.loads((site / "feed.json").read_text("utf-8"))["items"][0]
    assert "<script" not in item["title"] and "external_url" not in item


def test_a_failed_swap_puts_hidden_entries_back(
    example: Path, digest: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert digest("build", "-C", example).code == 0
    site = example / "site"
    write(site / ".git" / "config", "[core]\n")
    (example / ".digest" / "pages.sqlite").unlink()  # no record: a full build and a swap
    (site / "index.html").unlink()  # and something to write
    before = sorted(p.relative_to(site).as_posix() for p in site.rglob("*"))
    real = Path.replace

    def failing(self: Path, target: Path) -> Path:
        if self.name == ".site.new":  # the last rename of the swap
            raise OSError(errno.EIO, "injected")
        return real(self, target)

    monkeypatch.setattr(Path, "replace", failing)
    with pytest.raises(OSError, match="injected"):
        build.build(example)
    monkeypatch.undo()
    assert (site / ".git" / "config").read_text("utf-8") == "[core]\n"
    assert sorted(p.relative_to(site).as_posix() for p in site.rglob("*")) == before
    assert not (example / ".site.new").exists() and not (example / ".site.old").exists()


def test_output_may_not_be_a_folder_of_the_project(tmp_path: Path, digest: Run) -> None:
    for folder in ("templates", "content", "content/articles/x", ".digest", ".git"):
        root = tmp_path / folder.replace("/", "-")
        write(root / "digest.toml", f'base_url = "https://e.org/"\noutput = "{folder}"\n')
        template = write(root / "templates" / "base.html", "mine")
        result = digest("build", "-C", root)
        assert result.code == 1, folder
        assert "digest.toml:2: output folder " in result.err, (folder, result.err)
        assert len(result.err.splitlines()) == 1 and "Traceback" not in result.err
        assert template.read_text("utf-8") == "mine"


def test_output_may_not_replace_a_folder_digest_did_not_make(tmp_path: Path, digest: Run) -> None:
    root = tmp_path
    write(root / "digest.toml", 'base_url = "https://e.org/"\noutput = "docs"\n')
    mine = write(root / "docs" / "notes.md", "mine")
    result = digest("build", "-C", root)
    assert result.code == 1
    assert "docs: this folder holds files digest did not make" in result.err
    assert "empty it or set output in digest.toml to another folder" in result.err
    assert mine.read_text("utf-8") == "mine" and [p.name for p in (root / "docs").iterdir()] == [
        "notes.md"
    ]
    mine.unlink()  # emptied, as the message says: digest makes it, and may replace it after
    assert digest("build", "-C", root).code == 0
    (root / ".digest" / "pages.sqlite").unlink()
    assert digest("build", "-C", root).code == 0
    assert (root / "docs" / "index.html").is_file()


def test_one_build_at_a_time(example: Path) -> None:
    """A second build, in another process, is refused while the first holds the lock."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, pathlib; from digest.output import one_build\n"
            "with one_build(pathlib.Path(sys.argv[1])):\n"
            "    print('held', flush=True); sys.stdin.read()",
            str(example / ".digest"),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        second = subprocess.run(
            [sys.executable, "-m", "digest", "build", "-C", str(example)],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        assert second.returncode == 1
        assert len(second.stderr.splitlines()) == 1, second.stderr
        assert f"build {holder.pid} (started " in second.stderr
        assert "is running in this project — wait for it to end" in second.stderr
        assert not (example / "site").exists()
    finally:
        holder.communicate("", timeout=30)
    again = subprocess.run(
        [sys.executable, "-m", "digest", "build", "-C", str(example)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert again.returncode == 0, again.stderr


def _files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


@pytest.mark.parametrize(
    ("code", "what"),
    [
        (errno.ENOSPC, "no space left on the device — free some space, then build again"),
        (errno.EROFS, "the file system is read-only — make it writable"),
        (errno.EACCES, "permission denied — make it writable (chmod u+w)"),
    ],
)
def test_a_full_disk_or_read_only_folder_is_one_line_and_loses_nothing(
    example: Path, digest: Run, monkeypatch: pytest.MonkeyPatch, code: int, what: str
) -> None:
    assert digest("build", "-C", example).code == 0
    site = example / "site"
    before = _files(site)
    write(example / "content" / "inbox" / "new.md", "# A new one\n\nRussia and China met.\n")
    real = output._write

    def failing(path: Path, data: bytes) -> None:
        if path.name == "index.html":
            raise OSError(code, os.strerror(code), str(path))
        real(path, data)

    monkeypatch.setattr(output, "_write", failing)
    result = digest("build", "-C", example)
    assert result.code == 1
    assert len(result.err.splitlines()) == 1 and "Traceback" not in result.err, result.err
    assert "index.html: " + what in result.err
    monkeypatch.undo()
    assert _files(site) == before
    assert digest("build", "-C", example).code == 0
    assert _files(site) != before


def test_a_full_disk_under_the_records_is_one_line(
    example: Path, digest: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(*args: object, **kwargs: object) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(sqlitefile, "write", full)
    result = digest("build", "-C", example)
    assert result.code == 1 and len(result.err.splitlines()) == 1, result.err
    assert "digest cannot write its records here (database or disk is full)" in result.err


def test_an_output_folder_on_another_file_system_is_copied_into(
    example: Path, tmp_path: Path, digest: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    reference = tmp_path / "reference"
    shutil.copytree(example, reference)
    assert digest("build", "-C", reference).code == 0
    site = example / "site"
    write(site / ".git" / "config", "[core]\n")
    write(site / ".digest-output", "")  # digest's own folder, as after an earlier build
    mount = str(site)

    def inside(path: object) -> bool:
        return str(path) == mount or str(path).startswith(mount + os.sep)

    def crossing(source: object, target: object) -> None:
        if inside(source) != inside(target):
            raise OSError(errno.EXDEV, "Invalid cross-device link")

    real_replace, real_link = Path.replace, os.link

    def replace(self: Path, target: Path) -> Path:
        crossing(self, target)
        return real_replace(self, target)

    def link(source: str, target: str, **kwargs: object) -> None:
        crossing(source, target)
        real_link(source, target)

    monkeypatch.setattr(Path, "replace", replace)
    monkeypatch.setattr(os, "link", link)
    assert digest("build", "-C", example).code == 0  # a full build: the swap copies
    (example / ".digest" / "pages.sqlite").unlink()
    assert digest("build", "-C", example).code == 0  # again, over its own files
    write(example / "content" / "inbox" / "new.md", "# A new one\n\nRussia and China met.\n")
    write(reference / "content" / "inbox" / "new.md", "# A new one\n\nRussia and China met.\n")
    assert digest("build", "-C", example).code == 0  # an incremental build: the moves copy
    monkeypatch.undo()
    assert digest("build", "-C", reference).code == 0
    expected = _files(reference / "site")
    got = _files(site)
    assert got.pop(".git/config") == b"[core]\n"
    assert set(got) == set(expected)
    assert not [p for p in example.iterdir() if p.name.startswith(".site")]


def test_a_preview_rebuild_takes_the_same_lock(example: Path) -> None:
    live = Rebuilder(Changes(config.load(example)), Pages(), log=io.StringIO())
    with output.one_build(example / ".digest"):  # another build, as far as the lock knows
        held = live.rebuild()
    assert len(held.problems) == 1
    assert f"lock: build {os.getpid()} (started " in str(held.problems[0])
    assert "is running in this project — wait for it to end" in str(held.problems[0])
    assert not (example / "site").exists()
    assert live.rebuild().problems == ()
    assert (example / "site" / "index.html").is_file()

"""Rebuilds in one process (digest serve) give the site a cold build gives, edit after edit.

An edit that moves no article in any listing (a body, a summary, a title) takes
the short way: the last plan with new keys. One that does (a date, the topics)
plans again. Both must end byte for byte where a fresh build of the same files ends.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from digest import build
from digest.memory import Memory
from tests.conftest import project, write

TOPICS = ("Trade", "Energy", "Security")


NEWEST, OLD = 51, 0


def article(n: int, title: str = "", body: str = "", summary: str = "") -> str:
    topics = ", ".join(TOPICS[: n % 3 + 1])
    return (
        f"---\nid: id-{n}\ntitle: {title or f'Article number {n}'}\n"
        f"date: 2024-{n % 4 + 1:02d}-{n % 27 + 1:02d}T{n % 24:02d}:00:00Z\n"
        f"source: Wire {n % 5}\ntopics: [{topics}]\nsummary: {summary or f'Summary {n}.'}\n"
        f"---\n\n{body or f'Body of article {n}, with [a link](https://e.org/{n}).'}\n"
    )


def files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def cold(root: Path, tmp: Path) -> dict[str, bytes]:
    copy = tmp / "cold"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(root, copy, ignore=shutil.ignore_patterns("site", ".digest"))
    stories = root / ".digest" / "stories.pickle"  # the stories' published ids: not a cache
    if stories.is_file():
        (copy / ".digest").mkdir()
        shutil.copy(stories, copy / ".digest")
    build.build(copy, workers=1)
    return files(copy / "site")


EDITS: dict[str, tuple[int, str]] = {  # applied in this order, each on top of the last
    "body of the newest (in every feed)": (NEWEST, article(NEWEST, body="A new body, *edited*.")),
    "body of an old one": (OLD, article(OLD, body="Another body.")),
    "summary (shown in listings)": (
        NEWEST,
        article(NEWEST, body="A new body, *edited*.", summary="A new summary."),
    ),
    "title": (OLD, article(OLD, title="A retitled article", body="Another body.")),
    "date (moves it in every listing)": (
        OLD,
        article(OLD, title="A retitled article", body="Another body.").replace(
            "2024-01-01T00:00:00Z", "2024-12-30T00:00:00Z"
        ),
    ),
    "topics": (7, article(7).replace("topics: [Trade, Energy]", "topics: [Security]")),
}


@pytest.mark.parametrize("name", EDITS)
def test_a_rebuild_after_an_edit_gives_what_a_cold_build_gives(tmp_path: Path, name: str) -> None:
    root = project(tmp_path / "p", extra="")
    paths = {n: write(root / f"content/articles/a{n:03d}.md", article(n)) for n in range(60)}
    memory = Memory(kept=True)
    build.build(root, memory=memory, workers=1)
    for edit_name, (n, text) in EDITS.items():  # each edit, in order, up to this one
        target = paths[n]
        target.write_text(text, encoding="utf-8")
        report = build.build(root, memory=memory, workers=1, changed={target})
        assert report.written > 0
        if edit_name == name:
            break
    site = files(root / "site")
    assert site == cold(root, tmp_path)
    for part in ("editions/2024-", "sources/wire-", "search/t/", "search/d/", "sitemap.xml"):
        assert any(path.startswith(part) for path in site), part  # compared too
    again = build.build(root, memory=memory, workers=1, changed=set())
    assert again.written == 0

"""digest init: a new project that builds, and never a file overwritten."""

from __future__ import annotations

import re
from pathlib import Path

from digest import config
from tests.conftest import Run, broken_links, read_page, snapshot, write

NOTE = """---
title: A heatwave closes schools in the north
date: 2024-07-02
source: The Local Paper
---

The heatwave is the third this summer. Officials say the drought will last.
"""


def test_a_new_project_builds_into_a_working_site(tmp_path: Path, digest: Run) -> None:
    root = tmp_path / "news"
    result = digest("init", root)
    assert result.code == 0, result.err
    assert f"digest -C {root} build" in result.out
    assert (root / ".gitignore").read_text(encoding="utf-8").splitlines()[1:] == [
        "site/",
        ".digest/",
    ]
    assert (root / "content" / "inbox").is_dir()
    assert digest("build", "-C", root).code == 0  # an empty digest builds too
    assert "No articles yet" in read_page(root / "site" / "index.html").text

    write(root / "content" / "inbox" / "heat.md", NOTE)
    result = digest("build", "-C", root)
    assert result.code == 0, result.err
    assert "1 articles in 1 topics" in result.out
    site = root / "site"
    home = read_page(site / "index.html")
    assert "A heatwave closes schools in the north" in home.text
    topic = read_page(site / "topics" / "climate" / "index.html")
    assert "A heatwave closes schools in the north" in topic.text
    assert broken_links(site, "https://example.org/my-digest/") == []


def test_every_commented_setting_is_valid_once_uncommented(tmp_path: Path, digest: Run) -> None:
    root = tmp_path / "news"
    assert digest("init", root).code == 0
    path = root / "digest.toml"
    text = path.read_text(encoding="utf-8")
    on = re.sub(r"^# (\[\[feeds\]\]|\w+ = )", r"\1", text, flags=re.MULTILINE)
    assert on.count("\n# ") < text.count("\n# ") - 10
    path.write_text(on, encoding="utf-8")
    cfg = config.load(root)
    (feed,) = cfg.feeds
    assert (feed.name, feed.url, feed.topics) == (
        "Example News",
        "https://example.com/news/rss",
        ("Climate",),
    )
    assert (cfg.per_page, cfg.feed_items, cfg.feed_content) == (20, 20, "full")
    assert cfg.inbox == root / "content" / "inbox"
    assert [t.title for t in cfg.topics] == ["Climate"]


def test_the_current_folder_and_a_git_repository_will_do(tmp_path: Path, digest: Run) -> None:
    (tmp_path / ".git").mkdir()
    result = digest("-C", tmp_path, "init")
    assert result.code == 0, result.err
    assert "run: digest -C" in result.out
    assert (tmp_path / "digest.toml").is_file()


def test_a_folder_with_anything_in_it_is_refused_and_left_alone(
    tmp_path: Path, digest: Run
) -> None:
    root = tmp_path / "notes"
    write(root / "todo.txt", "buy milk\n")
    before = snapshot(tmp_path)
    result = digest("init", root)
    assert result.code == 1
    assert result.err == (
        f"error: {root}: is not empty, and digest init overwrites nothing — "
        "give the name of a new or empty folder (digest init my-digest)\n"
    )
    assert result.out == ""
    assert snapshot(tmp_path) == before

    file = write(tmp_path / "digest.toml", "title = 'mine'\n")
    before = snapshot(tmp_path)
    result = digest("init", file)
    assert result.code == 1
    assert result.err.startswith(f"error: {file}: is a file — ")
    assert snapshot(tmp_path) == before

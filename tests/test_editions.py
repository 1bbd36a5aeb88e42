"""Editions: a front page per day (or ISO week) with fixed permalinks, an index, their feeds;
the sources pages, the sitemap and robots.txt."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from digest import build
from tests.conftest import project, read_page, write

ATOM = "{http://www.w3.org/2005/Atom}"


def article(root: Path, name: str, when: str, topic: str = "", source: str = "Wire") -> Path:
    body = "Russia and China sign a deal in Moscow and Beijing." if topic else "Local news."
    topics = f"topics: [{topic}]\n" if topic else ""
    return write(
        root / "content" / "articles" / f"{name}.md",
        f"---\ntitle: {name.title()}\ndate: {when}\nsource: {source}\n{topics}---\n\n{body}\n",
    )


def entries(site: Path) -> list[dict[str, str]]:
    feed = ET.parse(site / "editions" / "atom.xml").getroot()
    return [
        {child.tag.removeprefix(ATOM): child.text or "" for child in entry}
        for entry in feed.iter(f"{ATOM}entry")
    ]


def test_each_day_has_an_edition_by_topic_then_the_rest_with_counts_and_neighbours(
    tmp_path: Path,
) -> None:
    root = project(tmp_path)
    article(root, "first", "2024-03-01T09:00:00Z", "Russia–China relations")
    article(root, "second", "2024-03-01T18:00:00Z")
    article(root, "third", "2024-03-04T08:00:00Z", "Russia–China relations")
    build.build(root)
    site = root / "site"
    assert sorted(p.name for p in (site / "editions").iterdir() if p.is_dir()) == [
        "2024-03-01",
        "2024-03-04",
    ]
    page = read_page(site / "editions" / "2024-03-01" / "index.html")
    assert page.text_of(page.find("h1")[0]) == "Friday 1 March 2024"
    headings = [page.text_of(h) for h in page.find("h2")]
    assert headings == ["Russia–China relations (1)", "Other articles (1)"]
    titles = [page.text_of(h) for h in page.find("h3")]
    assert titles == ["First", "Second"]
    text = (site / "editions" / "2024-03-01" / "index.html").read_text("utf-8")
    assert "2 articles" in text
    links = page.links()
    assert "../../editions/2024-03-04/" in links  # the next edition; there is none before
    later = read_page(site / "editions" / "2024-03-04" / "index.html").links()
    assert "../../editions/2024-03-01/" in later
    index = read_page(site / "editions" / "index.html")
    assert [index.text_of(h) for h in index.find("h2")] == ["March 2024"]
    assert {"../editions/2024-03-01/", "../editions/2024-03-04/"} <= set(index.links())


def test_the_day_follows_the_sites_timezone(tmp_path: Path) -> None:
    root = project(tmp_path)
    write(root / "digest.toml", 'timezone = "Asia/Tokyo"\n' + (root / "digest.toml").read_text())
    article(root, "late", "2024-03-01T20:00:00Z")  # 05:00 on 2 March in Tokyo
    build.build(root)
    assert (root / "site" / "editions" / "2024-03-02" / "index.html").is_file()
    assert not (root / "site" / "editions" / "2024-03-01").exists()


def test_weekly_editions_are_iso_weeks(tmp_path: Path) -> None:
    root = project(tmp_path)
    write(root / "digest.toml", 'editions = "weekly"\n' + (root / "digest.toml").read_text())
    article(root, "sunday", "2022-09-18T12:00:00Z")  # ISO week 37
    article(root, "monday", "2022-09-19T12:00:00Z")  # week 38
    article(root, "friday", "2022-09-23T12:00:00Z")
    build.build(root)
    site = root / "site" / "editions"
    assert sorted(p.name for p in site.iterdir() if p.is_dir()) == ["2022-W37", "2022-W38"]
    page = read_page(site / "2022-W38" / "index.html")
    assert page.text_of(page.find("h1")[0]) == "Week 38 of 2022, 19–25 September"
    assert [e["published"] for e in entries(root / "site")] == [
        "2022-09-19T00:00:00+00:00",
        "2022-09-12T00:00:00+00:00",
    ]


def test_an_unknown_editions_setting_is_reported_with_its_line(tmp_path: Path) -> None:
    from digest import config
    from digest.errors import ConfigError

    root = project(tmp_path)
    write(root / "digest.toml", 'editions = "hourly"\n' + (root / "digest.toml").read_text())
    try:
        config.load(root)
    except ConfigError as exc:
        assert 'digest.toml:1: \'editions\' must be "daily" or "weekly"' in str(exc)
    else:
        raise AssertionError("no error")


def test_an_edition_keeps_its_id_and_date_and_only_its_update_time_moves(tmp_path: Path) -> None:
    root = project(tmp_path)
    article(root, "monday", "2024-03-04T08:00:00Z", "Russia–China relations")
    article(root, "tuesday", "2024-03-05T08:00:00Z")
    build.build(root)
    before = entries(root / "site")
    assert [e["title"] for e in before] == [
        "Test digest: Tuesday 5 March 2024",
        "Test digest: Monday 4 March 2024",
    ]
    assert before[0]["updated"] == "2024-03-05T08:00:00+00:00"
    article(root, "tuesday-later", "2024-03-05T17:30:00Z", "Russia–China relations")
    build.build(root)
    after = entries(root / "site")
    assert [(e["id"], e["published"]) for e in after] == [(e["id"], e["published"]) for e in before]
    assert after[0]["updated"] == "2024-03-05T17:30:00+00:00"
    assert after[1] == before[1]  # a closed edition is untouched
    assert "Tuesday-Later" in after[0]["content"] and "Tuesday-Later" not in before[0]["content"]
    items = json.loads((root / "site" / "editions" / "feed.json").read_text("utf-8"))["items"]
    assert [i["url"] for i in items] == [
        "https://example.org/d/editions/2024-03-05/",
        "https://example.org/d/editions/2024-03-04/",
    ]
    assert items[0]["summary"] == "2 articles: Russia–China relations (1); other articles (1)"
    assert 'href="https://example.org/d/tuesday-later/"' in items[0]["content_html"]
    rss = ET.parse(root / "site" / "editions" / "feed.xml").getroot()
    assert len(rss.findall("channel/item")) == 2


def test_sources_have_an_index_and_paginated_pages_without_any_feed(tmp_path: Path) -> None:
    root = project(tmp_path)
    write(root / "digest.toml", "per_page = 2\n" + (root / "digest.toml").read_text())
    for n in range(5):
        article(root, f"w{n}", f"2024-03-0{n + 1}T08:00:00Z", source="Wire Service")
    article(root, "other", "2024-03-02T08:00:00Z", source="Другая газета")
    build.build(root)
    site = root / "site" / "sources"
    index = read_page(site / "index.html")
    assert {"../sources/wire-service/", "../sources/drugaia-gazeta/"} <= set(index.links())
    assert not index.find("table")  # no feeds, no health table
    first = read_page(site / "wire-service" / "index.html")
    assert [first.text_of(h) for h in first.find("h2")] == ["W4", "W3", "W2"]
    oldest = read_page(site / "wire-service" / "page" / "1" / "index.html")
    assert [oldest.text_of(h) for h in oldest.find("h2")] == ["W1", "W0"]
    assert not (site / "wire-service" / "page" / "2").exists()


def test_the_sitemap_lists_every_page_and_robots_points_to_it(tmp_path: Path) -> None:
    root = project(tmp_path)
    article(root, "one", "2024-03-04T08:00:00Z", "Russia–China relations")
    build.build(root)
    site = root / "site"
    robots = (site / "robots.txt").read_text("utf-8")
    assert "Sitemap: https://example.org/d/sitemap.xml" in robots.splitlines()
    tree = ET.parse(site / "sitemap.xml").getroot()
    locs = {e.text for e in tree.iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")}
    pages = {
        "https://example.org/d/" + p.relative_to(site).as_posix().removesuffix("index.html")
        for p in site.rglob("*.html")
        if p.name != "404.html"
    }
    assert locs == pages
    assert "https://example.org/d/editions/2024-03-04/" in locs

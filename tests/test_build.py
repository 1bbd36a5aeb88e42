"""End to end: the bundled example, built from a fresh copy, as readers and feed readers see it."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import feedparser

from digest import build
from tests.conftest import (
    REPO,
    Run,
    broken_links,
    project,
    reachable,
    read_page,
    shared,
    snapshot,
    write,
)

SEED = REPO / "content" / "inbox" / "2022-09-19-upi-russia-china-relations.txt"
TITLE = "Russia, China strengthen relations with high-level meetings amid war in Ukraine"
BASE = "https://example.org/russia-china-watch/"
JUNK = ["Advertisement", "License Photo", "1 of 5", "Latest Headlines", "Photo by"]


def seed_paragraphs() -> list[str]:
    """The ten paragraphs as they stand in the seed, dateline removed from the first."""
    lines = [ln.strip() for ln in SEED.read_text(encoding="utf-8").splitlines()]
    first = next(i for i, ln in enumerate(lines) if ln.startswith("Sept. 19 (UPI) -- "))
    last = next(i for i, ln in enumerate(lines) if ln.endswith("over the past week."))
    body = [ln for ln in lines[first : last + 1] if ln and ln != "Advertisement"]
    body[0] = body[0].removeprefix("Sept. 19 (UPI) -- ")
    return body


def seed_article(root: Path) -> Path:
    (path,) = (root / "content" / "articles").rglob("russia-china-strengthen*.md")
    return path


def test_bundled_seed_is_the_shared_seed() -> None:
    assert SEED.read_bytes() == shared("seeds", "000_9b1e731560350cab.txt").read_bytes()


def test_seed_is_stored_with_exact_metadata_and_ten_paragraphs(example: Path, digest: Run) -> None:
    result = digest("build", "-C", example)
    assert result.code == 0, result.err
    assert "year 2022 inferred from the file name" in result.err
    assert "inferred" not in digest("build", "-C", example).err  # said once, on import

    text = seed_article(example).read_text(encoding="utf-8")
    head, body = text.split("\n---\n\n", 1)
    assert f"title: {TITLE}\n" in head
    assert "source: UPI\n" in head
    assert "date: 2022-09-19 00:00:00+00:00\n" in head
    assert "credit: Kremlin Pool/UPI" in head
    assert "Chinese President Xi Jinping (L) and Russian President Vladimir Putin (C)" in head
    assert "- Russia–China relations\n" in head
    assert "- War in Ukraine\n" in head
    assert re.search(r"\nid: [0-9a-f-]{36}\n", head)
    assert "path: content/inbox/2022-09-19-upi-russia-china-relations.txt" in head
    paragraphs = body.strip().split("\n\n")
    assert paragraphs == seed_paragraphs()
    assert len(paragraphs) == 10
    assert paragraphs[0].startswith("A Russian security delegation is in China this week")
    assert paragraphs[-1].endswith("over the past week.")
    for junk in [*JUNK, "Sept. 19 (UPI)"]:
        assert junk not in body


def test_seed_page_shows_metadata_and_clean_body(example: Path, digest: Run) -> None:
    digest("build", "-C", example)
    (page_path,) = (example / "site").rglob("russia-china-strengthen*/index.html")
    page = read_page(page_path)
    (h1,) = page.find("h1")
    assert page.text_of(h1) == TITLE
    (time,) = page.find("time")
    assert time[1]["datetime"].startswith("2022-09-19")
    (source,) = page.find("span", **{"class": "source"})
    assert page.text_of(source) == "UPI"
    (body,) = page.find("div", **{"class": "body"})
    paragraphs = [page.text_of(p) for p in page.within(body, "p")]
    assert paragraphs == seed_paragraphs()
    for junk in JUNK:
        assert junk not in page.text
    topics = [page.text_of(a) for a in page.find("a") if "/topics/" in "/" + a[1]["href"]]
    assert "Russia–China relations" in topics
    assert "War in Ukraine" in topics


def test_every_internal_link_resolves_and_every_page_is_reachable(
    example: Path, digest: Run
) -> None:
    digest("build", "-C", example)
    site = example / "site"
    assert broken_links(site, BASE) == []
    pages = {p.relative_to(site).as_posix() for p in site.rglob("*.html")} - {"404.html"}
    assert reachable(site) == pages
    assert len(pages) >= 8


def test_feeds_parse_with_absolute_links_guids_and_dates(example: Path, digest: Run) -> None:
    digest("build", "-C", example)
    site = example / "site"
    ids = {
        m.group(1)
        for md in (example / "content" / "articles").rglob("*.md")
        if (m := re.search(r"^id: (.+)$", md.read_text(encoding="utf-8"), re.MULTILINE))
    }
    for feed_path in [site / "feed.xml", *sorted(site.glob("topics/*/feed.xml"))]:
        feed = feedparser.parse(feed_path.read_bytes())
        assert not feed.bozo, (feed_path, feed.get("bozo_exception"))
        assert feed.entries
        for entry in feed.entries:
            assert entry.link.startswith(BASE)
            assert entry.id in ids
            assert entry.guidislink is False
            assert entry.published_parsed is not None
            assert entry.title
    feed = feedparser.parse((site / "feed.xml").read_bytes())
    assert len(feed.entries) == len(ids)
    assert [e.title for e in feed.entries][1] == TITLE  # newest first: the note is a day later
    seed = feed.entries[1]
    assert "A Russian security delegation" in seed.description
    assert "Advertisement" not in seed.description
    page = read_page(site / "index.html")
    alternates = page.find("link", rel="alternate")
    assert [a[1]["href"] for a in alternates] == [
        BASE + n for n in ("feed.xml", "atom.xml", "feed.json")
    ]


def test_topic_page_lists_the_seed(example: Path, digest: Run) -> None:
    digest("build", "-C", example)
    page = read_page(example / "site" / "topics" / "russia-china-relations" / "index.html")
    titles = [page.text_of(h) for h in page.find("h2")]
    assert TITLE in titles
    feed_links = [a[1]["href"] for a in page.find("link", rel="alternate")]
    assert BASE + "topics/russia-china-relations/feed.xml" in feed_links


def test_second_build_changes_no_file(example: Path, digest: Run) -> None:
    assert digest("build", "-C", example).code == 0
    before = snapshot(example / "content") | {
        f"site/{k}": v for k, v in snapshot(example / "site").items()
    }
    result = digest("build", "-C", example)
    after = snapshot(example / "content") | {
        f"site/{k}": v for k, v in snapshot(example / "site").items()
    }
    assert after == before
    assert "0 new, 0 updated, 2 unchanged" in result.out
    assert "site unchanged" in result.out


def test_same_input_gives_byte_identical_site(example: Path, tmp_path: Path, digest: Run) -> None:
    twin = tmp_path / "twin"
    shutil.copytree(example, twin)
    digest("build", "-C", example)
    digest("build", "-C", twin)
    first = {k: v[1] for k, v in snapshot(example / "site").items()}
    second = {k: v[1] for k, v in snapshot(twin / "site").items()}
    assert first == second


def test_home_page_groups_latest_articles_by_topic(example: Path, digest: Run) -> None:
    digest("build", "-C", example)
    page = read_page(example / "site" / "index.html")
    sections = [page.text_of(h) for h in page.find("h2")]
    assert sections[:2] == ["Russia–China relations", "War in Ukraine"]
    assert TITLE in page.text
    assert "UPI" in page.text
    assert "A Russian security delegation is in China this week" in page.text


def test_two_builds_in_one_process_with_fresh_memory_give_the_same_site(
    example: Path, tmp_path: Path
) -> None:
    """Nothing a build leaves in the process changes the next one: all of it is in Memory."""
    from digest import build
    from digest.memory import Memory

    twin = tmp_path / "twin"
    shutil.copytree(example, twin)
    other = tmp_path / "other"
    shutil.copytree(example, other)
    (other / "digest.toml").write_text(
        re.sub(r"per_page = \d+", "per_page = 1", (other / "digest.toml").read_text("utf-8")),
        encoding="utf-8",
    )
    build.build(example, offline=True, workers=1, memory=Memory())
    kept = Memory(kept=True)  # as digest serve would, on another project in between
    build.build(other, offline=True, workers=1, memory=kept)
    build.build(other, offline=True, workers=1, memory=kept)
    build.build(twin, offline=True, workers=1, memory=Memory())

    def files(root: Path) -> dict[str, bytes]:
        site = root / "site"
        return {
            p.relative_to(site).as_posix(): p.read_bytes() for p in site.rglob("*") if p.is_file()
        }

    assert files(example) == files(twin)
    assert files(other) != files(example)


def test_a_markdown_notes_summary_is_its_first_block_as_plain_text(tmp_path: Path) -> None:
    from digest import build as pipeline

    root = project(tmp_path)
    write(
        root / "content" / "inbox" / "2024-03-04-note.md",
        "# A note\n\n**Russia** and *China* sign a [deal](https://e.org/x) in `Moscow`.\n\nMore.\n",
    )
    pipeline.build(root)
    (stored,) = (root / "content" / "articles").rglob("*.md")
    assert "summary: Russia and China sign a deal in Moscow." in stored.read_text("utf-8")


def test_building_the_bundled_example_leaves_its_archive_as_committed(tmp_path: Path) -> None:
    """`make build` on a fresh clone must not rewrite the example's articles: when the
    cleaner changes what it makes of the inbox, the example is re-imported and committed."""
    root = tmp_path / "clone"
    root.mkdir()
    shutil.copy(REPO / "digest.toml", root)
    shutil.copytree(REPO / "content", root / "content")
    before = snapshot(root / "content")
    report = build.build(root, offline=True)
    assert not [t for t in report.sources if t.updated or t.new], report.sources
    assert {k: v[1] for k, v in snapshot(root / "content").items()} == {
        k: v[1] for k, v in before.items()
    }

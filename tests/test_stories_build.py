"""Stories in the build: pages, feeds, redirects, the command, and the site's bytes.

The site must not depend on how it was reached: with the stories' state or
after deleting ``.digest/``, resumed or in full. Story ids are published
addresses, so a twin built "cold" keeps ``.digest/stories.pickle`` when the
stories were placed over several builds (see tests/test_rebuild.py's ``cold``).
"""

from __future__ import annotations

import os
import re
import shutil
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from digest import archive, build, output
from tests.conftest import REPO, Run, project, write
from tests.test_rebuild import cold, files

ATOM = "{http://www.w3.org/2005/Atom}"
ALPHA = "Zorbanian ministers Quelltar and Vostrin met in Harbek to sign the Harbek accord."
BETA = "Officials Pemberly and Ashgrove toured Lindqvist harbour after the Lindqvist fire."
BRIDGE = (
    "Zorbanian ministers Quelltar and Vostrin signed the Harbek accord, and Pemberly "
    "and Ashgrove spoke of the Lindqvist fire at Lindqvist harbour in Harbek."
)


def page(n: str, title: str, day: int, body: str, source: str) -> str:
    return (
        f"---\nid: {n}\ntitle: {title}\ndate: 2024-05-{day:02d}T10:00:00Z\n"
        f"source: {source}\n---\n\n{body}\n"
    )


@pytest.fixture
def example(tmp_path: Path) -> Path:
    root = tmp_path / "example"
    root.mkdir()
    shutil.copy(REPO / "digest.toml", root)
    shutil.copytree(REPO / "content", root / "content")
    hour_ago = time.time() - 3600  # not saved as a build starts: no build reads them again
    for path in root.rglob("*"):
        os.utime(path, (hour_ago, hour_ago))
    return root


def story_of(site: Path, headline: str) -> Path:
    for index in sorted(site.glob("stories/*/index.html")):
        if headline in index.read_text("utf-8"):
            return index.parent
    raise AssertionError(f"no story page shows {headline!r}")


def test_the_example_has_the_samarkand_story_with_a_copy_a_feed_and_links(
    example: Path,
) -> None:
    build.build(example, workers=1)
    site = example / "site"
    story = story_of(site, "Putin and Xi meet in Samarkand")
    html = (story / "index.html").read_text("utf-8")
    reports = re.findall(r'<li class="item">\s*<h3', html)
    assert len(reports) >= 3
    assert "Also published by" in html and "The Steppe Courier" in html
    assert "First reported by" in html
    assert 'id="timeline"' in html
    feed = ET.parse(story / "atom.xml").getroot()
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == len(reports) + 1  # the copy is an item of the feed too
    assert feed.find(f"{ATOM}title") is not None
    wire = (site / "2022/09/putin-and-xi-meet-in-samarkand-wire/index.html").read_text("utf-8")
    assert f'href="../../../stories/{story.name}/"' in wire
    assert wire.count('<nav class="related"') == 1
    home = (site / "index.html").read_text("utf-8")
    assert "Top stories" in home and f"stories/{story.name}/" in home
    topic = (site / "topics/russia-china-relations/index.html").read_text("utf-8")
    assert 'class="story-group"' in topic


def test_the_same_content_gives_the_same_site_with_or_without_the_state(
    example: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(output, "_FORK_FROM", 1)  # rendered over two processes, as at scale
    build.build(example, workers=2)
    first = files(example / "site")
    assert any(p.startswith("stories/") for p in first)
    shutil.rmtree(example / ".digest")
    shutil.rmtree(example / "site")
    build.build(example, workers=1)
    assert files(example / "site") == first


def test_a_resumed_edit_keeps_the_story_pages_right(
    example: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build.build(example, workers=1)
    wire = example / "content/articles/2022/09/putin-and-xi-meet-in-samarkand-wire.md"
    text = wire.read_text("utf-8")
    wire.write_text(text.replace("since the invasion\n", "since the invasion (updated)\n", 1))
    with monkeypatch.context() as patch:  # a title edit moves no report: it resumes
        patch.setattr(archive, "load", lambda *a, **k: pytest.fail("a full build"))
        report = build.build(example, workers=1)
    assert report.written > 0
    story = story_of(example / "site", "since the invasion (updated)")
    assert "(updated)" in (story / "atom.xml").read_text("utf-8")
    assert files(example / "site") == cold(example, tmp_path)


def test_retitling_a_storys_first_report_retitles_its_feed_in_a_resumed_build(
    example: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build.build(example, workers=1)
    story = story_of(example / "site", "Putin and Xi meet in Samarkand")
    feed_title = ET.parse(story / "atom.xml").getroot().find(f"{ATOM}title")
    assert feed_title is not None and feed_title.text
    headline = feed_title.text.split(": ", 1)[1]  # "Site: the first report's title"
    first = next(
        p
        for p in (example / "content" / "articles").rglob("*.md")
        if f"title: {headline}\n" in p.read_text("utf-8")
    )
    first.write_text(first.read_text("utf-8").replace(f"title: {headline}\n", "title: Retold\n"))
    with monkeypatch.context() as patch:  # a title edit moves no report: it resumes
        patch.setattr(archive, "load", lambda *a, **k: pytest.fail("a full build"))
        build.build(example, workers=1)
    retitled = ET.parse(story / "atom.xml").getroot().find(f"{ATOM}title")
    assert retitled is not None and retitled.text and retitled.text.endswith(": Retold")
    assert files(example / "site") == cold(example, tmp_path)


def test_a_merge_keeps_the_older_id_and_the_other_address_redirects(
    tmp_path: Path, digest: Run
) -> None:
    root = project(tmp_path / "p", "[stories]\nthreshold = 0.2\n")
    articles = root / "content/articles"
    write(articles / "a1.md", page("a1", "Harbek accord signed", 1, ALPHA, "One"))
    write(articles / "a2.md", page("a2", "Accord in Harbek", 1, ALPHA + " More.", "Two"))
    write(articles / "b1.md", page("b1", "Lindqvist fire", 2, BETA, "One"))
    write(articles / "b2.md", page("b2", "Fire at Lindqvist", 2, BETA + " Again.", "Two"))
    build.build(root, workers=1)
    before = sorted(p.name for p in (root / "site/stories").iterdir())
    assert len(before) == 2
    write(articles / "c.md", page("c", "Harbek and Lindqvist", 2, BRIDGE, "Three"))
    build.build(root, workers=1)
    after = root / "site/stories"
    moved = [
        p for p in before if 'http-equiv="refresh"' in (after / p / "index.html").read_text("utf-8")
    ]
    assert len(moved) == 1
    kept = next(p for p in before if p not in moved)
    redirect = (after / moved[0] / "index.html").read_text("utf-8")
    assert f'url=../../stories/{kept}/"' in redirect and f'href="../../stories/{kept}/"' in redirect
    assert (after / kept / "atom.xml").is_file()
    assert "Harbek and Lindqvist" in (after / kept / "index.html").read_text("utf-8")
    # the command lists it and explains the bridge
    listed = digest("stories", "-C", root)
    assert listed.code == 0 and listed.out.startswith(f"{kept}  5 reports")
    why = digest("stories", "--explain", articles / "c.md", "-C", root)
    assert why.code == 0
    assert f"story {kept}: 5 reports" in why.out
    assert re.search(r"similarity to the story's other reports: 0\.\d+", why.out)
    assert "shared names: " in why.out and "harbek" in why.out
    bad = digest("stories", "--explain", root / "digest.toml", "-C", root)
    assert bad.code == 1 and "not an article of this project" in bad.err


def test_an_edit_past_the_lead_resumes_without_the_stories_state(
    example: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What placing reads is the same: the plan answers for the stories, no state is read."""
    from digest.stories import stage
    from digest.stories.vectors import LEAD

    wire = example / "content/articles/2022/09/putin-and-xi-meet-in-samarkand-wire.md"
    filler = "The leaders' aides said more talks would follow in the coming months.\n\n"
    wire.write_text(wire.read_text("utf-8") + "\n" + filler * (LEAD // len(filler) + 2))
    build.build(example, workers=1)
    with wire.open("a", encoding="utf-8") as handle:
        handle.write("\nAn update at the end of the report.\n")
    with monkeypatch.context() as patch:
        patch.setattr(archive, "load", lambda *a, **k: pytest.fail("a full build"))
        patch.setattr(stage, "load", lambda *a, **k: pytest.fail("the stories' state read"))
        assert build.build(example, workers=1).written > 0
    page = example / "site/2022/09/putin-and-xi-meet-in-samarkand-wire/index.html"
    assert "An update at the end" in page.read_text("utf-8")
    assert files(example / "site") == cold(example, tmp_path)

"""Topic and source listings: an index with the newest articles, then pages numbered from
the oldest, which keep their bytes when newer articles arrive (digest.render.plan._paginate).

A reader walks "Older" links from a listing's index to its end and meets every article
once, newest first; a daily build that adds articles newer than all others changes only the
index and the newest numbered pages of the listings they join.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest

from digest import build
from digest.memory import Memory
from tests.conftest import Page, project, read_page, write
from tests.test_rebuild import cold, files

PER_PAGE = 3
SIZES = (1, PER_PAGE, PER_PAGE + 1, 2 * PER_PAGE, 2 * PER_PAGE + 1, 3 * PER_PAGE + 2)
"""Articles in a listing, around a page's boundaries; the project's configured topic has 0."""


def article(n: int, topic: str, source: str) -> str:
    """Article ``n``, dated later the higher ``n`` is, in words no other article shares
    (none joins another's story, which would regroup a listing)."""
    words = " ".join(f"w{n}x{k}" for k in range(12))
    return (
        f"---\nid: id-{n}\ntitle: Report w{n}t\ndate: 2024-03-01T{n // 60:02d}:{n % 60:02d}:00Z\n"
        f"source: {source}\ntopics: [{topic}]\n---\n\n{words}.\n"
    )


def grown(root: Path, sizes: dict[str, int], start: int = 0) -> int:
    """Writes ``sizes[name]`` articles in topic and source ``name`` each; the next number."""
    n = start
    for name, size in sizes.items():
        for _ in range(size):
            write(root / f"content/articles/a{n:04d}.md", article(n, name, name))
            n += 1
    return n


def listing(page: Page) -> list[str]:
    """The articles a listing page shows (their links), in order."""
    return [e[1]["href"].rsplit("/", 2)[-2] for ul in page.find("ul", **{"class": "listing"})
            for e in page.within(ul, "a")]  # fmt: skip


def walk(site: Path, folder: str) -> list[list[str]]:
    """Each page's articles, from the listing's index along its "Older" links; and back."""
    pages: list[list[str]] = []
    path, seen = site / folder / "index.html", []
    while True:
        seen.append(path)
        page = read_page(path)
        pages.append(listing(page))
        older = page.find("a", rel="next")
        if not older:
            break
        path = (path.parent / older[0][1]["href"] / "index.html").resolve()
    for newer_side, here in itertools.pairwise(seen):  # "Newer" leads back
        newer = read_page(here).find("a", rel="prev")
        assert [(here.parent / newer[0][1]["href"] / "index.html").resolve()] == [newer_side]
    assert not read_page(seen[0]).find("a", rel="prev")
    return pages


def paged(root: Path) -> Path:
    """A project whose listings have `PER_PAGE` articles a page."""
    config = project(root) / "digest.toml"
    config.write_text(f"per_page = {PER_PAGE}\n" + config.read_text("utf-8"), encoding="utf-8")
    return root


def count(page: Page) -> str:
    return page.text_of(page.find("p", **{"class": "count"})[0])


def pager(page: Page) -> str:
    """The pager's own words ("Page 2"), or "" for none."""
    navs = page.find("nav", **{"class": "pager"})
    return " ".join(page.text_of(span) for nav in navs for span in page.within(nav, "span"))


def slugs(n: int) -> list[str]:
    return [f"a{i:04d}" for i in range(n)]


def test_walking_older_from_the_index_meets_every_article_once_newest_first(
    tmp_path: Path,
) -> None:
    root = paged(tmp_path / "p")
    grown(root, {f"Size {size}": size for size in SIZES})
    build.build(root, workers=1, memory=Memory())
    site = root / "site"
    first = 0
    for size in SIZES:
        slug = f"size-{size}"
        expected = list(reversed(slugs(first + size)[first:]))
        first += size
        for folder in (f"topics/{slug}", f"sources/{slug}"):
            pages = walk(site, folder)
            assert [a for p in pages for a in p] == expected, folder
            assert all(pages), f"{folder}: an empty page"
            assert PER_PAGE <= len(pages[0]) < 2 * PER_PAGE or len(pages[0]) == size
            assert all(len(p) == PER_PAGE for p in pages[1:]), folder
            numbered = sorted(p.name for p in (site / folder / "page").glob("*"))
            assert numbered == [str(n) for n in range(1, len(pages))], folder
            index = read_page(site / folder / "index.html")
            assert count(index).startswith(f"{size} article{'s' if size > 1 else ''} · ")
            assert pager(index) == ("" if size < 2 * PER_PAGE else f"Newest of {len(pages)} pages")
            for number in numbered:  # no totals: they would change as the listing grows
                page = read_page(site / folder / "page" / number / "index.html")
                assert (pager(page), count(page)) == (f"Page {number}", "All sources" if
                    folder.startswith("sources") else "RSS feed of this topic")  # fmt: skip
    empty = read_page(site / "topics/russia-china-relations/index.html")
    assert listing(empty) == [] and "0 articles" in empty.text
    assert not empty.find("nav", **{"class": "pager"})


@pytest.mark.parametrize("kept", [False, True], ids=["digest build", "digest serve"])
def test_new_articles_change_only_the_index_and_the_newest_pages(
    tmp_path: Path, kept: bool
) -> None:
    """A daily build: what arrives is newer than everything, and older pages stay as they are."""
    root = paged(tmp_path / "p")
    end = grown(root, {"Trade": 17, "Energy": 9, "Security": 4})
    memory = Memory(kept=kept)
    build.build(root, workers=1, memory=memory)
    site = root / "site"
    before = files(site)
    grown(root, {"Trade": 4, "Energy": 1}, start=end)  # Security gets none
    build.build(root, workers=1, memory=memory if kept else Memory())
    after = files(site)

    changed = {p for p in before if after.get(p) != before[p]}
    added = set(after) - set(before)
    pages = re.compile(r"(topics|sources)/([a-z]+)/(?:page/(\d+)/)?index\.html")
    listings = {m.groups() for p in before | after if (m := pages.fullmatch(p))}
    assert {(k, s) for k, s, _ in listings} == {
        (k, s) for k in ("topics", "sources") for s in ("trade", "energy", "security")
    }
    # Trade: 17 → 21 articles, pages 1–4 → 1–6; Energy: 9 → 10, pages 1–2 stay; Security: none.
    expect_changed: dict[str, set[str | None]] = {"trade": {None, "4"}, "energy": {None}}
    expect_added: dict[str, set[str | None]] = {"trade": {"5", "6"}}
    for kind, slug, number in listings:
        path = f"{kind}/{slug}/" + (f"page/{number}/" if number else "") + "index.html"
        assert (path in changed) == (number in expect_changed.get(slug, ())), path
        assert (path in added) == (number in expect_added.get(slug, ())), path
    assert cold(root, tmp_path) == after

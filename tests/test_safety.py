"""Every input is hostile: no markup from input reaches a page, a feed or content/; no path escapes."""

from __future__ import annotations

import re
from pathlib import Path
from xml.etree import ElementTree

import feedparser
import pytest

from digest import clean
from tests.conftest import Run, project, read_page, write

HOSTILE_MD = """---
title: "<script>alert('title')</script> ../../../etc/passwd"
source: "<b onmouseover=alert(1)>Evil Source</b>"
authors: ["<img src=x onerror=alert('author')>"]
url: "javascript:alert('url')"
date: 2024-05-01
summary: "<script>alert('summary')</script>"
---

Russia and China <script>alert('body')</script> met in Moscow and Beijing.

<img src="x" onerror="alert('img')">

[click me](javascript:alert('link')) and [data](data:text/html;base64,PHNjcmlwdD4=)

<iframe src="https://evil.example/"></iframe>
"""

HOSTILE_HTML = """<!doctype html><html><head><title>Hostile page</title>
<script>alert('head')</script></head><body>
<article><h1>Moscow and Beijing <script>alert('h1')</script>sign a deal</h1>
<p>Russia and China signed a long agreement on Tuesday about trade and energy, officials in both
capitals said in statements that were published by their ministries late in the evening.</p>
<p onclick="alert('p')">The deal covers <a href="javascript:alert('a')">gas</a> and oil supplies over
the next decade, with prices to be agreed later, according to people familiar with the talks.</p>
<img src="x" onerror="alert('img')">
<p>Officials said <a href="/relative/link">more details</a> would follow, and that talks on a second
pipeline through Mongolia would continue in the coming months between the two governments.</p>
<iframe src="https://evil.example/"></iframe>
</article></body></html>
"""

HOSTILE_TXT = """Menu

<script>alert('dump title')</script> Moscow talks end

MOSCOW, May 1 (Reuters) - Russia and China ended talks <script>alert('dump')</script> in Moscow on Monday, officials said, with both sides praising the outcome.

<img src=x onerror=alert(1)> The two sides will meet again in Beijing later this year, according to a statement from the Chinese foreign ministry.
"""

# Markup a browser or feed reader would run: real tags, event handlers, script URLs.
EXECUTABLE = re.compile(
    r"<\s*(?:script|iframe|object|embed)\b|<[^>]*\son\w+\s*=|(?:href|src)\s*=\s*[\"']?\s*"
    r"(?:javascript|vbscript|data):",
    re.IGNORECASE,
)
RAW_TAG = re.compile(r"<[A-Za-z/!]")


def build_hostile(tmp_path: Path, digest: Run) -> Path:
    root = project(tmp_path)
    inbox = root / "content" / "inbox"
    write(inbox / "2024-05-01-hostile.md", HOSTILE_MD)
    write(inbox / "2024-05-02-hostile.html", HOSTILE_HTML)
    write(inbox / "2024-05-03-hostile.txt", HOSTILE_TXT)
    by_hand = HOSTILE_MD.replace('title: "', 'title: "2 ').replace("('url')", "('url2')")
    write(root / "content" / "articles" / "by-hand.md", by_hand)
    result = digest("build", "-C", root)
    assert result.code == 0, result.err
    assert "4 articles in" in result.out, result.out
    return root


OWN_SCRIPT = '<script src="../static/search.js" defer></script>'
"""The search page's script: the site's own file, the only script a page loads."""


def test_no_executable_markup_anywhere_in_site_or_content(tmp_path: Path, digest: Run) -> None:
    root = build_hostile(tmp_path, digest)
    imported = [p for p in (root / "content" / "articles").rglob("*.md") if p.name != "by-hand.md"]
    assert len(imported) == 3
    for path in imported:
        text = path.read_text(encoding="utf-8")
        assert not RAW_TAG.search(text), (path, RAW_TAG.search(text))
        assert "javascript:" not in text
    for path in (root / "site").rglob("*"):
        if path.suffix == ".html":
            text = path.read_text(encoding="utf-8").replace(OWN_SCRIPT, "")
            assert not EXECUTABLE.search(text), path
        elif path.suffix == ".xml":
            # Feed readers unescape <description>: check the HTML they will see.
            for element in ElementTree.parse(path).iter():
                assert not EXECUTABLE.search(element.text or ""), (path, element.text)


def test_pages_have_no_script_elements_or_event_handlers(tmp_path: Path, digest: Run) -> None:
    root = build_hostile(tmp_path, digest)
    for html in (root / "site").rglob("*.html"):
        page = read_page(html)
        scripts = page.find("script")
        # The site's own script, on the search page only (the policy allows no other).
        wanted = [("script", {"src": "../static/search.js", "defer": ""})]
        assert scripts == (wanted if html.parent.name == "search" else []), html
        assert not page.find("iframe")
        for tag, attrs in page.elements:
            assert not any(name.startswith("on") for name in attrs), (html, tag, attrs)
            for name in ("href", "src"):
                assert not attrs.get(name, "").strip().lower().startswith(("javascript", "data")), (
                    attrs
                )


def test_hostile_text_is_shown_as_text(tmp_path: Path, digest: Run) -> None:
    root = build_hostile(tmp_path, digest)
    page = read_page(root / "site" / "by-hand" / "index.html")
    (h1,) = page.find("h1")
    assert page.text_of(h1) == "2 ../../../etc/passwd"  # the script and its text are gone
    assert "Evil Source" in page.text


def test_feeds_stay_well_formed_and_inert(tmp_path: Path, digest: Run) -> None:
    root = build_hostile(tmp_path, digest)
    feed = feedparser.parse((root / "site" / "feed.xml").read_bytes())
    assert not feed.bozo
    for entry in feed.entries:
        assert entry.link.startswith("https://example.org/d/")
        assert not EXECUTABLE.search(entry.description)


def test_titles_cannot_make_paths_outside_the_site(tmp_path: Path, digest: Run) -> None:
    root = build_hostile(tmp_path, digest)
    site = (root / "site").resolve()
    for path in (root / "site").rglob("*"):
        assert site in path.resolve().parents
        assert ".." not in path.relative_to(root / "site").parts
    assert not (tmp_path / "etc").exists()
    for path in (root / "content" / "articles").rglob("*"):
        assert (root / "content" / "articles").resolve() in path.resolve().parents


def test_control_characters_do_not_break_the_feed(tmp_path: Path, digest: Run) -> None:
    root = project(tmp_path)
    write(
        root / "content" / "articles" / "ctl.md",
        '---\ntitle: "Bell \\a and null \\0 here"\ndate: 2024-01-01\n---\nText \x0b with VT.\n'
        'As references: &#1; &#x1B; &#xFFFE; &#65535; [link](/x "&#8;").\n',
    )
    assert digest("build", "-C", root).code == 0
    feed = feedparser.parse((root / "site" / "feed.xml").read_bytes())
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.entries[0].title == "Bell and null here"
    assert "As references:" in feed.entries[0].content[0].value


def test_malformed_links_and_sizes_in_inbox_files_stop_no_build(
    tmp_path: Path, digest: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = project(tmp_path)
    inbox = root / "content" / "inbox"
    write(
        inbox / "links.md",
        "---\ntitle: Links\ndate: 2024-01-01\n---\n\n[a](http://[x) ![i](//[y) [ok](https://o.example/)\n",
    )
    write(inbox / "page.html", "<html><body><article><h1>A page</h1></article></body></html>")
    assert digest("build", "-C", root).code == 0
    (stored,) = (root / "content" / "articles").rglob("links*.md")
    assert stored.read_text("utf-8").endswith("\n\na  [ok](https://o.example/)\n")
    # Whatever else a saved page makes the cleaner raise is that file's problem.
    write(inbox / "other.md", "---\ntitle: Other\ndate: 2024-01-02\n---\n\nText.\n")

    def boom(page: str, url: str = "", **_: object) -> None:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(clean, "clean_html", boom)
    result = digest("build", "-C", root)
    assert result.code == 0
    assert (
        "content/inbox/page.html: could not import it: RecursionError: maximum recursion depth"
        " exceeded — please report it" in result.out + result.err
    )
    assert list((root / "content" / "articles").rglob("other*.md"))


def test_tracking_pixels_go_whatever_their_size_says() -> None:
    html = (
        '<p>x <img src="https://w.example/a.png" width="\u00b2">'
        ' <img src="https://w.example/p.gif" width="01" height="1">'
        f' <img src="https://w.example/b.png" width="{"9" * 5000}"></p>'
    )
    assert clean.html_to_markdown(html, "https://e.org/") == (
        "x ![](https://w.example/a.png)  ![](https://w.example/b.png)"
    )

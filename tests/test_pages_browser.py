"""Every page type of the bundled example, as readers meet it in real Chromium.

axe-core (bundled by axe-playwright-python) checks the WCAG 2.1 A and AA rules in light and
dark mode; the tests also drive the keyboard, a 360 px phone, print media and the pages'
Content-Security-Policy. The site is built from the repository's own example, with two feeds
on a local server so that the Sources page exists, and served from 127.0.0.1 under the path
of its ``base_url``: no request may leave that origin but an article's own photo.
"""

from __future__ import annotations

import functools
import re
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import BrowserContext, Page, Request, Route, expect

from digest.cli import main
from tests.conftest import REPO, Run, project, read_page, write
from tests.feedserver import FeedServer
from tests.feedserver import Route as FeedRoute

LONG = "Pneumonoultramicroscopicsilicovolcanoconiosis" * 3
BASE = "/russia-china-watch/"  # the path of the example's base_url
PHOTO = "https://example.com/photos/samarkand-registan-at-dusk.jpg"
PAGES = {
    "home": "",
    "topics": "topics/",
    "topic": "topics/russia-china-relations/",
    "topic, page 2": "topics/russia-china-relations/page/2/",
    "article with a table": "2022/09/what-is-the-sco/",
    "article with a photo": "2022/09/samarkand-silk-road-city/",
    "article in Russian": "2022/09/putin-si-samarkand-ru/",
    "article in Chinese": "2022/09/sco-summit-closes-zh/",
    "article from an inbox dump": "2022/09/russia-china-strengthen-relations-with-high-level-meetings-amid-war-in-ukraine/",
    "article with words too long for a phone": "2022/09/long-words/",
    "archive": "archive/",
    "month": "archive/2022/09/",
    "sources": "sources/",
    "story": "stories/b91caa841d/",
    "source": "sources/eastern-review/",
    "source with a long name": f"sources/{LONG.lower()}/",
    "edition": "editions/2022-09-17/",
    "editions": "editions/",
    "search": "search/",
    "search with results": "search/?q=samarkand",
    "404": "no/such/page/",
}
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
LONG_WORDS = f"""---
title: {LONG}
date: 2022-09-21
source: {LONG}
---

{LONG} https://example.com/{LONG}/{LONG}

| Word | Address |
| --- | --- |
| {LONG} | https://example.com/{LONG} |
"""
RSS = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Local wire</title><link>http://127.0.0.1/</link>
<item><title>Moscow and Beijing sign a rail agreement</title><link>http://127.0.0.1/rail</link>
<guid>rail-1</guid><pubDate>Wed, 21 Sep 2022 09:00:00 +0000</pubDate>
<description>Russia and China agree to add freight trains across the border.</description></item>
</channel></rss>"""
# Every violation of the Content-Security-Policy, and every request, as the page reports them.
WATCH_CSP = """document.addEventListener("securitypolicyviolation", (e) => {
  (window.cspViolations ||= []).push(`${e.violatedDirective} ${e.blockedURI}`);
});"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The repository's example, built with two feeds (one good, one gone) into ``site/``."""
    root = tmp_path_factory.mktemp("example")
    shutil.copy(REPO / "digest.toml", root)
    shutil.copytree(REPO / "content", root / "content")
    write(root / "content" / "articles" / "2022" / "09" / "long-words.md", LONG_WORDS)
    with FeedServer() as server:
        server.routes["/wire.xml"] = FeedRoute(RSS)
        feeds = (
            f'\n[[feeds]]\nname = "Local wire"\nurl = "{server.url("/wire.xml")}"\n'
            f'\n[[feeds]]\nname = "Gone daily {LONG}"\nurl = "{server.url("/gone.xml")}"\n'
        )
        with (root / "digest.toml").open("a", encoding="utf-8") as config:
            config.write(feeds)
        assert main(["build", "-C", str(root)]) == 0
    return root / "site"


@pytest.fixture(scope="module")
def origin(site: Path) -> Iterator[str]:
    """The site served on 127.0.0.1 under its base path, with its 404 page for what is missing."""
    www = site.parent / "www"
    www.mkdir()
    (www / BASE.strip("/")).symlink_to(site, target_is_directory=True)

    class Handler(SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def send_error(
            self, code: int, message: str | None = None, explain: str | None = None
        ) -> None:
            if code != 404:
                super().send_error(code, message, explain)
                return
            body = (site / "404.html").read_bytes()
            self.send_response(404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=www))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}{BASE}"
    server.shutdown()
    server.server_close()


@dataclass
class Visit:
    page: Page
    outside: list[tuple[str, str]] = field(default_factory=list)
    """(resource type, URL) of every request that would have left file: and 127.0.0.1."""

    def csp_violations(self) -> list[str]:
        found: list[str] = self.page.evaluate("window.cspViolations || []")
        return found


def visit(
    chromium: BrowserContext,
    url: str,
    *,
    width: int = 1024,
    scheme: Literal["light", "dark"] = "light",
) -> Visit:
    """A new tab at ``url``; requests to other hosts are recorded and refused."""
    page = chromium.new_page()
    page.set_viewport_size({"width": width, "height": 800})
    page.emulate_media(color_scheme=scheme)
    page.add_init_script(WATCH_CSP)
    seen = Visit(page)

    def route(route: Route, request: Request) -> None:
        parts = urlsplit(request.url)
        if parts.scheme in ("file", "data", "blob") or parts.hostname == "127.0.0.1":
            route.continue_()
        else:
            seen.outside.append((request.resource_type, request.url))
            route.abort()

    page.route("**/*", route)
    page.goto(url)
    page.wait_for_load_state("load")
    return seen


def violations(page: Page, **options: Any) -> str:
    """axe-core's violations of WCAG 2.1 A and AA, one line each ('' when there are none)."""
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG}, **options})
    return "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']]}"
        for v in results.response["violations"]
    )


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("name", PAGES)
def test_every_page_type_passes_axe_and_asks_no_other_host(
    site: Path, origin: str, chromium: BrowserContext, name: str, scheme: Literal["light", "dark"]
) -> None:
    seen = visit(chromium, origin + PAGES[name], scheme=scheme)
    page = seen.page
    expect(page.locator("h1")).to_have_count(1)
    expect(page.locator(".masthead")).to_have_css("display", "flex")  # the stylesheet applies
    assert violations(page) == ""
    assert seen.csp_violations() == []
    wanted = [("image", PHOTO)] if name == "article with a photo" else []
    assert seen.outside == wanted
    page.close()


def test_the_story_page_shows_its_reports_the_copy_and_the_timeline(
    site: Path, origin: str, chromium: BrowserContext
) -> None:
    """The example's Samarkand story: three reports, one with a syndicated copy."""
    page = visit(chromium, origin + PAGES["story"]).page
    reports = page.locator("ol.reports > li")
    expect(reports).to_have_count(3)
    expect(page.locator("ol.reports")).to_contain_text("Putin and Xi meet in Samarkand")
    also = page.locator("p.also")
    expect(also).to_have_count(1)
    expect(also).to_be_visible()
    expect(also).to_contain_text("Also published by The Steppe Courier")
    expect(page.locator("p.first")).to_contain_text("First reported by")
    days = page.locator("ol.timeline > li")
    assert days.count() >= 2
    expect(days.first).to_be_visible()
    page.locator("p.also a").click()
    page.wait_for_load_state("load")
    assert page.url.endswith("/2022/09/putin-and-xi-meet-in-samarkand-courier/")
    expect(page.locator("nav.story-link a")).to_have_attribute(
        "href", "../../../stories/b91caa841d/"
    )
    page.close()


@pytest.mark.parametrize("name", PAGES)
def test_no_page_scrolls_sideways_on_a_360_px_phone(
    site: Path, origin: str, chromium: BrowserContext, name: str
) -> None:
    page = visit(chromium, origin + PAGES[name], width=360).page
    width, inner = page.evaluate("[document.scrollingElement.scrollWidth, window.innerWidth]")
    assert inner == 360
    assert width <= inner
    page.close()


def test_the_keyboard_alone_reaches_every_link_and_always_shows_where_it_is(
    site: Path, origin: str, chromium: BrowserContext
) -> None:
    page = visit(chromium, origin + PAGES["article with a table"]).page
    skip = page.locator("a.skip")
    expect(skip).not_to_be_in_viewport()
    page.keyboard.press("Tab")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    page.keyboard.press("Tab")
    assert page.evaluate("document.querySelector('main').contains(document.activeElement)")

    links = page.evaluate("document.querySelectorAll('a[href]').length")
    page.goto(page.url)  # from the top again, and once around the whole page
    focused = []
    for _ in range(links + 1):
        page.keyboard.press("Tab")
        focused.append(
            page.evaluate("""() => {
                const e = document.activeElement, s = getComputedStyle(e);
                return [e.tagName, e.getAttribute('href'), s.outlineStyle, parseFloat(s.outlineWidth)];
            }""")
        )
    reached = {href for tag, href, _, _ in focused if tag == "A"}
    hrefs = page.evaluate(
        "[...document.querySelectorAll('a[href]')].map(a => a.getAttribute('href'))"
    )
    assert reached == set(hrefs)
    for tag, href, style, outline in focused:
        if tag == "A":
            assert style != "none" and outline >= 2, f"no visible focus on {href}"
    page.close()


def test_dark_mode_follows_the_system_and_paper_gets_its_own_style(
    site: Path, origin: str, chromium: BrowserContext
) -> None:
    def background(page: Page) -> list[int]:
        colour = page.evaluate("getComputedStyle(document.body).backgroundColor")
        return [int(n) for n in re.findall(r"\d+", colour)[:3]]

    light = visit(chromium, origin + PAGES["article with a table"]).page
    assert min(background(light)) > 200
    dark = visit(chromium, origin + PAGES["article with a table"], scheme="dark").page
    assert max(background(dark)) < 60

    dark.emulate_media(media="print")  # paper is white even when the screen is dark
    assert min(background(dark)) == 255
    expect(dark.locator(".masthead nav")).to_be_hidden()
    expect(dark.locator(".neighbours").first).to_be_hidden()
    after = dark.evaluate(
        "getComputedStyle(document.querySelector('.original a'), '::after').content"
    )
    assert "https://example.net/harbour-post/explainer-sco" in after
    light.close()
    dark.close()


def test_articles_in_other_languages_say_so(site: Path) -> None:
    russian = read_page(site / PAGES["article in Russian"] / "index.html")
    (title,) = russian.find("h1")
    assert title[1].get("lang") == "ru"
    assert [e[1].get("lang") for e in russian.find("div", **{"class": "body"})] == ["ru"]
    assert russian.find("html")[0][1]["lang"] == "en"
    chinese = read_page(site / PAGES["article in Chinese"] / "index.html")
    assert chinese.find("h1")[0][1].get("lang") == "zh"
    english = read_page(site / PAGES["article with a table"] / "index.html")
    # only links to articles in other languages (related articles) carry a lang
    assert not [e for e in english.elements if "lang" in e[1] and e[0] not in ("html", "a")]
    month = read_page(site / PAGES["month"] / "index.html")
    titles = {month.text_of(e): e[1].get("lang") for e in month.find("h2")}
    assert titles["Путин и Си Цзиньпин провели переговоры в Самарканде"] == "ru"
    assert titles["上海合作组织撒马尔罕峰会闭幕"] == "zh"
    assert titles["Opinion: what Samarkand did not settle"] is None


def test_a_language_that_is_no_tag_is_left_out(tmp_path: Path, digest: Run) -> None:
    root = project(tmp_path)
    for name, tag in [("quote", '"><b>x'), ("space", "ru RU"), ("long", "r" * 40), ("site", "EN")]:
        write(
            root / "content" / "articles" / f"{name}.md",
            f"---\ntitle: {name}\ndate: 2024-01-01\nlanguage: '{tag}'\n---\nText.\n",
        )
    write(
        root / "content" / "articles" / "good.md",
        "---\ntitle: good\ndate: 2024-01-01\nlanguage: pt-BR\n---\nTexto.\n",
    )
    assert digest("build", "-C", root).code == 0
    for name in ("quote", "space", "long", "site"):
        page = read_page(root / "site" / name / "index.html")
        assert "lang" not in page.find("h1")[0][1], name
    assert read_page(root / "site" / "good" / "index.html").find("h1")[0][1]["lang"] == "pt-BR"


def test_every_page_has_a_policy_canonical_and_opengraph_tags(site: Path) -> None:
    pages = sorted(site.rglob("*.html"))
    assert len(pages) > 30
    for path in pages:
        text = path.read_text(encoding="utf-8")
        head = text[: text.index("</head>")]
        policy = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', head)
        assert policy, path
        # before anything it governs
        assert head.index(policy[0]) < head.index("<link"), path
        rules = dict(rule.strip().split(" ", 1) for rule in policy[1].split(";"))
        assert rules["default-src"] == "'none'"
        assert rules["script-src"] == rules["style-src"] == "'self'"
        assert rules["img-src"] == "'self' http: https:"
        page = read_page(path)
        meta = {e[1]["property"]: e[1]["content"] for e in page.find("meta") if "property" in e[1]}
        (canonical,) = [e[1]["href"] for e in page.find("link", rel="canonical")]
        assert canonical.startswith("https://example.org/russia-china-watch/")
        assert meta["og:url"] == canonical
        assert meta["og:site_name"] == "Russia–China Watch"
        assert meta["og:title"] and meta["og:description"]
        article = path.parent.parent.name == "09"
        assert meta["og:type"] == ("article" if article else "website"), path
    photo = read_page(site / PAGES["article with a photo"] / "index.html")
    meta = {e[1]["property"]: e[1]["content"] for e in photo.find("meta") if "property" in e[1]}
    assert meta["og:image"] == PHOTO
    assert meta["og:title"] == "Samarkand, a Silk Road city, dresses up for the region's leaders"
    (image,) = photo.find("img")
    assert image[1]["src"] == PHOTO
    assert image[1]["alt"].startswith("The three tiled madrasas")
    (caption,) = photo.find("figcaption")
    assert photo.text_of(caption) == (
        "The Registan, the square of three madrasas at the heart of Samarkand. "
        "Photo by Example Photo Agency"
    )


def test_the_policy_stops_scripts_and_styles_slipped_into_a_page(
    site: Path, origin: str, chromium: BrowserContext
) -> None:
    seen = visit(chromium, origin + PAGES["article with a photo"])
    page = seen.page
    colour = page.evaluate("getComputedStyle(document.body).color")
    page.evaluate("""() => {
        const inline = document.createElement("script");
        inline.textContent = "window.ran = true";
        document.body.append(inline);
        const style = document.createElement("style");
        style.textContent = "body { color: rgb(255, 0, 0) !important }";
        document.head.append(style);
        const foreign = document.createElement("script");
        foreign.src = "https://example.net/tracker.js";
        document.body.append(foreign);
        document.body.setAttribute("onclick", "window.ran = true");
        document.body.click();
    }""")
    page.wait_for_timeout(200)
    assert page.evaluate("window.ran === undefined")
    assert page.evaluate("getComputedStyle(document.body).color") == colour
    blocked = " ".join(seen.csp_violations())
    assert "script-src-elem inline" in blocked
    assert "style-src-elem inline" in blocked
    assert "script-src-elem https://example.net/tracker.js" in blocked
    assert "script-src-attr inline" in blocked
    assert ("script", "https://example.net/tracker.js") not in seen.outside  # never even asked
    page.close()


def test_the_folder_opened_from_disk_works_under_its_policy(
    site: Path, chromium: BrowserContext
) -> None:
    seen = visit(chromium, (site / "index.html").as_uri())
    expect(seen.page.locator(".masthead")).to_have_css("display", "flex")
    assert seen.csp_violations() == []
    assert seen.outside == []
    seen.page.close()


def search(chromium: BrowserContext, origin: str, query: str) -> list[tuple[str, str]]:
    """Type ``query`` into the search page; the results' titles and their links."""
    page = visit(chromium, origin + "search/").page
    page.locator("#q").fill(query)
    expect(page.locator("#status")).to_contain_text("match")
    found = page.evaluate(
        "[...document.querySelectorAll('#results h2 a')].map(a => [a.textContent, a.href])"
    )
    marks = page.evaluate("[...document.querySelectorAll('#results mark')].map(m => m.textContent)")
    page.close()
    assert marks, "no excerpt marks the words found"
    return [(title, href) for title, href in found]


@pytest.mark.parametrize(
    ("query", "title"),
    [
        ("Registan", "Samarkand, a Silk Road city, dresses up for the region's leaders"),
        ("Самарканде", "Путин и Си Цзиньпин провели переговоры в Самарканде"),
        ("宣言", "上海合作组织撒马尔罕峰会闭幕"),
        ("撒马尔罕峰会", "上海合作组织撒马尔罕峰会闭幕"),
    ],
)
def test_search_finds_an_article_by_a_word_of_it_in_any_script(
    site: Path, origin: str, chromium: BrowserContext, query: str, title: str
) -> None:
    found = search(chromium, origin, query)
    assert title in [t for t, _ in found]
    href = dict(found)[title]
    assert href.startswith(origin) and href.endswith("/")


def test_search_filters_by_topic_source_and_date(
    site: Path, origin: str, chromium: BrowserContext
) -> None:
    page = visit(chromium, origin + "search/?q=samarkand&source=Eastern+Review").page
    expect(page.locator("#status")).to_contain_text("match")
    sources = page.evaluate(
        "[...document.querySelectorAll('#results .source')].map(s => s.textContent)"
    )
    assert sources and set(sources) == {"Eastern Review"}
    page.close()
    page = visit(chromium, origin + "search/?q=samarkand&from=2022-09-17&to=2022-09-17").page
    expect(page.locator("#status")).to_contain_text("match")
    days = page.evaluate("[...document.querySelectorAll('#results time')].map(t => t.textContent)")
    assert days and set(days) == {"2022-09-17"}
    page.locator("#topic").select_option("War in Ukraine")  # no Samarkand article that day
    expect(page.locator("#status")).to_have_text("No article matches.")
    page.close()


def test_without_javascript_the_search_page_says_so(site: Path) -> None:
    page = read_page(site / "search" / "index.html")
    (notice,) = page.find("noscript")
    text = (site / "search" / "index.html").read_text("utf-8")
    assert "needs JavaScript" in text and 'href="../archive/"' in text
    assert notice


@pytest.mark.parametrize("query", ["constructor", "__proto__", "toString"])
def test_search_for_a_word_javascript_objects_already_have_finds_nothing_quietly(
    site: Path, origin: str, chromium: BrowserContext, query: str
) -> None:
    page = visit(chromium, origin + f"search/?q={query}").page
    expect(page.locator("#status")).to_have_text("No article matches.")
    page.close()

"""The generated feeds: three formats per scope, stable identity, absolute links, a gate."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import pytest
import yaml
from markupsafe import Markup

from digest import build, config
from digest.errors import ContentError
from digest.model import Article
from digest.render import feeds
from digest.render.markdown import html_and_text, markdown_to_html, plain_text
from tests.conftest import Run, read_page, write

FEEDS = ("feed.xml", "atom.xml", "feed.json")


def check_json_feed(data: dict[str, object]) -> None:
    """The fields JSON Feed 1.1 requires, with their types."""
    assert data["version"] == "https://jsonfeed.org/version/1.1"
    assert isinstance(data["title"], str) and data["title"]
    items = data["items"]
    assert isinstance(items, list)
    for item in items:
        assert isinstance(item["id"], str) and item["id"]
        assert isinstance(item.get("content_html") or item.get("content_text"), str)
        for key in ("url", "external_url"):
            if key in item:
                assert item[key].startswith(("http://", "https://"))
        for key in ("date_published", "date_modified"):
            if key in item:
                parsed = datetime.fromisoformat(item[key])
                assert parsed.tzinfo is not None
        for author in item.get("authors", []):
            assert isinstance(author["name"], str)


def test_every_scope_has_three_valid_feeds_linked_from_every_page(
    example: Path, digest: Run
) -> None:
    assert digest("build", "-C", example).code == 0
    site = example / "site"
    base = "https://example.org/russia-china-watch/"
    scopes = ["", *(f"topics/{p.name}/" for p in sorted((site / "topics").iterdir()) if p.is_dir())]
    assert len(scopes) == 3
    for scope in scopes:
        for name in ("feed.xml", "atom.xml"):
            parsed = feedparser.parse((site / scope / name).read_bytes())
            assert not parsed.bozo, (scope, name, parsed.get("bozo_exception"))
            assert parsed.entries
            self_links = [
                link["href"] for link in parsed.feed.get("links", []) if link.get("rel") == "self"
            ]
            assert self_links == [base + scope + name]
            for entry in parsed.entries:
                assert entry.link.startswith(base)
                assert entry.get("published_parsed")
        data = json.loads((site / scope / "feed.json").read_text("utf-8"))
        check_json_feed(data)
        assert data["feed_url"] == base + scope + "feed.json"
    for page in site.rglob("*.html"):
        hrefs = {link[1]["href"] for link in read_page(page).find("link", rel="alternate")}
        assert {base + n for n in FEEDS} <= hrefs, page


def test_ids_survive_new_titles_and_a_new_base_url(example: Path, digest: Run) -> None:
    digest("build", "-C", example)
    site = example / "site"

    def identities() -> dict[str, set[str]]:
        rss = feedparser.parse((site / "feed.xml").read_bytes())
        atom = feedparser.parse((site / "atom.xml").read_bytes())
        data = json.loads((site / "feed.json").read_text("utf-8"))
        return {
            "rss": {e.id for e in rss.entries},
            "atom": {e.id for e in atom.entries},
            "json": {i["id"] for i in data["items"]},
        }

    before = identities()
    assert before["rss"] == before["json"]
    assert before["atom"] == {f"urn:uuid:{i}" for i in before["rss"]}
    toml = example / "digest.toml"
    toml.write_text(
        toml.read_text("utf-8").replace("example.org/russia-china-watch", "news.example/rcw"),
        "utf-8",
    )
    for md in (example / "content" / "articles").rglob("*.md"):
        text = md.read_text("utf-8")
        old = yaml.safe_load(re.search(r"^title: (.+)$", text, re.M).group(1))  # type: ignore[union-attr]
        new = "title: " + json.dumps(f"Retitled {old}")
        md.write_text(re.sub(r"^title: .+$", new, text, count=1, flags=re.M), "utf-8")
    digest("build", "-C", example)
    assert identities() == before
    assert "Retitled" in (site / "feed.xml").read_text("utf-8")


def test_links_and_images_in_items_are_absolute(tmp_path: Path, digest: Run) -> None:
    root = tmp_path / "p"
    write(root / "digest.toml", 'base_url = "https://example.org/d/"\n')
    write(
        root / "content" / "articles" / "notes" / "n.md",
        "---\ntitle: Note\ndate: 2024-01-01\n---\n\n[rel](../other/) [root](/about) ![pic](img/p.png)\n",
    )
    write(
        root / "content" / "articles" / "src.md",
        "---\ntitle: Sourced\ndate: 2024-01-02\nurl: https://news.example/a/b.html\n---\n\n[more](c.html)\n",
    )
    assert digest("build", "-C", root).code == 0
    for name in ("feed.xml", "atom.xml"):
        parsed = feedparser.parse((root / "site" / name).read_bytes())
        html = " ".join(e.content[0].value for e in parsed.entries)
        urls = re.findall(r'(?:href|src)="([^"]+)"', html)
        # Relative to the article's page (notes/n/), as in Hugo; to the original when there is one.
        assert sorted(urls) == [
            "https://example.org/about",
            "https://example.org/d/notes/n/img/p.png",
            "https://example.org/d/notes/other/",
            "https://news.example/a/c.html",
        ]


def test_summary_only_feeds(tmp_path: Path, digest: Run) -> None:
    root = tmp_path / "p"
    write(root / "digest.toml", 'base_url = "https://e.org/"\nfeed_content = "summary"\n')
    write(
        root / "content" / "articles" / "a.md",
        "---\ntitle: A\ndate: 2024-01-01\nsummary: Short.\n---\n\nLong body text.\n",
    )
    digest("build", "-C", root)
    assert "Long body text" not in (root / "site" / "feed.xml").read_text("utf-8")
    assert "Long body text" not in (root / "site" / "atom.xml").read_text("utf-8")
    data = json.loads((root / "site" / "feed.json").read_text("utf-8"))
    assert data["items"][0]["content_text"] == "Short."


def test_feed_items_newest_first_and_limited(tmp_path: Path, digest: Run) -> None:
    root = tmp_path / "p"
    write(root / "digest.toml", 'base_url = "https://e.org/"\nfeed_items = 3\n')
    for day in range(1, 6):
        write(
            root / "content" / "articles" / f"d{day}.md",
            f"---\ntitle: Day {day}\ndate: 2024-01-0{day}\n---\nx\n",
        )
    digest("build", "-C", root)
    titles = [e.title for e in feedparser.parse((root / "site" / "atom.xml").read_bytes()).entries]
    assert titles == ["Day 5", "Day 4", "Day 3"]


def test_updated_moves_only_when_content_changes(tmp_path: Path) -> None:
    from tests.feedserver import FeedServer, Route
    from tests.test_feeds import item, rss  # the same canned feed helpers

    with FeedServer() as server:
        server.routes["/w.xml"] = Route(rss(item("a")), etag=False)
        root = tmp_path / "p"
        write(
            root / "digest.toml",
            f'base_url = "https://e.org/"\n[[feeds]]\nname = "W"\nurl = "{server.url("/w.xml")}"\n',
        )
        now = datetime(2024, 6, 1, tzinfo=UTC)
        build.build(root, now=now)
        first = feedparser.parse((root / "site" / "atom.xml").read_bytes()).entries[0].updated
        build.build(root, now=datetime(2024, 6, 2, tzinfo=UTC))
        assert (
            feedparser.parse((root / "site" / "atom.xml").read_bytes()).entries[0].updated == first
        )
        server.routes["/w.xml"] = Route(rss(item("a", body="<p>Changed.</p>")), etag=False)
        build.build(root, now=datetime(2024, 6, 3, tzinfo=UTC))
        after = feedparser.parse((root / "site" / "atom.xml").read_bytes()).entries[0].updated
        assert after == "2024-06-03T00:00:00+00:00" != first


def test_gate_names_the_article_to_fix(tmp_path: Path) -> None:
    write(tmp_path / "digest.toml", 'base_url = "https://e.org/"\n')
    cfg = config.load(tmp_path)
    good = datetime(2024, 1, 1, tzinfo=UTC)
    broken = [
        Article(id="1", title=" ", published=good, body="x", path="empty.md"),
        Article(id="2", title="Naive", published=datetime(2024, 1, 1), body="x", path="naive.md"),
        Article(id="3", title="Rel", published=good, body="x", path="rel.md"),
    ]
    with pytest.raises(ContentError) as caught:
        feeds.gate(cfg, broken)
    messages = [str(p) for p in caught.value.problems]
    assert messages[0] == "content/articles/empty.md: empty title — give the article a title"
    assert messages[1].startswith("content/articles/naive.md: date without a timezone")
    assert len(messages) == 2


def test_a_feed_template_that_breaks_the_xml_fails_the_build(example: Path, digest: Run) -> None:
    theme = config.DEFAULT_THEME / "feed.xml"
    write(example / "templates" / "feed.xml", theme.read_text("utf-8").replace("</channel>", ""))
    result = digest("build", "-C", example)
    assert result.code == 1
    assert result.err.startswith("error: templates/feed.xml: it made ")
    assert "feed.xml, which is not well-formed XML (mismatched tag: line " in result.err
    assert result.err.rstrip().endswith("— fix the feed template")


def test_bodies_lose_what_xml_forbids_and_get_absolute_links() -> None:
    body = (
        "# Head\u00e9\x01\n\nA\x00b\x08c\x0bd\x0ce\x1ff\ufffeg\uffffh \u4e2d\ufffd\t.\r\n\n"
        '[rel](../a%20b/?x=1&y=2 "t") [amp](p?q=1&amp;r=2) [abs](https://x.org/a) '
        "[](empty) [js](javascript:alert(1)) ![img](\u56fe.png)\n\n## Two\n"
    )
    html = str(markdown_to_html(body, "https://e.org/d/n/"))
    assert html == (
        "<h2>Head\u00e9</h2>\n<p>Abcdefgh \u4e2d\ufffd\t.</p>\n"
        '<p><a href="https://e.org/d/a%20b/?x=1&amp;y=2" title="t">rel</a> '
        '<a href="https://e.org/d/n/p?q=1&amp;r=2">amp</a> <a href="https://x.org/a">abs</a> '
        '<a href="https://e.org/d/n/empty"></a> js '
        '<img src="https://e.org/d/n/%E5%9B%BE.png" alt="img" /></p>\n<h2>Two</h2>\n'
    )
    assert not any(c in html for c in "\x00\x01\x08\x0b\x0c\x1f\ufffe\uffff")


def test_a_page_and_its_search_card_read_a_body_as_each_would_alone() -> None:
    # One parse serves both when the bytes they read are the same; a body with a character
    # XML forbids is read without it for the page and with it for the card.
    for body in (
        "# Head\n\n- [link](../x) ![img](p.png)\n\n| a | b |\n|---|---|\n| 1 | 2 |\n",
        "Tab\x01bed\ufffe [l](u)\n\n~~gone~~ <b>raw</b>\n",
    ):
        html, text = html_and_text(body, "https://e.org/d/")
        assert (html, text) == (markdown_to_html(body, "https://e.org/d/"), plain_text(body))
        assert isinstance(html, Markup)
    assert html_and_text("a\x01b [l](u)", "https://e.org/")[1] == "a\x01b l"
    assert plain_text("bad \ufffe\uffff char &#xFFFE;") == "bad char"  # not UTF-8 from cmark


def test_character_references_to_what_xml_forbids_are_dropped() -> None:
    # cmark-gfm turns &#1; into the character itself, and &#xFFFE; into a byte that is not UTF-8.
    body = '&#1;a&#x1F;b &#xFFFE;c&#65535; [l](u "&#8;t") ![&#2;i](p.png)'
    html = str(markdown_to_html(body, "https://e.org/"))
    assert html == (
        '<p>ab c <a href="https://e.org/u" title="t">l</a> '
        '<img src="https://e.org/p.png" alt="i" /></p>\n'
    )


def test_bodies_link_only_to_what_a_feed_reader_follows() -> None:
    # Reference links, autolinks and images get past cmark-gfm's safe mode with any scheme;
    # the feed gate refused those, and every build after such an article was stored failed.
    body = (
        "[ftp][1] [tel](tel:+123) xmpp:a@b.example ![inline][2] ![gopher](gopher://g/i.png)\n"
        "[no host](http:///x) [mail](MAILTO:a@b.example) ![mail](mailto:a@b.example)\n"
        '[rel](../a) <https://x.org/a?b&c> ![pic](p.png "T")\n\n'
        "[1]: ftp://x.example/a\n[2]: data:image/png;base64,AAAA\n"
    )
    html = str(markdown_to_html(body, "https://e.org/d/"))
    assert html == (
        '<p>ftp tel xmpp:a@b.example inline gopher\nno host <a href="MAILTO:a@b.example">mail</a>'
        ' mail\n<a href="https://e.org/a">rel</a> <a href="https://x.org/a?b&amp;c">'
        'https://x.org/a?b&amp;c</a> <img src="https://e.org/d/p.png" alt="pic" title="T" /></p>\n'
    )

"""Feeds against a real HTTP server on 127.0.0.1: every failure is reported, none aborts a build."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
import pytest

from digest import build
from digest.feedstate import Store
from digest.model import Report
from tests.conftest import Run, read_page, snapshot, write
from tests.feedserver import FeedServer, Route, running

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)


def rss(*items: str, title: str = "Example wire") -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
        f"<title>{title}</title><link>https://wire.example/</link><description>d</description>"
        + "".join(items)
        + "</channel></rss>"
    ).encode()


def item(
    guid: str,
    title: str = "Moscow and Beijing sign a deal",
    body: str = "<p>Russia and China signed a deal in Moscow.</p>",
    link: str = "",
    date: str = "Fri, 31 May 2024 10:00:00 GMT",
) -> str:
    link = link or f"https://wire.example/{guid}"
    return (
        f'<item><guid isPermaLink="false">{guid}</guid><title>{title}</title><link>{link}</link>'
        + (f"<pubDate>{date}</pubDate>" if date else "")
        + f"<description><![CDATA[{body}]]></description></item>"
    )


@pytest.fixture
def server() -> Iterator[FeedServer]:
    yield from running()


def site(
    tmp_path: Path, server: FeedServer, feeds: dict[str, str], extra: str = "", fetch: str = ""
) -> Path:
    """A project subscribed to ``feeds`` (name → server path); ``fetch`` lines override the
    [fetch] settings here.

    The server is on 127.0.0.1, where redirects and item pages are refused unless
    ``allow_private_networks``: tests of that rule set it to false.
    """
    root = tmp_path / "proj"
    limits = {"timeout": "1.5", "max_bytes": "200000", "allow_private_networks": "true"}
    limits |= dict(line.split(" = ", 1) for line in fetch.splitlines() if line)
    text = (
        'title = "Feeds"\nbase_url = "https://example.org/f/"\n[fetch]\n'
        + "".join(f"{key} = {value}\n" for key, value in limits.items())
        + '[[topics]]\ntitle = "Russia–China relations"\nrequire = [["Russia", "Moscow"], ["China", "Beijing"]]\n'
    )
    for name, path in feeds.items():
        text += f'[[feeds]]\nname = "{name}"\nurl = "{server.url(path)}"\n' + extra
    write(root / "digest.toml", text)
    return root


def stored(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root / "content" / "articles").as_posix(): p.read_text("utf-8")
        for p in sorted((root / "content" / "articles").rglob("*.md"))
    }


def tally(report: Report, name: str) -> str:
    return next(str(t) for t in report.sources if t.name == name)


def test_items_become_articles_with_feed_metadata(tmp_path: Path, server: FeedServer) -> None:
    server.routes["/wire.xml"] = Route(rss(item("a1"), item("a2", title="Second item")))
    root = site(tmp_path, server, {"Wire": "/wire.xml"})
    report = build.build(root, now=NOW)
    assert tally(report, "Wire") == "Wire: 2 new, 0 updated, 0 unchanged"
    texts = list(stored(root).values())
    assert len(texts) == 2
    first = next(t for t in texts if "Moscow and Beijing" in t)
    assert "source: Wire\n" in first
    assert f"feed: {server.url('/wire.xml')}\n" in first
    assert "url: https://wire.example/a1\n" in first
    assert "date: 2024-05-31 10:00:00+00:00\n" in first
    assert "- Russia–China relations" in first
    assert "guid: a1" in first
    assert "Russia and China signed a deal in Moscow." in first
    assert server.requests("/wire.xml")[0]["user-agent"].startswith("digest/")


def test_second_build_gets_304_and_rewrites_nothing(tmp_path: Path, server: FeedServer) -> None:
    server.routes["/wire.xml"] = Route(rss(item("a1"), item("a2")))
    root = site(tmp_path, server, {"Wire": "/wire.xml"})
    build.build(root, now=NOW)
    before = snapshot(root / "content") | snapshot(root / "site")
    report = build.build(root, now=NOW + timedelta(hours=1))
    assert tally(report, "Wire") == "Wire: not modified"
    second = server.requests("/wire.xml")[1]
    assert second["if-none-match"]
    assert snapshot(root / "content") | snapshot(root / "site") == before


def test_unchanged_items_are_not_rewritten_and_changed_ones_keep_their_id(
    tmp_path: Path, server: FeedServer
) -> None:
    server.routes["/wire.xml"] = Route(rss(item("a1"), item("a2", title="Other")), etag=False)
    root = site(tmp_path, server, {"Wire": "/wire.xml"})
    build.build(root, now=NOW)
    before = stored(root)
    server.routes["/wire.xml"] = Route(
        rss(
            item("a1", body="<p>Russia and China signed a revised deal.</p>"),
            item("a2", title="Other"),
        ),
        etag=False,
    )
    later = NOW + timedelta(days=1)
    report = build.build(root, now=later)
    assert tally(report, "Wire") == "Wire: 0 new, 1 updated, 1 unchanged"
    after = stored(root)
    assert after.keys() == before.keys()
    changed = [k for k in after if after[k] != before[k]]
    assert len(changed) == 1
    old_id = re.search(r"^id: (.+)$", before[changed[0]], re.M)
    new_id = re.search(r"^id: (.+)$", after[changed[0]], re.M)
    assert old_id and new_id and old_id.group(1) == new_id.group(1)
    assert "updated: 2024-06-02 12:00:00+00:00" in after[changed[0]]
    assert "date: 2024-05-31 10:00:00+00:00" in after[changed[0]]


def test_same_article_in_two_feeds_is_stored_once_with_both_sources(
    tmp_path: Path, server: FeedServer
) -> None:
    server.routes["/a.xml"] = Route(
        rss(item("x", link="https://news.example/story?utm_source=rss"))
    )
    server.routes["/b.xml"] = Route(rss(item("y", link="https://news.example/story?fbclid=abc")))
    root = site(tmp_path, server, {"Alpha": "/a.xml", "Beta": "/b.xml"})
    build.build(root, now=NOW)
    (text,) = stored(root).values()
    assert "url: https://news.example/story\n" in text
    assert "source: Alpha" in text
    assert "also:\n- Beta" in text
    assert text.endswith("---\n\nRussia and China signed a deal in Moscow.\n")  # body kept
    before = stored(root)
    build.build(root, now=NOW)
    assert stored(root) == before


def test_failures_are_reported_per_feed_and_never_abort(tmp_path: Path, server: FeedServer) -> None:
    big = rss(*(item(f"g{i}", body="<p>" + "x" * 5000 + "</p>") for i in range(60)))
    server.routes.update(
        {
            "/ok.xml": Route(rss(item("ok"))),
            "/gzip.xml": Route(rss(item("gz", title="Compressed")), gzip=True),
            "/html": Route(
                b"<!doctype html><html><body><p>Hello</p></body></html>", content_type="text/html"
            ),
            "/empty.xml": Route(b""),
            "/broken.xml": Route(b"<rss><channel><item><title>Lenient</ti"),
            "/garbage.xml": Route(b"\x00\x01 this is not a feed at all"),
            "/big.xml": Route(big),
            "/slow.xml": Route(rss(item("slow", body="<p>" + "s" * 3000 + "</p>")), delay=0.4),
            "/gone.xml": Route(b"", status=410),
            "/busy.xml": Route(b"", status=429, headers={"Retry-After": "120"}),
            "/moved.xml": Route(b"", status=301, headers={"Location": "/ok.xml"}),
        }
    )
    feeds = {
        "OK": "/ok.xml", "Gzip": "/gzip.xml", "Page": "/html", "Empty": "/empty.xml",
        "Broken": "/broken.xml", "Garbage": "/garbage.xml", "Big": "/big.xml", "Slow": "/slow.xml", "Gone": "/gone.xml",
        "Busy": "/busy.xml", "Moved": "/moved.xml", "Missing": "/missing.xml",
    }  # fmt: skip
    root = site(tmp_path, server, feeds)
    report = build.build(root, now=NOW)
    lines = {t.name: str(t) for t in report.sources}
    assert lines["OK"] == "OK: 1 new, 0 updated, 0 unchanged"
    assert lines["Gzip"] == "Gzip: 1 new, 0 updated, 0 unchanged"
    assert lines["Page"] == "Page: error: an HTML page, not a feed: use the feed's own URL"
    assert lines["Empty"] == "Empty: error: empty response"
    assert lines["Broken"].startswith("Broken: 1 new, 0 updated, 0 unchanged (not well-formed (")
    assert lines["Broken"].endswith("); read leniently)")
    assert lines["Garbage"].startswith("Garbage: error: not a readable feed")
    assert lines["Big"] == (
        "Big: error: response larger than 200,000 bytes; not read"
        " (raise [fetch] max_bytes if the feed is really that big)"
    )
    assert lines["Slow"] == "Slow: error: no complete answer within 1.5 s"
    assert lines["Gone"] == "Gone: gone: the server said 410 Gone: remove it from digest.toml"
    assert lines["Busy"] == "Busy: error: HTTP 429; backing off for 120 s as the server asked"
    assert lines["Missing"] == "Missing: error: HTTP 404"
    assert lines["Moved"] == "Moved: 0 new, 1 updated, 0 unchanged"  # OK's item: a second source
    assert report.written

    build.build(root, now=NOW + timedelta(seconds=30))
    assert len(server.requests("/gone.xml")) == 1  # never asked again
    assert len(server.requests("/busy.xml")) == 1  # not before Retry-After
    assert len(server.requests("/moved.xml")) == 1  # the permanent redirect is remembered
    sources = read_page(root / "site" / "sources" / "index.html").text
    assert "the server asked to wait until 2024-06-01T12:02:00+00:00" in sources
    assert "410 Gone" in sources and "never" in sources


def test_lying_retry_after_and_validators_cost_at_most_a_day(
    tmp_path: Path, server: FeedServer
) -> None:
    server.routes.update(
        {
            # Sent as Latin-1: "²" passes str.isdigit, and float() refuses it.
            "/superscript.xml": Route(b"", status=503, headers={"Retry-After": "\u00b2"}),
            "/forever.xml": Route(b"", status=429, headers={"Retry-After": "9" * 30}),
            "/unzoned.xml": Route(b"", status=503, headers={"Retry-After": _UNZONED}),
            "/etag.xml": Route(
                rss(item("e")), headers={"ETag": '"\u00e9"', "Last-Modified": "\u00e9"}, etag=False
            ),
        }
    )
    feeds = {"Sup": "/superscript.xml", "Forever": "/forever.xml", "Unzoned": "/unzoned.xml"}
    root = site(tmp_path, server, feeds | {"Etag": "/etag.xml"})
    report = build.build(root, now=NOW)
    assert tally(report, "Sup") == "Sup: error: HTTP 503; backing off for 600 s as the server asked"
    assert tally(report, "Forever") == (
        "Forever: error: HTTP 429; backing off for 86400 s as the server asked"
    )
    assert tally(report, "Unzoned") == (
        "Unzoned: error: HTTP 503; backing off for 0 s as the server asked"
    )
    assert tally(report, "Etag") == "Etag: 1 new, 0 updated, 0 unchanged"
    # A day later each is asked again; the validators a request cannot carry were not kept.
    report = build.build(root, now=NOW + timedelta(days=1, seconds=1))
    assert len(server.requests("/forever.xml")) == 2
    assert tally(report, "Etag") == "Etag: 0 new, 0 updated, 1 unchanged"
    assert "if-none-match" not in server.requests("/etag.xml")[-1]
    # A wait stored before waits had a cap, past datetime's range, is not obeyed.
    with Store(root / ".digest" / "state.sqlite") as store:
        store.put(replace(store.get(server.url("/forever.xml")), retry_at=1e30))
    report = build.build(root, now=NOW + timedelta(days=3))
    assert len(server.requests("/forever.xml")) == 3


_UNZONED = "Mon, 01 Jan 2024 00:00:00 -0000"


def test_last_good_copy_is_used_when_a_fetch_fails(tmp_path: Path, server: FeedServer) -> None:
    server.routes["/wire.xml"] = Route(rss(item("a1")))
    root = site(tmp_path, server, {"Wire": "/wire.xml"})
    build.build(root, now=NOW)
    shutil.rmtree(root / "content" / "articles")
    server.routes["/wire.xml"] = Route(b"oops", status=500)
    report = build.build(root, now=NOW)
    assert (
        tally(report, "Wire")
        == "Wire: error: HTTP 500 (last good copy: 1 new, 0 updated, 0 unchanged)"
    )
    assert len(stored(root)) == 1


def test_offline_build_fetches_nothing(tmp_path: Path, server: FeedServer, digest: Run) -> None:
    server.routes["/wire.xml"] = Route(rss(item("a1")))
    root = site(tmp_path, server, {"Wire": "/wire.xml"})
    result = digest("build", "--offline", "-C", root)
    assert result.code == 0
    assert server.log == []
    before = snapshot(root / "site")
    result = digest("fetch", "-C", root)
    assert "Wire: 1 new" in result.out
    assert snapshot(root / "site") == before
    assert len(stored(root)) == 1


def test_hostile_items_leave_nothing_executable(tmp_path: Path, server: FeedServer) -> None:
    hostile = item(
        "h1",
        title="&lt;script&gt;alert('t')&lt;/script&gt;Moscow and Beijing",
        body=(
            "<p onclick=\"alert(1)\">Russia and China <script>alert('c')</script>"
            '<img src=x onerror=alert(1)> <a href="javascript:alert(2)">link</a>'
            '<iframe src="https://evil.example"></iframe>'
            '<img src="https://t.example/pixel.gif" width="1" height="1"></p>'
        ),
    ).replace("</item>", "<author>x@y.z (&lt;img src=x onerror=alert(3)&gt;)</author></item>")
    server.routes["/evil.xml"] = Route(rss(hostile))
    root = site(tmp_path, server, {"Evil": "/evil.xml"})
    build.build(root, now=NOW)
    pattern = re.compile(r"<\s*(script|iframe)|onerror|onclick|javascript:|pixel\.gif", re.I)
    for path in [*(root / "content").rglob("*.md"), *(root / "site").rglob("*.*")]:
        text = path.read_text("utf-8")
        if path.suffix == ".xml":
            text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
        text = text.replace('<script src="../static/search.js" defer></script>', "")  # its own
        assert not pattern.search(text), (path, pattern.search(text))


def test_feeds_that_break_the_parsers_are_per_feed_errors(
    tmp_path: Path, server: FeedServer
) -> None:
    # Each of these raised out of feedparser, json or markdownify and stopped the whole build.
    broken = {
        "surrogate": rss(item("s", title="Moscow &#55296; Beijing")),  # UnicodeEncodeError
        "beyond": rss(item("b", title="Moscow &#x110000; Beijing")),  # ValueError
        "wrapped": rss("<item><title>t</title><category><item/>x</category></item>"),  # KeyError
        # markdownify's RecursionError: that item is left out, the others are not
        "deep": rss(item("d", body="<div>" * 2000 + "x"), item("fine-too")),
    }
    for name, body in broken.items():
        server.routes[f"/{name}.xml"] = Route(body)
    version = '"version": "https://jsonfeed.org/version/1.1"'
    server.routes["/digits.json"] = Route(f'{{{version}, "x": {"9" * 5000}}}'.encode())
    server.routes["/nested.json"] = Route(f'{{{version}, "x": {"[" * 100_000}'.encode())
    escaped = (
        f'{{{version}, "items": [{{"id": "j\\ud800", "url": "https://j.example/a\\udc00",'
        ' "title": "Lone \\ud800 half", "content_html": "<p>Body \\udfff text</p>",'
        ' "authors": [{"name": "Ann\\ud800"}]}, {"id": "k", "url": "http://[oops/",'
        ' "title": "Bad URL", "content_text": "Kept."}]}'
    )
    server.routes["/j.json"] = Route(escaped.encode(), content_type="application/feed+json")
    server.routes["/fine.xml"] = Route(rss(item("fine")))
    port = {"Location": "http://127.0.0.1:99999/feed.xml"}  # anyio raises a group of one
    server.routes["/redirect.xml"] = Route(b"", status=301, headers=port)
    feeds = {name: f"/{name}.xml" for name in [*broken, "redirect"]} | {
        "digits": "/digits.json",
        "nested": "/nested.json",
        "J": "/j.json",
        "F": "/fine.xml",
    }
    root = site(tmp_path, server, feeds)
    report = build.build(root, now=NOW)
    errors = {name: tally(report, name) for name in [*broken, "digits", "nested"]}
    assert errors.pop("deep") == (
        "deep: 1 new, 0 updated, 0 unchanged (1 item(s) left out, which digest could not clean"
        " ('d': RecursionError))"
    )
    assert errors["surrogate"].startswith("surrogate: error: not a readable feed: Unicode")
    assert errors["beyond"].startswith("beyond: error: not a readable feed: ValueError")
    assert errors["wrapped"].startswith("wrapped: error: not a readable feed: KeyError")
    assert tally(report, "redirect").startswith(
        "redirect: error: digest could not read it: OverflowError: connect(): port must be"
    )
    assert errors["digits"].startswith("digits: error: not valid JSON: Exceeds the limit")
    assert errors["nested"].startswith("nested: error: not valid JSON: maximum recursion")
    # Lone surrogates from JSON escapes become U+FFFD, which UTF-8 files can hold.
    assert tally(report, "J") == "J: 2 new, 0 updated, 0 unchanged"  # "http://[oops/": no URL
    assert tally(report, "F") == "F: 1 new, 0 updated, 0 unchanged"
    (text,) = [t for t in stored(root).values() if "source: J" in t and "Lone" in t]
    assert "title: Lone \ufffd half" in text
    assert "Body \ufffd text" in text
    assert "- Ann\ufffd" in text
    assert (root / "site" / "feed.xml").is_file()


def test_links_a_feed_reader_cannot_follow_leave_every_build_working(
    tmp_path: Path, server: FeedServer
) -> None:
    body = (
        "<p>Moscow [c][1] and Beijing</p><p>[1]: ftp://x.example/a</p><p>xmpp:a@b.example</p>"
        '<p><a href="https://ok.example/x">ok</a></p>'
    )
    server.routes["/odd.xml"] = Route(rss(item("odd", body=body)))
    root = site(tmp_path, server, {"Odd": "/odd.xml"})
    write(
        root / "content" / "articles" / "local.md",
        "---\ntitle: Local\ndate: 2024-05-01\nurl: www.example.com/story\n---\n\n"
        "[call](tel:+123) ![i](data:image/png;base64,AA) [more](/more)\n",
    )
    for offline in (False, True):  # the article is stored: the second build reads it back
        report = build.build(root, now=NOW, offline=offline)
        assert report.problems == ()
    parsed = feedparser.parse((root / "site" / "feed.xml").read_bytes())
    html = " ".join(e.content[0].value for e in parsed.entries)
    assert "call" in html
    assert "Moscow c and Beijing" in html
    assert 'href="https://ok.example/x"' in html
    # Against the page when the url is none: the link to /more is not lost.
    assert 'href="https://example.org/more"' in html
    assert all(u.startswith("https://") for u in re.findall(r'(?:href|src)="([^"]*)"', html))


def test_dates_at_the_ends_of_time_leave_every_build_working(
    tmp_path: Path, server: FeedServer
) -> None:
    # Year 1 shown in New York is year 0, which datetime cannot hold: each of these was
    # stored, and then every build failed with OverflowError.
    server.routes["/old.xml"] = Route(
        rss(item("old", date="Mon, 01 Jan 0001 00:00:00 GMT"), item("new"))
    )
    version = '"version": "https://jsonfeed.org/version/1.1"'
    items = [
        {"id": "a", "title": "Moscow and Beijing a", "date_published": "0001-01-01T00:00:00+14:00"},
        {"id": "b", "title": "Moscow and Beijing b", "date_published": "2024-05-31T10:00:00+99:00"},
    ]
    server.routes["/j.json"] = Route(f'{{{version}, "items": {json.dumps(items)}}}'.encode())
    root = site(tmp_path, server, {"Old": "/old.xml", "J": "/j.json"})
    config = root / "digest.toml"
    config.write_text('timezone = "America/New_York"\n' + config.read_text("utf-8"), "utf-8")
    write(
        root / "content" / "inbox" / "page.html",
        '<html><head><meta property="article:published_time" content="9999-12-31T23:59:59-14:00">'
        "<title>Far</title></head><body><article><h1>Far</h1><p>"
        + "Moscow and Beijing met again this week to talk trade and energy. " * 5
        + "</p></article></body></html>",
    )
    write(
        root / "content" / "articles" / "ancient.md",
        "---\ntitle: Ancient\ndate: 0001-01-01\n---\nText.\n",
    )
    for offline in (False, True):  # the articles are stored: the second build reads them back
        report = build.build(root, now=NOW, offline=offline)
        assert [str(p) for p in report.problems] == [
            "content/articles/ancient.md:3: date 0001-01-01 is out of range"
            " — give a year from 2 to 9998, and an offset within ±24 hours"
        ]
        assert report.articles == 5
    dates = sorted(re.findall(r"^date: (.+)$", "".join(stored(root).values()), re.M))
    assert dates[0] == "0001-01-01"  # the hand-written file is left as it is
    assert all(d.startswith(("2024-05-31", "2024-06-01", "2026")) for d in dates[1:]), dates


def test_json_feed_and_dates(tmp_path: Path, server: FeedServer) -> None:
    feed = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "J",
        "home_page_url": "https://j.example/",
        "items": [
            {"id": "1", "url": "/one", "title": "Dated", "content_html": "<p>One <a href='/rel'>rel</a></p>",
             "date_published": "2024-05-30T08:00:00+02:00", "authors": [{"name": "Ann"}]},
            {"id": "2", "title": "Undated", "content_text": "Plain text.\n\nSecond paragraph."},
            {"id": "3", "title": "Future", "content_text": "Later.", "date_published": "2099-01-01T00:00:00Z"},
        ],
    }  # fmt: skip
    server.routes["/feed.json"] = Route(
        json.dumps(feed).encode(), content_type="application/feed+json"
    )
    root = site(tmp_path, server, {"J": "/feed.json"})
    build.build(root, now=NOW)
    texts = {re.search(r"^title: (.+)$", t, re.M).group(1): t for t in stored(root).values()}  # type: ignore[union-attr]
    assert "date: 2024-05-30 08:00:00+02:00" in texts["Dated"]
    assert "url: https://j.example/one" in texts["Dated"]
    assert "[rel](https://j.example/rel)" in texts["Dated"]
    assert "- Ann" in texts["Dated"]
    assert "date: 2024-06-01 12:00:00+00:00" in texts["Undated"]  # first seen
    assert "Plain text.\n\nSecond paragraph." in texts["Undated"]
    assert "date: 2024-06-01 12:00:00+00:00" in texts["Future"]  # not trusted: first seen
    before = stored(root)
    build.build(root, now=NOW + timedelta(days=3))
    assert stored(root) == before  # first-seen dates do not move


def test_include_exclude_and_topic_hints(tmp_path: Path, server: FeedServer) -> None:
    server.routes["/wire.xml"] = Route(
        rss(
            item("1", title="Moscow talks", body="<p>Beijing too.</p>"),
            item("2", title="Football results", body="<p>Moscow won.</p>"),
            item("3", title="Weather", body="<p>Rain.</p>"),
        )
    )
    root = site(
        tmp_path, server, {"Wire": "/wire.xml"},
        'include = ["Moscow"]\nexclude = ["football"]\ntopics = ["Wire picks"]\n',
    )  # fmt: skip
    build.build(root, now=NOW)
    (text,) = stored(root).values()
    assert "title: Moscow talks" in text
    assert "- Russia–China relations\n- Wire picks" in text


def test_opml_import_and_export(tmp_path: Path, digest: Run) -> None:
    root = tmp_path / "p"
    write(root / "digest.toml", 'base_url = "https://e.org/"\n')
    opml = write(
        tmp_path / "subs.opml",
        '<?xml version="1.0"?><opml version="2.0"><head/><body>'
        '<outline text="News"><outline text="A &amp; B" title="A &amp; B" type="rss" xmlUrl="https://a.example/rss"/></outline>'
        '<outline text="C" xmlUrl="https://c.example/feed"/><outline text="bad" xmlUrl="file:///etc/passwd"/>'
        "</body></opml>",
    )
    result = digest("feeds", "import", "-C", root, opml)
    assert result.code == 0, result.err
    assert "added 2 feeds" in result.out
    assert "added 0 feeds" in digest("feeds", "import", "-C", root, opml).out
    exported = digest("feeds", "export", "-C", root).out
    assert 'text="A &amp; B"' in exported and 'xmlUrl="https://c.example/feed"' in exported
    from digest import config

    assert [f.url for f in config.load(root).feeds] == [
        "https://a.example/rss",
        "https://c.example/feed",
    ]


def test_full_text_fetches_the_page_and_falls_back_to_the_summary(
    tmp_path: Path, server: FeedServer
) -> None:
    page = (
        "<html><head><title>Long read</title></head><body><nav>Menu Home</nav><article>"
        "<h1>Long read</h1>"
        + "".join(
            f"<p>Paragraph {n} of the full article about Moscow and Beijing, long enough"
            " to be taken for the main text of the page by the extractor.</p>"
            for n in range(6)
        )
        + "</article><footer>Copyright</footer></body></html>"
    )
    server.routes["/a/long.html"] = Route(page.encode(), content_type="text/html; charset=utf-8")
    server.routes["/wire.xml"] = Route(
        rss(
            item("long", body="<p>Teaser only.</p>", link=server.url("/a/long.html")),
            item("gone", body="<p>Summary kept.</p>", link=server.url("/a/missing.html")),
        )
    )
    root = site(tmp_path, server, {"Wire": "/wire.xml"}, "full_text = true\n")
    build.build(root, now=NOW)
    texts = {re.search(r"^url: (.+)$", t, re.M).group(1): t for t in stored(root).values()}  # type: ignore[union-attr]
    long_body = texts[server.url("/a/long.html")].split("\n---\n\n", 1)[1]
    assert "Paragraph 5 of the full article" in long_body
    assert "Teaser only." not in long_body
    assert "Menu Home" not in long_body
    assert "Summary kept." in texts[server.url("/a/missing.html")].split("\n---\n\n", 1)[1]
    requests = len(server.requests("/a/long.html"))
    build.build(root, now=NOW)
    assert len(server.requests("/a/long.html")) == requests  # stored articles are not fetched again


def test_opml_import_keeps_comments_and_any_title_as_valid_toml(
    tmp_path: Path, digest: Run
) -> None:
    """An emoji is one character in TOML, never a pair of JSON surrogate escapes."""
    root = tmp_path / "p"
    write(root / "digest.toml", '# my digest\nbase_url = "https://e.org/"  # where it lives\n')
    opml = write(
        tmp_path / "subs.opml",
        '<?xml version="1.0"?><opml version="2.0"><head/><body>'
        '<outline text="Новости 🗞 &quot;live&quot;" xmlUrl="https://a.example/rss"/>'
        "</body></opml>",
    )
    assert digest("feeds", "import", "-C", root, opml).code == 0
    text = (root / "digest.toml").read_text("utf-8")
    assert text.startswith('# my digest\nbase_url = "https://e.org/"  # where it lives\n')
    from digest import config

    assert [f.name for f in config.load(root).feeds] == ['Новости 🗞 "live"']
    assert digest("feeds", "export", "-C", root).code == 0


def test_an_items_picture_is_kept_with_its_credit_and_shown(
    tmp_path: Path, server: FeedServer
) -> None:
    media = (
        '<media:content width="140" url="https://img.example/small.jpg"/>'
        '<media:content width="460" url="https://img.example/large.jpg">'
        '<media:credit scheme="urn:ebu">Photograph: Ann &lt;b&gt;Lee&lt;/b&gt;</media:credit>'
        "</media:content>"
    )
    guardian = item("g1").replace("</item>", media + "</item>")
    enclosure = item("e1", title="Enclosed").replace(
        "</item>", '<enclosure url="https://img.example/e.png" type="image/png" length="1"/></item>'
    )
    hostile = item("h1", title="Hostile").replace(
        "</item>", '<media:thumbnail url="javascript:alert(1)"/></item>'
    )
    feed = rss(guardian, enclosure, hostile).replace(
        b'<rss version="2.0">', b'<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/">'
    )
    server.routes["/media.xml"] = Route(feed)
    as_json = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "J",
        "home_page_url": "https://j.example/",
        "items": [{"id": "j1", "title": "Pictured", "content_text": "Text.", "image": "/p.jpg"}],
    }
    server.routes["/feed.json"] = Route(
        json.dumps(as_json).encode(), content_type="application/json"
    )
    root = site(tmp_path, server, {"Media": "/media.xml", "J": "/feed.json"})
    build.build(root, now=NOW)
    texts = {re.search(r"^title: (.+)$", t, re.M).group(1): t for t in stored(root).values()}  # type: ignore[union-attr]
    assert "url: https://img.example/large.jpg" in texts["Moscow and Beijing sign a deal"]
    assert "credit: 'Photograph: Ann Lee'" in texts["Moscow and Beijing sign a deal"]
    assert "url: https://img.example/e.png" in texts["Enclosed"]
    assert "image:" not in texts["Hostile"]
    assert "url: https://j.example/p.jpg" in texts["Pictured"]
    page = next(p for p in (root / "site").rglob("index.html") if "moscow-and-beijing" in str(p))
    assert '<img src="https://img.example/large.jpg"' in page.read_text("utf-8")
    rss_out = feedparser.parse((root / "site" / "feed.xml").read_bytes())
    pictured = {e.title: e.get("media_content", [{}])[0].get("url") for e in rss_out.entries}
    assert pictured["Moscow and Beijing sign a deal"] == "https://img.example/large.jpg"
    assert pictured["Hostile"] is None
    items = json.loads((root / "site" / "feed.json").read_text("utf-8"))["items"]
    assert {i["title"]: i.get("image") for i in items}["Pictured"] == "https://j.example/p.jpg"


def test_a_picture_address_with_controls_or_quotes_cannot_break_a_feed(
    tmp_path: Path, server: FeedServer
) -> None:
    hostile = 'https://img.example/\u0000a.png"><script>alert(1)</script>'
    as_json = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "J",
        "items": [{"id": "c", "url": "https://c.example/ok", "title": "Ctl", "content_text": "x",
                   "image": hostile}],
    }  # fmt: skip
    server.routes["/feed.json"] = Route(
        json.dumps(as_json).encode(), content_type="application/json"
    )
    root = site(tmp_path, server, {"J": "/feed.json"})
    assert not build.build(root, now=NOW).problems
    assert not build.build(root, now=NOW, offline=True).problems  # the stored article builds
    items = json.loads((root / "site" / "feed.json").read_text("utf-8"))["items"]
    assert (
        items[0]["image"] == "https://img.example/%00a.png%22%3E%3Cscript%3Ealert(1)%3C/script%3E"
    )
    assert feedparser.parse((root / "site" / "feed.xml").read_bytes()).bozo == 0


def test_a_pictures_description_is_its_caption_not_the_article() -> None:
    from digest.sources import feeds

    media = (
        '<media:content url="https://img.example/x.jpg">'
        "<media:description>Floods in Beijing, on Monday</media:description></media:content>"
    )
    body = "<p>Floods hit Beijing on Monday after three days of rain across the north.</p>"
    feed = rss(item("m1", body=body).replace("</item>", media + "</item>")).replace(
        b'<rss version="2.0">', b'<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/">'
    )
    entry = feeds.parse(feed, {}, "https://wire.example/feed").entries[0]
    assert "three days of rain" in entry.html
    assert entry.image is not None and entry.image.caption == "Floods in Beijing, on Monday"


def test_an_items_address_is_stored_as_http_url_leaves_it() -> None:
    from digest.model import http_url
    from digest.sources.feeds import canonical_url

    # Found by the feed-mapping fuzz run: courlan decoded the "%3C" that http_url wrote.
    for link in (
        "http://www.krone.at/Nachrichten/Russ<ische?utm_source=x",
        'https://a.example/x y"z',
    ):
        stored = canonical_url(link)
        assert stored and http_url(stored) == stored
        assert "<" not in stored and '"' not in stored and " " not in stored

"""Hostile networks, against a real server on 127.0.0.1: what a feed may make digest fetch,
how much it may make digest decode, how many items it may add, and how little it may cost
the other feeds."""

from __future__ import annotations

import gzip
import tracemalloc
import zlib
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from digest import build, config
from digest.sources import feeds
from tests.feedserver import FeedServer, Route, running
from tests.test_feeds import NOW, item, rss, site, stored, tally

GUARDED = "allow_private_networks = false\n"
SECRET = b"<html><body><article><p>" + b"The secret of the intranet. " * 40 + b"</p></article>"


@pytest.fixture
def server() -> Iterator[FeedServer]:
    yield from running()


def test_a_listed_feed_on_loopback_is_read_but_pages_it_chose_there_are_refused(
    tmp_path: Path, server: FeedServer
) -> None:
    port = server.url("/").rsplit(":", 1)[1].rstrip("/")
    server.routes["/secret.html"] = Route(SECRET, content_type="text/html")
    server.routes["/secret.html?by=name"] = server.routes["/secret.html"]
    server.routes["/wire.xml"] = Route(
        rss(
            item("literal", link=server.url("/secret.html")),
            # A name, not an address: only the check on the address connected can see it.
            item("named", link=f"http://localhost:{port}/secret.html?by=name"),
        )
    )
    root = site(tmp_path, server, {"Wire": "/wire.xml"}, "full_text = true\n", GUARDED)
    report = build.build(root, now=NOW)
    line = tally(report, "Wire")
    assert line.startswith("Wire: 2 new, 0 updated, 0 unchanged (full text not fetched for 2")
    assert "refused 127.0.0.1: a private or reserved address" in line
    assert "allow_private_networks = true" in line
    assert server.requests("/secret.html") == []
    assert server.requests("/secret.html?by=name") == []
    assert not any("secret of the intranet" in text for text in stored(root).values())

    # The same project, allowed: the pages are fetched, so the refusal above was the rule's.
    allowed = site(tmp_path / "allowed", server, {"Wire": "/wire.xml"}, "full_text = true\n")
    build.build(allowed, now=NOW)
    assert sum("secret of the intranet" in text for text in stored(allowed).values()) == 2


def test_every_redirect_hop_is_checked(tmp_path: Path, server: FeedServer) -> None:
    port = server.url("/").rsplit(":", 1)[1].rstrip("/")
    server.routes["/inner.xml"] = Route(rss(item("inner")))
    server.routes["/to-address.xml"] = Route(
        b"", status=302, headers={"Location": server.url("/inner.xml")}
    )
    server.routes["/to-name.xml"] = Route(
        b"", status=301, headers={"Location": f"http://localhost:{port}/inner.xml"}
    )
    feeds_ = {"Address": "/to-address.xml", "Name": "/to-name.xml"}
    root = site(tmp_path, server, feeds_, fetch=GUARDED)
    report = build.build(root, now=NOW)
    assert tally(report, "Address").startswith("Address: error: refused 127.0.0.1: a private")
    assert tally(report, "Name").startswith("Name: error: refused localhost (127.0.0.1")
    assert server.requests("/inner.xml") == []
    assert stored(root) == {}


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1",
     "0.0.0.0", "224.0.0.1",  # noqa: S104 "240.0.0.1", "255.255.255.255", "::1", "fe80::1%eth0",
     "fc00::1", "ff02::1", "::ffff:8.8.8.8", "2002:7f00:1::1", "::"],
)  # fmt: skip
def test_addresses_a_stranger_may_not_choose(address: str) -> None:
    assert feeds._private(address)


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert not feeds._private(address)


def _fetch(root: Path) -> dict[str, feeds.Outcome]:
    return {o.feed.name: o for o in feeds.fetch_all(config.load(root), now=NOW)}


def test_only_one_content_encoding_layer_and_decoding_is_bounded(
    tmp_path: Path, server: FeedServer
) -> None:
    feed = rss(item("fine"))
    bomb = gzip.compress(b" " * 50_000_000, compresslevel=9)  # 49 kB that decode to 50 MB
    deflate = zlib.compressobj(wbits=-zlib.MAX_WBITS)  # bare deflate, as some servers send
    server.routes.update(
        {
            "/twice.xml": Route(
                gzip.compress(gzip.compress(feed)), headers={"Content-Encoding": "gzip, gzip"}
            ),
            "/bomb.xml": Route(bomb, headers={"Content-Encoding": "gzip"}),
            "/br.xml": Route(feed, headers={"Content-Encoding": "br"}),
            "/gzip.xml": Route(gzip.compress(feed), headers={"Content-Encoding": "gzip"}),
            "/deflate.xml": Route(
                deflate.compress(feed) + deflate.flush(), headers={"Content-Encoding": "deflate"}
            ),
            "/zlib.xml": Route(zlib.compress(feed), headers={"Content-Encoding": "deflate"}),
        }
    )
    names = ["twice", "bomb", "br", "gzip", "deflate", "zlib"]
    root = site(tmp_path, server, {n: f"/{n}.xml" for n in names})
    tracemalloc.start()
    try:
        outcomes = _fetch(root)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert outcomes["twice"].reason == "content encoded 2 times (gzip, gzip); one layer is read"
    assert outcomes["bomb"].reason.startswith("response larger than 200,000 bytes; not read")
    assert outcomes["br"].reason == "content encoded as 'br', which digest does not read"
    for name in ("gzip", "deflate", "zlib"):
        assert outcomes[name].status == "fetched" and len(outcomes[name].articles) == 1, name
    assert peak < 20_000_000  # the bomb was stopped at the cap, not decoded whole


def test_a_feed_adds_at_most_max_items_new_articles_and_says_what_it_skipped(
    tmp_path: Path, server: FeedServer
) -> None:
    start = NOW - timedelta(days=1)
    items = [
        item(
            f"i{n}",
            title=f"Item {n}",
            date=f"{start + timedelta(minutes=n):%a, %d %b %Y %H:%M:%S} GMT",
        )
        for n in range(130)
    ]
    server.routes["/many.xml"] = Route(
        rss(*items[::-1]), etag=False
    )  # newest first, as feeds list them
    server.routes["/oldest-first.xml"] = Route(rss(*items))
    root = site(tmp_path, server, {"Many": "/many.xml", "Oldest": "/oldest-first.xml"})
    outcomes = _fetch(root)
    for name in ("Many", "Oldest"):
        titles = {a.title for a in outcomes[name].articles}
        assert titles == {f"Item {n}" for n in range(30, 130)}, name  # the newest 100
        assert (
            outcomes[name].reason == "30 older item(s) skipped: [fetch] max_items reads 100 a feed"
        )
    report = build.build(root, now=NOW)
    assert tally(report, "Many") == (
        "Many: 100 new, 0 updated, 0 unchanged"
        " (30 older item(s) skipped: [fetch] max_items reads 100 a feed)"
    )


def test_hostile_feeds_on_the_same_host_leave_a_healthy_one_read_in_full(
    tmp_path: Path, server: FeedServer
) -> None:
    healthy = rss(*(item(f"ok{n}", title=f"Healthy item {n}", date="") for n in range(2000)))
    # 1.4 MB that take seconds to parse and clean: on the event loop, the healthy feed's
    # request, then in flight, would see its deadline pass while digest was busy.
    page = "".join(
        f"<p>Paragraph {n} with <b>bold</b> and <a href='https://x.example/{n}'>a link</a>.</p>"
        for n in range(200)
    )
    heavy = rss(*(item(f"heavy{n}", body=f"<div>{page}</div>") for n in range(80)))
    server.routes.update(
        {
            "/healthy.xml": Route(healthy, delay=0.1, chunk=len(healthy) // 10 + 1),
            "/heavy.xml": Route(heavy),
            "/drip.xml": Route(rss(item("drip")), delay=1.0),
            "/bomb.xml": Route(
                gzip.compress(b"<" * 20_000_000), headers={"Content-Encoding": "gzip"}
            ),
            "/comments.xml": Route(rss(item("c", title="<!--" * 20_000))),
        }
    )
    names = ["healthy", "heavy", "drip", "bomb", "comments"]
    limits = "timeout = 2\nmax_bytes = 3000000\nmax_items = 2000\nper_host = 8\n"
    root = site(tmp_path, server, {n: f"/{n}.xml" for n in names}, fetch=limits + GUARDED)
    outcomes = _fetch(root)
    assert outcomes["healthy"].status == "fetched", outcomes["healthy"].reason
    assert len(outcomes["healthy"].articles) == 2000
    assert len(outcomes["heavy"].articles) == 80
    assert outcomes["drip"].reason == "no complete answer within 2 s"
    assert outcomes["bomb"].reason.startswith("response larger than 3,000,000 bytes")
    assert outcomes["comments"].articles[0].title == "Untitled"

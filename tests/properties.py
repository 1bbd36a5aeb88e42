"""Properties that must hold for any input, shared by the quick run in tests/test_fuzz.py
and the long one in bench/fuzz.py (which takes the number of examples).

Each target is a Hypothesis strategy and a check; `run` tries one with a budget.
"""

from __future__ import annotations

import functools
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from digest import archive, config, frontmatter, group
from digest.config import Config, Feed
from digest.errors import ContentError
from digest.model import Article, Image, Origin, http_url, plain
from digest.render import plan
from digest.sources import feeds

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
ZONE = ZoneInfo("UTC")
SHARED = Path(__file__).resolve().parent.parent.parent / "shared"
CORPUS_FEEDS = SHARED / "corpus" / "feeds"
SMALL_FEED = 40_000
"""Corpus feeds up to this size are mutated: a larger one costs seconds an example."""


@functools.cache
def project() -> Config:
    """A project folder of its own, for the checks that need a `Config`."""
    root = Path(tempfile.mkdtemp(prefix="digest-fuzz-"))
    (root / "digest.toml").write_text(
        'base_url = "https://example.org/"\n[[topics]]\ntitle = "Russia"\nrequire = [["Russia"]]\n',
        encoding="utf-8",
    )
    return config.load(root)


def _inside(folder: Path, relative: str) -> bool:
    target = (folder / relative).resolve()
    return folder.resolve() in target.parents


# Front matter: a dump then a parse gives the same article -----------------------------

_text = st.text(max_size=120).map(plain)
_zones = st.sampled_from(
    [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(-timedelta(hours=8))]
)
_moments = st.datetimes(
    min_value=datetime(1900, 1, 1), max_value=datetime(2100, 1, 1), timezones=_zones
)
_urls = st.sampled_from(["", "https://example.org/a", "http://x.example/b?c=d&e=f#g"])
_names = st.lists(_text.filter(bool), max_size=3).map(tuple)

articles = st.builds(
    Article,
    id=st.uuids().map(str),
    title=_text.filter(bool),
    published=_moments,
    body=st.text(max_size=300),
    source=_text,
    feed=_urls,
    also=_names,
    url=_urls,
    authors=_names,
    summary=_text,
    topics=st.none() | _names,
    updated=st.none() | _moments,
    image=st.none() | st.builds(Image, caption=_text, credit=_text, url=_urls, alt=_text),
    origin=st.none()
    | st.builds(Origin, path=_text, sha256=st.text("0123456789abcdef", max_size=64), guid=_text),
)


def round_trip(article: Article) -> None:
    """An article dumped and parsed again is the same article."""
    text = frontmatter.dump(article)
    again = frontmatter.parse(text, Path("a.md"), "2024/01/a.md", ZONE)
    expected = replace(
        article,
        body=again.body,
        path="2024/01/a.md",
        topics=article.topics or None,  # an empty list is not written: the rules decide
    )
    assert again.body.strip() == article.body.strip()
    assert again == expected, (again, expected)
    assert frontmatter.is_untouched(text) == (article.origin is not None)


# Front matter: no input raises anything but ContentError -----------------------------

_yaml_bits = st.sampled_from(
    ["title: ", "date: ", "2024-05-01", "\n", "---", "- ", "[", "]", "{", "}", ": ", "&a ", "*a",
     "!!python/object:os.system ", "'", '"', "? ", "|", ">", "#", "\t", "  ", "topics: ",
     "authors: ", "image: ", "origin: ", "updated: ", "9999-12-31", "0001-01-01", "\ufeff"]
)  # fmt: skip
front_matter_texts = st.one_of(
    st.text(max_size=300),
    st.lists(_yaml_bits | st.text(max_size=8), max_size=40).map(lambda parts: "".join(parts)),
    st.lists(_yaml_bits | st.text(max_size=8), max_size=40).map(
        lambda parts: "---\n" + "".join(parts) + "\n---\n\nBody.\n"
    ),
)


def front_matter_errors(text: str) -> None:
    """Any text parses to an article or raises ContentError naming the file; nothing else."""
    try:
        article = frontmatter.parse(text, Path("a.md"), "a.md", ZONE)
    except ContentError as exc:
        assert str(exc).startswith("a.md"), str(exc)
        return
    assert article.title and article.title == plain(article.title)


# Feeds: mutated corpus feeds map to text-only articles, or to a FetchError -------------


@functools.cache
def corpus_feeds() -> tuple[bytes, ...]:
    if not CORPUS_FEEDS.is_dir():
        return ()
    paths = sorted(
        p for p in CORPUS_FEEDS.iterdir() if p.suffix in (".xml", ".json", ".rss", ".atom", ".rdf")
    )
    return tuple(p.read_bytes() for p in paths if p.stat().st_size <= SMALL_FEED)


@dataclass(frozen=True)
class Mutation:
    at: float
    """Where, as a fraction of the length."""
    kind: str
    data: bytes


_mutations = st.lists(
    st.builds(
        Mutation,
        at=st.floats(0, 1),
        kind=st.sampled_from(["flip", "insert", "delete", "repeat"]),
        data=st.binary(min_size=1, max_size=64)
        | st.sampled_from([b"<", b"&", b"]]>", b"<![CDATA[", b"</item>", b"<item>", b"\x00",
                           b"&#xD800;", b"<script>", b'"', b"{", b"\xff\xfe", b"<!--"]),
    ),
    min_size=1,
    max_size=8,
)  # fmt: skip


def mutate(body: bytes, mutations: list[Mutation]) -> bytes:
    for m in mutations:
        at = int(m.at * len(body))
        if m.kind == "flip" and body:
            at = min(at, len(body) - 1)
            body = body[:at] + bytes([body[at] ^ m.data[0]]) + body[at + 1 :]
        elif m.kind == "insert":
            body = body[:at] + m.data + body[at:]
        elif m.kind == "delete":
            body = body[:at] + body[at + len(m.data) :]
        else:
            body = body[:at] + body[at : at + len(m.data) * 8] * 3 + body[at:]
    return body


def feed_inputs() -> st.SearchStrategy[tuple[bytes, list[Mutation]]]:
    return st.tuples(st.sampled_from(corpus_feeds()), _mutations)


def feed_mapping(case: tuple[bytes, list[Mutation]]) -> None:
    """A mutated feed is read, or refused with a FetchError; its articles hold only text."""
    body = mutate(*case)
    kind = "application/feed+json" if body.lstrip()[:1] == b"{" else "application/xml"
    try:
        parsed = feeds.parse(body, {"content-type": kind}, "https://feed.example/feed")
    except feeds.FetchError:
        return
    feed = Feed("Fuzzed", "https://feed.example/feed")
    found, _ = feeds._articles(parsed.entries, feed, project(), NOW)
    for article in found:
        assert article.title and article.title == plain(article.title)
        assert all(a == plain(a) for a in article.authors)
        assert article.summary == plain(article.summary)
        assert article.url == "" or http_url(article.url) == article.url
        assert "<script" not in article.body.lower()


# Slugs and paths: nothing leaves content/ or site/ ------------------------------------

_segments = st.lists(
    st.sampled_from(["..", ".", "", "~", "%2e%2e", "con", "index", "topics", "static"])
    | st.text(max_size=20),
    min_size=1,
    max_size=5,
).map("/".join)


def paths_stay_inside(case: tuple[str, str, str]) -> None:
    """A title's file, a file's page and a topic's page all stay in their folders."""
    title, path, topic = case
    cfg = project()
    article = Article(id="0b7c0b7c-0000-4000-8000-000000000000", title=plain(title) or "x",
                      published=NOW, body="", path=path)  # fmt: skip
    stored = archive._free_path(article, {}, cfg)
    assert _inside(cfg.articles, stored), stored
    assert stored.endswith(".md") and "\\" not in stored and "\0" not in stored
    for page in plan._article_paths([article]).values():
        assert _inside(cfg.output, page), page
        assert ".." not in page.split("/")
    slug = group._slug(topic)
    assert not slug or _inside(cfg.output, f"topics/{slug}/"), slug


path_cases = st.tuples(st.text(max_size=200), _segments, st.text(max_size=60))


# The targets, and one way to run them -------------------------------------------------

TARGETS: dict[str, tuple[Callable[[], st.SearchStrategy[Any]], Callable[[Any], None]]] = {
    "front matter round trip": (lambda: articles, round_trip),
    "front matter errors": (lambda: front_matter_texts, front_matter_errors),
    "feed mapping": (feed_inputs, feed_mapping),
    "slugs and paths": (lambda: path_cases, paths_stay_inside),
}


def run(name: str, examples: int, *, on_example: Callable[[], None] = lambda: None) -> None:
    """Try ``examples`` generated inputs on a target; raise on the first that fails."""
    strategy, check = TARGETS[name]

    def counted(value: Any) -> None:
        on_example()
        check(value)

    test = settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=False,
        suppress_health_check=list(HealthCheck),
    )(given(strategy())(counted))
    test()

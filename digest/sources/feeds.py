"""RSS, Atom and JSON feeds → `Article` records.

The only module that uses feedparser and the HTTP client. Fetching is polite
and defensive: bounded concurrency overall and per host, a deadline for the
whole request, a body-size cap, conditional GET, permanent redirects
remembered, 410 and Retry-After honoured, and the last good copy used when a
fetch fails. One bad feed never stops the others: it becomes an `Outcome`
with a reason.
"""

from __future__ import annotations

import asyncio
import calendar
import contextlib
import email.utils
import functools
import hashlib
import ipaddress
import json
import re
import socket
import sys
import time
import zlib
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, ParamSpec, TypeVar
from urllib.parse import urljoin, urlsplit

import feedparser
import httpcore
import httpx
from charset_normalizer import from_bytes
from courlan import normalize_url
from dateutil import parser as dateutil_parser
from tqdm import tqdm

from digest import __version__, clean, group
from digest.config import Config, Feed, Fetching
from digest.feedstate import FeedState, Store
from digest.model import (
    DATE_LIMIT,
    Article,
    Image,
    Origin,
    http_url,
    mint_id,
    plain,
    renderable,
)

USER_AGENT = f"digest/{__version__} (news digest generator; +https://pypi.org/project/digest/)"
_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/json;q=0.9,"
    " application/xml;q=0.8, text/xml;q=0.8, */*;q=0.1"
)
FUTURE_SLACK = timedelta(days=1)
"""An item dated further ahead than this is dated when digest first saw it instead."""
_BACK_OFF = 600.0
"""Seconds to wait after a 429 or 503 that gives no Retry-After."""
_LONGEST_WAIT = 86_400.0
"""The longest a server's Retry-After is obeyed: one that names a later year is lying."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to one feed in this build."""

    feed: Feed
    status: str
    """``fetched``, ``not modified``, ``error`` or ``gone``."""
    reason: str = ""
    articles: tuple[Article, ...] = ()


class FetchError(Exception):
    """A fetch or parse failure, with a reason a person can act on."""


@dataclass(frozen=True, slots=True)
class _Response:
    status: int
    url: str
    headers: Mapping[str, str]
    body: bytes
    permanent: str
    """The final URL when every redirect on the way was permanent, else empty."""


def fetch_all(
    config: Config, *, now: datetime, known: frozenset[str] = frozenset()
) -> list[Outcome]:
    """Fetch every feed of the config and turn its items into articles.

    ``known`` holds the ids of articles already stored, whose pages need not be
    fetched again for ``full_text`` feeds.
    """
    if not config.feeds:
        return []
    with Store(config.state / "state.sqlite") as store:
        states = [store.get(feed.url) for feed in config.feeds]
        results = asyncio.run(_fetch_all(config, states, now, known))
        for _, state in results:
            store.put(state)
    return [outcome for outcome, _ in results]


async def _fetch_all(
    config: Config, states: list[FeedState], now: datetime, known: frozenset[str]
) -> list[tuple[Outcome, FeedState]]:
    show = tqdm(
        total=len(states),
        desc="fetching feeds",
        unit="feed",
        disable=not sys.stderr.isatty(),
        leave=False,
    )
    async with _Session(config.fetching) as session:

        async def one(feed: Feed, state: FeedState) -> tuple[Outcome, FeedState]:
            try:
                return await _fetch_feed(feed, state, session, config, now, known)
            except Exception as exc:  # a stranger's feed must not stop the build
                # anyio's ExceptionGroup for a redirect to port 99999, say, or a bug of ours:
                # this feed's error. The state is left as it was, so its last good copy stays.
                while isinstance(exc, ExceptionGroup) and exc.exceptions:
                    exc = exc.exceptions[0]  # anyio's group of one says nothing itself
                reason = f"digest could not read it: {type(exc).__name__}: {exc} (please report it)"
                stamp = now.isoformat(timespec="seconds")
                return Outcome(feed, "error", reason), replace(
                    state, last_error=reason, last_error_at=stamp
                )
            finally:
                show.update()

        results = await asyncio.gather(
            *(one(feed, state) for feed, state in zip(config.feeds, states, strict=True))
        )
    show.close()
    return list(results)


_REDIRECTS = 5
_P = ParamSpec("_P")
_T = TypeVar("_T")


class _Session:
    """The HTTP clients, the request limits and the worker that parses and cleans.

    Two clients keep the network rules: the feeds the user listed may live anywhere,
    while every address a feed or page chose (a redirect, an item's page) must be
    public, checked on the URL and again on the address actually connected.
    Parsing and cleaning run on one worker thread, so a feed that takes seconds to
    clean never stalls the others' requests, whose deadlines measure the server.
    """

    def __init__(self, limits: Fetching) -> None:
        self.limits = limits
        self._overall = asyncio.Semaphore(limits.concurrency)
        self._hosts: dict[str, asyncio.Semaphore] = {}
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="digest-parse")
        options: dict[str, Any] = {
            # One layer of gzip or deflate, decoded here under the size cap (see _body).
            "headers": {"User-Agent": USER_AGENT, "Accept-Encoding": "gzip, deflate"},
            "timeout": httpx.Timeout(limits.timeout, connect=min(10.0, limits.timeout)),
            "follow_redirects": False,  # each hop is checked in _get
        }
        self._listed = httpx.AsyncClient(**options)
        self._chosen = self._listed
        if not limits.allow_private_networks:
            self._chosen = httpx.AsyncClient(transport=_PublicTransport(), **options)

    async def __aenter__(self) -> _Session:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._listed.aclose()
        if self._chosen is not self._listed:
            await self._chosen.aclose()
        self._worker.shutdown(wait=True)

    async def work(self, job: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T:
        """Run parsing or cleaning on the worker thread, leaving the event loop to the network."""
        call = functools.partial(job, *args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(self._worker, call)

    async def get(self, url: str, headers: Mapping[str, str], *, listed: bool) -> _Response:
        """GET under the overall and per-host limits; ``listed`` for a URL from digest.toml."""
        host = urlsplit(url).netloc
        semaphore = self._hosts.setdefault(host, asyncio.Semaphore(self.limits.per_host))
        async with self._overall, semaphore:
            # The deadline starts here, once the request leaves digest's queue.
            return await self._get(url, headers, listed)

    async def _get(self, url: str, headers: Mapping[str, str], listed: bool) -> _Response:
        """GET with a deadline for the whole exchange, each redirect hop checked, and a cap
        on the decoded body."""
        limits = self.limits
        client = self._listed if listed else self._chosen
        permanent = True
        try:
            async with asyncio.timeout(limits.timeout):
                for hop in range(_REDIRECTS + 1):
                    if client is not self._listed:
                        _check_address(url)
                    async with client.stream("GET", url, headers=headers) as response:
                        following = response.next_request
                        if following is None:
                            body = await _body(response, limits.max_bytes)
                            return _Response(
                                response.status_code,
                                str(response.url),
                                dict(response.headers),
                                body,
                                url if hop and permanent else "",
                            )
                        permanent = permanent and response.status_code in (301, 308)
                    url = str(following.url)
                    client = self._chosen  # the server chose where to go next
                raise FetchError("too many redirects")
        except TimeoutError:
            raise FetchError(f"no complete answer within {limits.timeout:g} s") from None
        except httpx.InvalidURL as exc:
            raise FetchError(f"invalid URL: {exc}") from None
        except httpx.HTTPError as exc:
            raise FetchError(f"cannot fetch: {type(exc).__name__}: {exc}".rstrip(": ")) from None


def _check_address(url: str) -> None:
    """Refuse a URL whose host is written as an address that is not public."""
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return  # the client reports the URL itself
    with contextlib.suppress(ValueError):
        if _private(host):
            raise FetchError(_refusal(host, host))


def _private(address: str) -> bool:
    """Whether an IP address is one no stranger may send digest to: loopback, private,
    link-local, reserved, multicast, unspecified, or IPv4 wrapped in IPv6."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # an IPv6 zone: "fe80::1%eth0"
    if isinstance(ip, ipaddress.IPv6Address) and (ip.ipv4_mapped or ip.sixtofour or ip.teredo):
        return True
    return not ip.is_global or ip.is_multicast or ip.is_reserved


def _refusal(host: str, address: str) -> str:
    where = host if host == address else f"{host} ({address})"
    return (
        f"refused {where}: a private or reserved address that a feed or page chose"
        " (set [fetch] allow_private_networks = true to allow it)"
    )


class _PublicOnly(httpcore.AsyncNetworkBackend):
    """Resolves each host itself and connects only to public addresses, to the very
    address it checked: a name that resolves to a public address once and to
    127.0.0.1 the next time (DNS rebinding) is caught when connecting."""

    def __init__(self) -> None:
        self._backend = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        try:
            found = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from None
        addresses = list(dict.fromkeys(str(info[4][0]) for info in found))
        for address in addresses:
            if _private(address):
                raise FetchError(_refusal(host, address))
        failure: Exception = httpcore.ConnectError(f"{host} has no address")
        for address in addresses:
            try:
                return await self._backend.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        raise failure

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("no Unix sockets for addresses a feed chose")

    async def sleep(self, seconds: float) -> None:
        await self._backend.sleep(seconds)


class _PublicTransport(httpx.AsyncHTTPTransport):
    """httpx's transport with a connection pool that connects through `_PublicOnly`."""

    def __init__(self) -> None:
        super().__init__()
        # httpx has no argument for a network backend; its pool, built the same way, has.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(), network_backend=_PublicOnly()
        )


_WBITS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}


async def _body(response: httpx.Response, cap: int) -> bytes:
    """The body, decoded from at most one layer of gzip or deflate, with the size cap on
    the decoded bytes as they stream: a 2 kB bomb stops at the cap, not at 2 GB."""
    codings = [
        c
        for c in (
            part.strip().lower() for part in response.headers.get("content-encoding", "").split(",")
        )
        if c and c != "identity"
    ]
    if len(codings) > 1:
        raise FetchError(
            f"content encoded {len(codings)} times ({', '.join(codings)}); one layer is read"
        )
    if codings and codings[0] not in _WBITS:
        raise FetchError(f"content encoded as {codings[0]!r}, which digest does not read")
    inflate = zlib.decompressobj(_WBITS[codings[0]]) if codings else None
    raw_deflate = False  # "deflate" is zlib-wrapped by the standard, bare by some servers
    chunks: list[bytes] = []
    size = 0
    async for data in response.aiter_raw():
        while data and not (inflate and inflate.eof):
            if inflate is None:
                out, data = data, b""
            else:
                try:
                    out = inflate.decompress(data, cap - size + 1)
                except zlib.error as exc:
                    if codings[0] != "deflate" or size or raw_deflate:
                        raise FetchError(f"cannot decode its {codings[0]} content: {exc}") from None
                    inflate, raw_deflate = zlib.decompressobj(-zlib.MAX_WBITS), True
                    continue
                data = inflate.unconsumed_tail
            size += len(out)
            if size > cap:
                raise FetchError(
                    f"response larger than {cap:,} bytes; not read"
                    " (raise [fetch] max_bytes if the feed is really that big)"
                )
            chunks.append(out)
    return b"".join(chunks)


async def _fetch_feed(
    feed: Feed,
    state: FeedState,
    session: _Session,
    config: Config,
    now: datetime,
    known: frozenset[str],
) -> tuple[Outcome, FeedState]:
    stamp = now.isoformat(timespec="seconds")
    if state.gone:
        return Outcome(feed, "gone", "the server said 410 Gone: remove it from digest.toml"), state
    # A longer wait was stored before waits had a cap: it may be past datetime's range.
    if now.timestamp() < state.retry_at <= now.timestamp() + _LONGEST_WAIT:
        until = datetime.fromtimestamp(state.retry_at, UTC).isoformat(timespec="seconds")
        reason = f"the server asked to wait until {until}"
        return await _fallback(feed, state, reason, session, config, now)
    conditional = {"Accept": _ACCEPT}
    if state.body is not None and state.etag:
        conditional["If-None-Match"] = state.etag
    if state.body is not None and state.last_modified:
        conditional["If-Modified-Since"] = state.last_modified
    try:
        # A remembered redirect was the server's choice, not the user's.
        response = await session.get(
            state.location or feed.url, conditional, listed=not state.location
        )
    except FetchError as exc:
        return await _fallback(feed, state, str(exc), session, config, now)
    if response.permanent:
        state = replace(state, location=response.permanent)
    if response.status == 304:
        return Outcome(feed, "not modified"), replace(state, last_success=stamp)
    if response.status == 410:
        state = replace(state, gone=True, last_error="410 Gone", last_error_at=stamp)
        return Outcome(feed, "gone", "the server said 410 Gone: remove it from digest.toml"), state
    if response.status in (429, 503):
        wait = _retry_after(response.headers.get("retry-after", ""), now)
        state = replace(state, retry_at=now.timestamp() + wait)
        reason = f"HTTP {response.status}; backing off for {wait:.0f} s as the server asked"
        return await _fallback(feed, state, reason, session, config, now)
    if not 200 <= response.status < 300:
        return await _fallback(feed, state, f"HTTP {response.status}", session, config, now)
    try:
        parsed = await session.work(parse, response.body, response.headers, response.url)
    except FetchError as exc:
        return await _fallback(feed, state, str(exc), session, config, now)
    state = replace(
        state,
        etag=_token(response.headers.get("etag", "")),
        last_modified=_token(response.headers.get("last-modified", "")),
        last_success=stamp,
        content_type=response.headers.get("content-type", ""),
        content_location=response.url,
        body=response.body,
    )
    articles, notes = await session.work(_articles, parsed.entries, feed, config, now)
    if feed.full_text:
        articles, missed = await _full_texts(articles, session, known)
        notes.append(missed)
    reason = "; ".join(r for r in (parsed.warning, *notes) if r)
    return Outcome(feed, "fetched", reason, tuple(articles)), state


async def _fallback(
    feed: Feed, state: FeedState, reason: str, session: _Session, config: Config, now: datetime
) -> tuple[Outcome, FeedState]:
    """Record the error; read the last good copy so nothing it held is lost."""
    state = replace(state, last_error=reason, last_error_at=now.isoformat(timespec="seconds"))
    articles: tuple[Article, ...] = ()
    if state.body is not None:
        headers = {"content-type": state.content_type}
        try:
            parsed = await session.work(
                parse, state.body, headers, state.content_location or feed.url
            )
        except FetchError:
            parsed = Parsed([])
        found, _ = await session.work(_articles, parsed.entries, feed, config, now)
        articles = tuple(found)
    return Outcome(feed, "error", reason, articles), state


def _articles(
    entries: list[Entry], feed: Feed, config: Config, now: datetime
) -> tuple[list[Article], list[str]]:
    """The newest ``max_items`` entries as articles, and notes of what was left out: older
    items beyond the cap, and items whose cleaning failed (markdownify's RecursionError on
    2,000 nested tags, its int() on a colspan of '²')."""
    notes = []
    cap = config.fetching.max_items
    if len(entries) > cap:
        notes.append(
            f"{len(entries) - cap:,} older item(s) skipped: [fetch] max_items reads {cap:,} a feed"
        )
        entries = _newest(entries, cap)
    articles, failures = [], []
    for entry in entries:
        try:
            article = to_article(entry, feed, config, now)
        except Exception as exc:  # one stranger's item must not cost the feed's others
            failures.append(f"{entry.guid or entry.link or entry.title!r}: {type(exc).__name__}")
            continue
        if article is not None:
            articles.append(article)
    if failures:
        notes.append(
            f"{len(failures)} item(s) left out, which digest could not clean ({failures[0]})"
        )
    return articles, notes


_UNDATED = datetime.max.replace(tzinfo=UTC)


def _newest(entries: list[Entry], cap: int) -> list[Entry]:
    """The ``cap`` newest entries, in the feed's order; an undated one counts as new."""
    ranked = sorted(entries, key=lambda e: e.published or e.updated or _UNDATED, reverse=True)
    kept = {id(e) for e in ranked[:cap]}
    return [e for e in entries if id(e) in kept]


def _retry_after(value: str, now: datetime) -> float:
    """Seconds to wait, from a Retry-After header: seconds, or an HTTP date (UTC if unzoned)."""
    value = value.strip()
    if value.isascii() and value.isdigit():  # not "²", which isdigit() takes for a digit
        return min(float(value), _LONGEST_WAIT)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return _BACK_OFF
    when = when if when.tzinfo else when.replace(tzinfo=UTC)  # "-0000" gives a naive one
    return min(max(0.0, (when - now).total_seconds()), _LONGEST_WAIT)


def _token(value: str) -> str:
    """A validator to send back (ETag, Last-Modified): empty unless printable ASCII, which
    is all an HTTP header can hold. A server's stray byte would fail every later request."""
    return value if value.isascii() and value.isprintable() else ""


async def _full_texts(
    articles: list[Article], session: _Session, known: frozenset[str]
) -> tuple[list[Article], str]:
    """Each summary-only body replaced with its page's main text, where it can be had, and
    a note of the pages that could not be fetched."""
    done, failures = [], []
    for article in articles:
        try:
            done.append(await _full_text(article, session, known))
        except FetchError as exc:
            failures.append(f"{article.url}: {exc}")
            done.append(article)
    if not failures:
        return done, ""
    return done, f"full text not fetched for {len(failures)} item(s) ({failures[0]})"


async def _full_text(article: Article, session: _Session, known: frozenset[str]) -> Article:
    """The article with its linked page's main text, when that is longer than its body."""
    if article.id in known or not article.url:
        return article
    accept = {"Accept": "text/html,application/xhtml+xml"}
    response = await session.get(article.url, accept, listed=False)  # the feed chose it
    if not 200 <= response.status < 300:
        return article
    text = response.body.decode("utf-8", errors="replace")
    page = await session.work(clean.clean_html, text, response.url)
    if len(page.body) <= len(article.body):
        return article
    return replace(article, body=page.body)


# ---------------------------------------------------------------------------
# Parsing: bytes → entries
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Entry:
    """A feed item, whatever the format, before it becomes an article."""

    guid: str
    link: str
    title: str
    html: str
    """The richest content given: full content, else the summary (HTML)."""
    summary: str
    published: datetime | None
    updated: datetime | None
    authors: tuple[str, ...]
    image: Image | None = None
    """The item's lead picture, as the feed gives it (not yet checked)."""


@dataclass(frozen=True, slots=True)
class Parsed:
    """A feed's entries, and a warning when it had to be read leniently."""

    entries: list[Entry]
    warning: str = ""


def parse(body: bytes, headers: Mapping[str, str], url: str) -> Parsed:
    """Read RSS 0.9x/1.0/2.0, Atom 1.0 or JSON Feed 1.x; raise `FetchError` with a reason."""
    if not body.strip():
        raise FetchError("empty response")
    kind = headers.get("content-type", "").lower()
    head = body.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if "json" in kind or head == b"{":
        return Parsed([_scrubbed(e) for e in _json_feed(body, url)])
    parsed = _feedparser(body, headers.get("content-type", ""), url)
    # When feedparser fell back to windows-1252, the declared (or default) encoding was wrong.
    if isinstance(parsed.get("bozo_exception"), _ENCODING_GUESSED) and (text := _detect(body)):
        parsed = _feedparser(_as_utf8(text), "application/xml; charset=utf-8", url)
    if not parsed.entries:
        if parsed.get("version"):
            return Parsed([])  # a readable feed with no items
        start = body[:2048].lower()
        if b"<html" in start or b"<!doctype html" in start:
            raise FetchError("an HTML page, not a feed: use the feed's own URL")
        problem = parsed.get("bozo_exception")
        raise FetchError(f"not a readable feed: {problem or 'no items found'}")
    problem = parsed.get("bozo_exception")
    warning = ""
    if problem is not None and not isinstance(problem, _ENCODING_GUESSED):
        warning = f"not well-formed ({problem}); read leniently"
    return Parsed([_scrubbed(_entry(e)) for e in parsed.entries], warning)


_SURROGATE = re.compile("[\ud800-\udfff]")


def _scrubbed(entry: Entry) -> Entry:
    """The entry without lone surrogates, which no UTF-8 file or page can hold: JSON's
    ``\\ud800`` escapes make them. Each becomes U+FFFD, as a decoder makes of a bad byte."""
    image = entry.image or Image()
    texts = (entry.guid, entry.link, entry.title, entry.html, entry.summary, *entry.authors,
             image.url, image.caption, image.credit, image.alt)  # fmt: skip
    if not any(_SURROGATE.search(text) for text in texts):
        return entry
    scrub = functools.partial(_SURROGATE.sub, "\ufffd")
    return replace(
        entry,
        guid=scrub(entry.guid),
        link=scrub(entry.link),
        title=scrub(entry.title),
        html=scrub(entry.html),
        summary=scrub(entry.summary),
        authors=tuple(scrub(a) for a in entry.authors),
        image=entry.image
        and Image(scrub(image.caption), scrub(image.credit), scrub(image.url), scrub(image.alt)),
    )


_ENCODING_GUESSED = (feedparser.CharacterEncodingOverride, feedparser.CharacterEncodingUnknown)


def _feedparser(body: bytes, content_type: str, url: str) -> Any:
    """feedparser on bytes (never a string, which it may take for a URL or a path)."""
    headers = {"content-type": content_type, "content-location": url}
    try:
        return feedparser.parse(body, response_headers=headers)
    except Exception as exc:  # feedparser 6 raises on some malformed feeds
        # UnicodeEncodeError on &#xD800;, KeyError on a category wrapped around an item...
        raise FetchError(f"not a readable feed: {type(exc).__name__}: {exc}") from None


def _detect(body: bytes) -> str | None:
    """Decode bytes in an unknown encoding with charset-normalizer.

    Among the least chaotic candidates windows-1252 wins, as in browsers: an
    undeclared Latin feed is far likelier to be that than a Baltic code page.
    """
    matches = list(from_bytes(body))
    if not matches:
        return None
    calm = [m for m in matches if m.chaos <= matches[0].chaos]
    chosen = next((m for m in calm if m.encoding == "cp1252"), matches[0])
    return str(chosen)


def _as_utf8(text: str) -> bytes:
    """The document as UTF-8, its XML declaration saying so."""
    text = re.sub(r"^(\ufeff?\s*<\?xml[^>]*?encoding=)[\"'][^\"']*[\"']", r'\1"utf-8"', text)
    return text.encode("utf-8")


def _entry(item: Any) -> Entry:
    # A malformed item may hold None where text belongs (a mangled <description>).
    contents = [c for c in item.get("content") or [] if c.get("value")]
    summary = str(item.get("summary") or "")
    # feedparser files a picture's media:description among the contents: the longest text
    # is the article, and a shorter plain text beside a picture is its caption.
    html = max([summary, *(str(c["value"]) for c in contents)], key=len)
    captions = [str(c["value"]) for c in contents if c.get("type") == "text/plain"]
    return Entry(
        guid=str(item.get("id") or "").strip(),
        link=str(item.get("link") or "").strip(),
        title=str(item.get("title") or ""),
        html=html,
        summary=summary,
        # dict.get: FeedParserDict.get would map a missing key to another, with a warning.
        published=_struct_time(dict.get(item, "published_parsed")),
        updated=_struct_time(dict.get(item, "updated_parsed")),
        authors=tuple(str(a["name"]) for a in item.get("authors") or [] if a.get("name")),
        image=_media(item, next((c for c in captions if c != html), "")),
    )


def _media(item: Any, caption: str) -> Image | None:
    """The item's picture: the widest image of its ``media:content``, else its
    ``media:thumbnail``, else an image enclosure, with the credit of ``media:credit``
    (``caption`` is its ``media:description``). `to_article` checks the address."""

    def width(media: Any) -> int:
        value = str(media.get("width") or "")
        return int(value) if value.isascii() and value.isdigit() and len(value) <= 6 else 0

    def is_image(media: Any) -> bool:
        medium = str(media.get("medium") or "image")
        kind = str(media.get("type") or "image/")
        return medium == "image" and kind.startswith("image/") and bool(media.get("url"))

    found = [m for m in item.get("media_content") or [] if isinstance(m, dict) and is_image(m)]
    url = str(max(found, key=width)["url"]) if found else ""
    if not url:
        thumbnails = [m for m in item.get("media_thumbnail") or [] if isinstance(m, dict)]
        url = next((str(m["url"]) for m in thumbnails if m.get("url")), "")
    if not url:
        url = next(
            (
                str(e["href"])
                for e in item.get("enclosures") or []
                if isinstance(e, dict)
                and str(e.get("type", "")).startswith("image/")
                and e.get("href")
            ),
            "",
        )
    if not url:
        return None
    credits = [c for c in item.get("media_credit") or [] if isinstance(c, dict)]
    credit = next((str(c["content"]) for c in credits if c.get("content")), "")
    return Image(caption=caption, credit=credit, url=url)


def _struct_time(value: time.struct_time | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromtimestamp(calendar.timegm(value), UTC)
    except (OverflowError, ValueError, OSError):
        return None
    return moment if renderable(moment) else None  # a date no page can show: as if none


def _json_feed(body: bytes, url: str) -> list[Entry]:
    """JSON Feed 1.0/1.1 (https://jsonfeed.org), which feedparser does not read."""
    try:
        data = json.loads(body.decode("utf-8-sig"))
    except (ValueError, RecursionError) as exc:  # also too many digits, or nested too deep
        raise FetchError(f"not valid JSON: {exc}") from None
    if not isinstance(data, dict) or "jsonfeed.org/version/" not in str(data.get("version", "")):
        raise FetchError("JSON, but not a JSON Feed (no jsonfeed.org version)")
    items = data.get("items")
    if not isinstance(items, list):
        raise FetchError("JSON Feed without an items list")
    base = str(data.get("home_page_url") or data.get("feed_url") or url)
    feed_authors = _json_authors(data)
    entries = []
    for item in items:
        if not isinstance(item, dict):
            continue
        text = str(item.get("content_text") or "")
        html = str(item.get("content_html") or "") or "".join(
            f"<p>{_escape(p)}</p>" for p in text.split("\n\n") if p.strip()
        )
        link = str(item.get("url") or item.get("external_url") or "")
        entries.append(
            Entry(
                guid=str(item.get("id") or "").strip(),
                link=_joined(base, link),
                title=str(item.get("title") or ""),
                html=html or str(item.get("summary") or ""),
                summary=str(item.get("summary") or ""),
                published=_json_date(item.get("date_published")),
                updated=_json_date(item.get("date_modified")),
                authors=_json_authors(item) or feed_authors,
                image=_json_image(base, item.get("image") or item.get("banner_image")),
            )
        )
    return entries


def _json_image(base: str, value: object) -> Image | None:
    """A JSON Feed item's picture, against the feed's home page (`to_article` checks it)."""
    return Image(url=_joined(base, value)) if isinstance(value, str) and value else None


def _joined(base: str, link: str) -> str:
    """``link`` made absolute; empty if either is no URL (unbalanced brackets: ValueError)."""
    try:
        return urljoin(base, link) if link else ""
    except ValueError:
        return ""


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _json_authors(data: Mapping[str, Any]) -> tuple[str, ...]:
    people = data.get("authors") or (
        [data["author"]] if isinstance(data.get("author"), dict) else []
    )
    if not isinstance(people, list):
        return ()
    return tuple(str(p["name"]) for p in people if isinstance(p, dict) and p.get("name"))


def _json_date(value: object) -> datetime | None:
    """RFC 3339, as the spec says; real feeds also send '2022-07-26 13:01:01' (taken as UTC)."""
    if not isinstance(value, str) or not value.strip() or len(value) > DATE_LIMIT:
        return None
    try:
        parsed = dateutil_parser.parse(value)
    except (ValueError, OverflowError):
        return None
    parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return parsed if renderable(parsed) else None  # a date no page can show: as if none


# ---------------------------------------------------------------------------
# Entries → articles
# ---------------------------------------------------------------------------


def canonical_url(url: str) -> str:
    """The URL without tracking parameters (utm_*, fbclid…) or fragment, for identity."""
    link = http_url(url)
    if not link:
        return ""
    # Not strict mode: it also drops parameters that name the article (?story=…).
    with contextlib.suppress(ValueError):
        link = str(normalize_url(link))
    # courlan decodes what http_url encoded ("%3C" → "<"): encode again, last.
    return http_url(urlsplit(link)._replace(fragment="").geturl())


def to_article(entry: Entry, feed: Feed, config: Config, now: datetime) -> Article | None:
    """One entry as an article, or None when the feed's include/exclude terms drop it."""
    url = canonical_url(entry.link)
    body = clean.html_to_markdown(entry.html, url or feed.url) if entry.html else ""
    title = plain(entry.title)
    summary = clean.summarize(plain(entry.summary)) if entry.summary else ""
    if not summary and body:
        summary = clean.summarize(plain(body.split("\n\n")[0]))
    if not title:
        title = clean.summarize(plain(entry.summary or body))[:80].rstrip("… ") or "Untitled"
    probe = Article(id="", title=title, published=now, body=body)
    if feed.include and not group.mentions(probe, feed.include):
        return None
    if feed.exclude and group.mentions(probe, feed.exclude):
        return None
    content = hashlib.sha256(f"{title}\n{body}".encode()).hexdigest()
    if entry.guid:
        key = f"feed:{feed.url}|guid:{entry.guid}"
    elif url:
        key = f"url:{url}"
    else:
        key = f"feed:{feed.url}|sha256:{content}"
    published = entry.published or entry.updated or now
    if published > now + FUTURE_SLACK:
        published = now
    updated = entry.updated if entry.updated and entry.updated > published else None
    article = Article(
        id=mint_id(key),
        title=title,
        published=published,
        updated=updated,
        body=body,
        source=feed.name,
        feed=feed.url,
        url=url,
        authors=tuple(a for a in (plain(a) for a in entry.authors) if a),
        summary=summary,
        image=_image(entry.image, url or feed.url),
        origin=Origin(path="", sha256=content, guid=entry.guid),
    )
    article = group.assign(article, config.topics)
    hints = tuple(t for t in feed.topics if t not in (article.topics or ()))
    return replace(article, topics=(*(article.topics or ()), *hints))


def _image(image: Image | None, base: str) -> Image | None:
    """The entry's picture made safe: an absolute http(s) address, its texts plain."""
    url = http_url(_joined(base, image.url)) if image else ""
    if not image or not url:
        return None
    return Image(plain(image.caption), plain(image.credit), url, plain(image.alt))


def health(config: Config) -> list[tuple[Feed, FeedState]]:
    """Each configured feed with what is remembered of it, for the Sources page."""
    if not config.feeds:
        return []
    with Store(config.state / "state.sqlite") as store:
        return [(feed, replace(store.get(feed.url), body=None)) for feed in config.feeds]

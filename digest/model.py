"""The records that flow through the pipeline. No I/O here.

One `Article` travels from a source through cleaning, the archive and grouping
to rendering; stages return new records with `dataclasses.replace`.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import NamedTuple
from urllib.parse import urlsplit

from digest.errors import Problem

_ID_NAMESPACE = "6f1d3c52-5b7e-4c8e-9a57-1f2a3b4c5d6e"
"""Fixed, so that the same key always mints the same id, on every machine."""


def mint_id(key: str) -> str:
    """Mint an article id from a stable key (``url:…``, ``path:…``, ``sha256:…``).

    Called once, at first ingest; the id is then stored in front matter and
    never derived again, so feed readers never see an old item as new.
    """
    import uuid  # here: it loads platform, 2 ms of every start, and most builds mint no id

    return str(uuid.uuid5(uuid.UUID(_ID_NAMESPACE), key))


@dataclass(frozen=True, slots=True)
class Image:
    """The lead photo: its caption and credit as found on the page, its address and alt text."""

    caption: str = ""
    credit: str = ""
    url: str = ""
    """Absolute http(s), or empty: the page then shows the caption alone."""
    alt: str = ""


@dataclass(frozen=True, slots=True)
class Origin:
    """Where an imported article came from, so a changed input updates it in place."""

    path: str
    """The inbox file, relative to the project folder (POSIX); empty for a feed item."""
    sha256: str
    """Hash of the inbox file's bytes, or of a feed item's content, when last imported."""
    guid: str = ""
    """A feed item's guid or id, as the feed gave it."""


@dataclass(frozen=True, slots=True)
class Article:
    """One article, whatever its source."""

    id: str
    """Minted once at first ingest; the guid of every feed item."""
    title: str
    published: datetime
    """Timezone-aware publication time."""
    body: str
    """Cleaned Markdown, without the title."""
    source: str = ""
    """The outlet's name (``UPI``, ``Reuters``), or the feed's name."""
    feed: str = ""
    """The URL of the feed the article came from."""
    also: tuple[str, ...] = ()
    """Other sources that carried the same article (same canonical URL)."""
    url: str = ""
    """The original article's address, when known."""
    authors: tuple[str, ...] = ()
    summary: str = ""
    topics: tuple[str, ...] | None = None
    """Topic titles. None until decided: front matter that names topics wins over rules."""
    updated: datetime | None = None
    image: Image | None = None
    origin: Origin | None = None
    path: str = ""
    """Place in the articles folder (POSIX, ``2022/09/slug.md``); empty until stored."""
    extra: Mapping[str, object] = field(default_factory=dict)
    """Front matter keys digest does not know, kept for templates."""

    def __reduce__(self) -> tuple[type[Article], tuple[object, ...]]:
        # dataclasses pickle a frozen record with slots through a Python __getstate__,
        # field by field; 10,000 of them go through the parse cache on every build.
        return Article, tuple(getattr(self, name) for name in _ARTICLE_FIELDS)


_ARTICLE_FIELDS = tuple(f.name for f in fields(Article))


# ---------------------------------------------------------------------------
# What a field may hold, whoever fills it: a cleaner, a feed or a person's edit
# ---------------------------------------------------------------------------

_DANGEROUS_BLOCK = re.compile(
    r"<(script|style|iframe|object|embed|noscript|template)\b.*?(?:</\1\s*>|\Z)",
    re.IGNORECASE | re.DOTALL,
)
# An unclosed comment runs to the end, as in HTML: one scan, not one per "<!--".
_TAG = re.compile(r"<!--.*?(?:-->|\Z)|</?[A-Za-z][^<>]*>", re.DOTALL)


def strip_tags(text: str) -> str:
    """Remove HTML from text that should have none: scripts and styles with their content.

    Both patterns run in linear time: each match ends at its closing mark or at the end.
    """
    return _TAG.sub("", _DANGEROUS_BLOCK.sub("", text))


FIELD_LIMIT = 10_000
"""Characters of a metadata field (title, author, source, summary, topic) that are read.

No real title or summary is longer; the cap comes before any pattern or parser runs, so
a stranger's 10 MB title costs what a long one does. Bodies are never cut."""

DATE_LIMIT = 100
"""The longest text read as a date: every way to write one is shorter, and a date
parser's time on a stranger's megabyte of digits is then bounded."""

# C0 and C1 controls, lone surrogates and non-characters: never text, and not allowed in XML.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_BLOCKS = (
    "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "figcaption",
    "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav",
    "ol", "p", "pre", "section", "table", "td", "th", "tr", "ul",
)  # fmt: skip
_HIDDEN = ("script", "style", "iframe", "object", "embed", "noscript", "template", "title")
# What a parser would still read as markup in the text: a tag or comment opener, and a
# character reference. Each becomes its full-width look-alike, which no parser reads.
_OPENER = re.compile(r"<(?![\s\d=]|\Z)")
_REFERENCE = re.compile(r"&(?=#[0-9]|#[xX][0-9a-fA-F]|[A-Za-z][A-Za-z0-9]*)")


def plain(text: str) -> str:
    """Metadata fields are plain text: markup read by an HTML parser, controls dropped,
    spaces folded.

    The result holds nothing a parser reads as markup (``<<b>script>`` gives no
    ``<script>``), so ``plain(plain(x)) == plain(x)``. Format characters stay: Persian
    needs its zero-width non-joiner, emoji their joiners.
    """
    text = text[:FIELD_LIMIT]
    if "&" in text:
        text = html.unescape(text)  # feeds escape their titles' markup once more
    text = _CONTROL.sub("", text)
    if "<" in text:
        text = _text_of(text)
    if "&" in text:
        text = _REFERENCE.sub(_unreferenced, text)
    if "<" in text:
        text = _OPENER.sub("\uff1c", text)
    return " ".join(text.split())


def _text_of(markup: str) -> str:
    """The text an HTML parser reads in ``markup``, without scripts, styles or comments."""
    from lxml import etree
    from lxml import html as lxml_html

    try:
        root = lxml_html.fragment_fromstring(markup, create_parent="div")
    except (etree.ParserError, ValueError):  # nothing a parser can read: no text either
        return ""
    etree.strip_elements(root, *_HIDDEN, with_tail=False)
    for element in root.iter(*_BLOCKS):  # "<p>Moscow</p><p>and" is two words, not one
        element.tail = " " + (element.tail or "")
    return _CONTROL.sub("", str(root.text_content()))


def _unreferenced(match: re.Match[str]) -> str:
    """``&`` where it would start a character reference that decodes (``&amp;``), else ``&``."""
    rest = match.string[match.end() : match.end() + 34]
    reference = re.match(r"[^\s&<;]*;?", rest)
    word = "&" + (reference.group() if reference else "")
    return "\uff06" if html.unescape(word) != word else "&"


def renderable(moment: datetime) -> bool:
    """Whether every timezone can show the moment. datetime ends with the years 1 and 9999,
    and an offset can carry a day of either past the end (OverflowError in a render); some
    parsers also accept offsets such as +99:00, which datetime refuses to apply."""
    try:
        moment.utcoffset()
    except ValueError:
        return False
    return 1 < moment.year < 9999


_NOT_IN_URLS = {
    c: "".join(f"%{b:02X}" for b in chr(c).encode())
    for c in (*range(0x21), *b'"<>\\^`{|}', *range(0x7F, 0xA0))
}
"""Characters a URL may not hold (RFC 3986): controls, spaces, quotes and angle brackets,
percent-encoded as browsers do; other non-ASCII characters (IRIs) stay as they are."""


def http_url(value: str) -> str:
    """The URL if it is absolute http(s), else empty: input may hold ``javascript:``.

    What a URL may not hold is percent-encoded, so that no output format — an XML
    attribute, a JSON string a reader pastes into HTML — can get markup or a control
    character from it.
    """
    value = value.strip().translate(_NOT_IN_URLS)
    try:
        parts = urlsplit(value)
    except ValueError:  # "http://[x": unbalanced brackets where a host would be
        return ""
    return value if parts.scheme in ("http", "https") and parts.netloc else ""


_LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8}){0,4}")


def language_tag(article: Article) -> str:
    """The language its front matter names (``language: ru``) if it is shaped like a BCP 47
    tag, else "": the value reaches ``lang`` attributes and search cards."""
    value = article.extra.get("language")
    return value if isinstance(value, str) and _LANGUAGE_TAG.fullmatch(value) else ""


class Tally(NamedTuple):
    """New, updated and unchanged articles from one source (the inbox, or a feed)."""

    name: str
    new: int
    updated: int
    unchanged: int
    status: str = ""
    """For a feed: fetched, not modified, error or gone."""
    reason: str = ""

    def __str__(self) -> str:
        counts = f"{self.new} new, {self.updated} updated, {self.unchanged} unchanged"
        if self.status in ("", "fetched"):
            return f"{self.name}: {counts}" + (f" ({self.reason})" if self.reason else "")
        if self.status == "not modified":
            return f"{self.name}: not modified"
        return f"{self.name}: {self.status}: {self.reason}" + (
            f" (last good copy: {counts})" if self.new + self.updated + self.unchanged else ""
        )


class Report(NamedTuple):
    """What a build did, for the summary."""

    articles: int
    topics: int
    sources: tuple[Tally, ...]
    """The inbox first, then each feed."""
    pages: int
    """Files the site has."""
    written: int
    """Files this build wrote or removed: 0 when the site was already up to date."""
    problems: tuple[Problem, ...]
    """Files that could not be read or parsed, and were skipped."""
    notes: tuple[Problem, ...]
    """Things worth knowing that are not errors (an inferred year, a kept hand edit)."""

"""Text that is on the page but is not the article: consent notices, service boxes,
tag clouds, teaser lists, readers' comments.

Each is recognised from its own signals, never from a site's words: the share of
boilerplate vocabulary (the generic words of notices, spoken to "you"), runs of
comma-separated keywords, the shape of a list of records (a heading or a name and
a date before each short text, a repeated "Reply" after it) and lines a site
repeats on every page (`SiteFurniture`, learned from the user's own saved pages).
"""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from digest.clean.lines import Kind


@dataclass(frozen=True, slots=True)
class Thresholds:
    """The cleaner's tunable numbers, chosen by leave-one-site-out in bench/score_extraction.py."""

    boilerplate: float = 0.2
    """Share of a line's words that are boilerplate vocabulary above which it is a notice."""
    heading_cost: float = 4.0
    """What a menu line or heading costs a run of prose (in words)."""
    link_share: float = 0.8
    """Share of an HTML block's text in links above which it is a list of links."""


DEFAULT = Thresholds()

# The generic vocabulary of consent notices, service boxes and sign-up prompts: words a
# site uses to speak about itself and to its reader, in no outlet's particular wording.
_BOILERPLATE = frozenset(
    re.findall(
        r"\w+",
        """
        you your yours we our us cookie cookies consent privacy policy policies accept agree
        browse browsing website websites site settings preferences personalise personalize
        personalised personalized partners device devices subscription subscribe subscribers
        account login sign customer customers service services contact call email help centre
        center questions question faq support terms conditions newsletter newsletters inbox
        notifications click tap manage withdraw enable disable javascript browser ads
        advertising opt unsubscribe register registration delivery invoice
        """,
    )
)
_WORD = re.compile(r"[^\W\d_]+")
_KEYWORD_SEPARATOR = re.compile(r"\s*[,|•·;]\s*")


_NOTICE_CHARS = 5000
"""A cookie or service notice is a paragraph or two: a longer line is the article's."""


def boilerplate_share(line: str) -> float:
    """The share of a line's words that are notice vocabulary ("your", "cookies", "consent")."""
    if len(line) > _NOTICE_CHARS:
        return 0.0
    words = _WORD.findall(line.casefold())
    return sum(w in _BOILERPLATE for w in words) / len(words) if words else 0.0


_CLOUD_CHARS = 3000
"""A tag cloud fills a few lines of a page, not pages."""


def is_keyword_run(line: str) -> bool:
    """A tag cloud or keyword list: many short items between separators, no sentence."""
    if len(line) > _CLOUD_CHARS:
        return False
    items = [i for i in _KEYWORD_SEPARATOR.split(line) if i]
    if len(items) < 8 or sum(any(c.isdigit() for c in i) for i in items) * 5 > len(items):
        return False  # a list of quantities or scores is content
    lengths = [len(i.split()) for i in items]
    return sum(lengths) / len(lengths) <= 2.5 and max(lengths) <= 5


def mark(lines: list[str], kinds: list[Kind], known: frozenset[str], limits: Thresholds) -> None:
    """Turn the prose and headings that are furniture into `Kind.FURNITURE`, in place."""
    repeated = Counter(lines)
    for index, line in enumerate(lines):
        kind = kinds[index]
        if kind not in (Kind.PROSE, Kind.HEADING, Kind.SHORT, Kind.LABEL):
            continue
        if (
            fold(line) in known
            or is_keyword_run(line)
            or (kind is Kind.PROSE and boilerplate_share(line) >= limits.boilerplate)
        ):
            kinds[index] = Kind.FURNITURE
    _mark_records(lines, kinds, repeated)


def _mark_records(lines: list[str], kinds: list[Kind], repeated: Counter[str]) -> None:
    """Lists of records: teasers (a heading over a short text) and comments (a date over a
    text, a repeated short line such as "Reply" under it), three or more in a row."""
    record: list[int] = []
    runs: list[list[int]] = []
    index = 0
    while index < len(kinds) - 1:
        kind, after = kinds[index], kinds[index + 1]
        teaser = kind is Kind.HEADING and after is Kind.PROSE and len(lines[index + 1]) <= 240
        comment = (
            kind in (Kind.DATE, Kind.BYLINE)
            and after is Kind.PROSE
            and (index + 2 < len(lines) and repeated[lines[index + 2]] >= 3)
        )
        if teaser or comment:
            record.append(index + 1)
            index += 3 if comment else 2
            continue
        if kind not in (Kind.SHORT, Kind.HEADING, Kind.JUNK) or not record:
            runs.append(record)
            record = []
        index += 1
    runs.append(record)
    for run in runs:
        if len(run) >= 3:
            for at in run:
                kinds[at] = Kind.FURNITURE


def fold(line: str) -> str:
    return " ".join(line.casefold().split())


@dataclass
class SiteFurniture:
    """Lines that recur across a user's saved pages from one site: that site's boilerplate.

    The inbox reader learns every page before cleaning any, so a notice that all of
    a site's pages carry is known when the first of them is cleaned. A line counts
    once per distinct page, so two copies of one article teach nothing.
    """

    least: int = 3
    """Distinct pages a line must appear on."""
    _counts: dict[str, Counter[str]] = field(default_factory=dict)
    _pages: dict[str, set[int]] = field(default_factory=dict)

    def learn(self, site: str, page: Iterable[str]) -> None:
        """Count the lines of one page (`page_lines`) for ``site`` (`site_of`)."""
        lines = {fold(line) for line in page if len(line.split()) >= 3}
        seen = self._pages.setdefault(site, set())
        if (key := hash(frozenset(lines))) in seen:
            return
        seen.add(key)
        self._counts.setdefault(site, Counter()).update(lines)

    def lines(self, site: str) -> frozenset[str]:
        counts = self._counts.get(site, Counter())
        return frozenset(line for line, n in counts.items() if n >= self.least)


_TAG = re.compile(r"<[^<>]*>")
_PAGE_URL = re.compile(
    r"""<(?:meta\b[^<>]*?\bproperty=["']og:url["']|link\b[^<>]*?\brel=["']canonical["'])"""
    r"""[^<>]*?\b(?:content|href)=["'](https?://[^"'<>\s]+)""",
    re.I,
)
_TEXT_URL = re.compile(r"https?://[^\s/<>\"']+")


def page_lines(text: str, kind: str) -> list[str]:
    """A page's lines as the cleaner sees them: a dump's lines, an HTML page's text nodes."""
    if kind != "html":
        return text.splitlines()
    return [html.unescape(node) for node in _TAG.split(text)]


def site_of(text: str, kind: str) -> str:
    """The host a page says it comes from (its og:url or canonical link, or a dump's first
    address), or "" when it names none: such pages are pooled as one unnamed site."""
    match = _PAGE_URL.search(text) if kind == "html" else _TEXT_URL.search(text)
    if not match:
        return ""
    try:
        host = urlsplit(match.group(1) if kind == "html" else match.group(0)).hostname or ""
    except ValueError:
        return ""
    return host.removeprefix("www.")

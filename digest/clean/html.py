"""Saved HTML pages: trafilatura finds the article, then its leftover furniture goes."""

from __future__ import annotations

import contextlib
import re
import unicodedata
from collections import Counter
from datetime import date, datetime
from itertools import islice
from typing import TYPE_CHECKING
from urllib.parse import urljoin

from digest.clean.dates import date_in
from digest.clean.extract import Extract
from digest.clean.furniture import DEFAULT, Thresholds, boilerplate_share, fold, is_keyword_run
from digest.clean.lines import Kind, classify, word_count
from digest.clean.markdown import MD_LINK, safe_markdown, summarize
from digest.model import Image, http_url, plain
from digest.text import markdown_text

if TYPE_CHECKING:
    from lxml.html import HtmlElement


def clean_html(
    page: str,
    url: str = "",
    *,
    furniture: frozenset[str] = frozenset(),
    limits: Thresholds = DEFAULT,
) -> Extract:
    """Extract the main text and metadata of a saved HTML page with trafilatura.

    ``furniture`` holds the blocks the site repeats on its pages (`SiteFurniture`).
    """
    import trafilatura
    from trafilatura.settings import Document, set_date_params
    from trafilatura.utils import load_html

    tree = load_html(page)
    if tree is None:
        return Extract(title=plain(_html_title(page)), body="", notes=("not an HTML page",))
    _drop_symbol_runs(tree)
    stated = _stated_titles(tree)

    # bare_extraction, not extract_with_metadata: the latter also hashes the whole text
    # for a fingerprint digest never reads (1.6 s on a 1 MB paragraph). htmldate's
    # extensive search scans the page's text with patterns that take seconds on hostile
    # runs ("© © ©…"); the page's own markup and URL date an article, and the text-dump
    # date rules (linear) read its visible text when they do not.
    doc = trafilatura.bare_extraction(
        tree,
        url=url or None,
        include_comments=False,
        include_tables=True,
        include_links=True,
        include_formatting=True,
        with_metadata=True,
        date_extraction_params={**set_date_params(extensive=False), "url": url or None},
    )
    if not isinstance(doc, Document):
        title = plain(_html_title(page))
        return Extract(title=title, body="", notes=("no article text found in the page",))
    body = unicodedata.normalize("NFC", doc.text or "")
    page_url = url or (doc.url or "")
    site = plain(doc.sitename or "")
    title, site = _headline(plain(doc.title or ""), stated, site, body[:_LEDE_CHARS])
    body, unsure = _drop_furniture(
        _gfm_tables(safe_markdown(body, page_url).strip()), title, furniture, limits
    )
    published: date | datetime | None = None
    if doc.date:
        try:
            published = date.fromisoformat(doc.date)
        except ValueError:
            published = None
    published = _published_time(page, published) or published or _stated_day(page)
    authors = tuple(a for a in (plain(a) for a in re.split(r";|\band\b", doc.author or "")) if a)
    first = next((p for p in body.split("\n\n") if len(p.split()) > 8), body)
    return Extract(
        title=title,
        body=body,
        published=published,
        source=site,
        url=http_url(page_url),
        authors=authors,
        summary=plain(doc.description or "") or summarize(markdown_text(first[:_LONG])),
        image=_lead_image(doc.image or "", page_url),
        unsure=unsure,
    )


# <meta property="article:published_time" content="…">, JSON-LD "datePublished": "…".
_PUBLISHED_META = re.compile(
    r"""<meta\b[^>]*?\b(?:property|name|itemprop)=["']?(?:article:published_time|og:pubdate"""
    r"""|pubdate|datePublished)["'\s][^>]*>"""
    r'|"datePublished"\s*:\s*"(?P<ld>[^"]+)"',
    re.IGNORECASE,
)


def _published_time(page: str, day: date | None) -> datetime | None:
    """The publication moment a page's metadata states, with its time zone.

    trafilatura gives a day, sometimes the local day of a human-readable date;
    the machine-readable timestamp is more precise, and the day it states (in
    its own zone) is the one the page's metadata means. Only a moment within
    a day of trafilatura's day is taken, so a stray related item's date cannot
    displace it.
    """
    for match in _PUBLISHED_META.finditer(page):
        value = match["ld"] or next(
            iter(re.findall(r"""\bcontent=["']([^"']+)""", match.group(0))), ""
        )
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            continue
        if moment.tzinfo is not None and (day is None or abs((moment.date() - day).days) <= 1):
            return moment
    return None


def _stated_titles(tree: HtmlElement) -> tuple[str, list[str], list[str]]:
    """What the page calls itself: its og:site_name; its og:title and each h1; the parts
    of its title line (``Headline | Site``)."""
    site = tree.xpath('//head/meta[@property="og:site_name"]/@content')[:1]
    titles = [
        *tree.xpath('//head/meta[@property="og:title"]/@content')[:1],
        *(h1.text_content() for h1 in islice(tree.iter("h1"), _HEADINGS)),
    ]
    line = tree.find(".//head/title")
    parts = _TITLE_SEPARATOR.split(plain(line.text_content())) if line is not None else []
    return plain("".join(site)), [plain(t) for t in titles], parts


_HEADINGS = 10
"""h1s read for a headline: a page has one or two, a hostile page thousands."""


# " | ", " - ", " — ", " :: ": between a headline and the site's name in a title line.
_TITLE_SEPARATOR = re.compile(r"\s+(?:[|\-–—•·»:]|::)\s+")
_LEDE_CHARS = 2000
"""The start of the article is enough for the words it shares with its headline."""


def _headline(
    found: str, stated: tuple[str, list[str], list[str]], site: str, lede: str
) -> tuple[str, str]:
    """The article's headline and the site's name.

    trafilatura's title may be the site's name or a widget's heading ("Tweets by
    @…", "… Conferences") when the page has no og:title or several h1s. Of the
    titles the page states twice (og:title, h1s, the parts of its title line), the
    headline is the one whose words the article's opening uses most; trafilatura's
    stays unless that one is echoed at least twice as well. A trailing or leading
    " | Site" goes, and the site's name is never taken for the headline.
    """
    og_site, titles, parts = stated
    site = og_site or site
    lede_words = _echo_words(lede)

    def echo(title: str) -> float:
        words = _echo_words(title)
        return len(words & lede_words) / (len(words) + 2)

    counts = Counter(_key(t) for t in (*titles, *parts))
    twice = [t for t in (*titles, *parts) if counts[_key(t)] >= 2 and not _same(t, og_site)]
    best = max(twice, key=echo, default="")
    if best and not _same(best, found) and echo(best) > 2 * echo(found):
        found = best
    if found and _same(site, found):  # trafilatura took the headline for the site's name
        site = next((p for p in parts if p and not _same(p, found)), "")
    if site:
        name = re.escape(site)
        found = (
            re.sub(
                rf"^{name}{_TITLE_SEPARATOR.pattern}|{_TITLE_SEPARATOR.pattern}{name}$",
                "",
                found,
                flags=re.I,
            )
            or found
        )
    return found, site


def _echo_words(text: str) -> set[str]:
    return set(re.findall(r"\w{3,}", text.casefold()))


def _key(text: str) -> tuple[str, ...]:
    """A title's words, whatever its case, dashes and quotes."""
    return tuple(re.findall(r"\w+", text.casefold()))


def _same(a: str, b: str) -> bool:
    return _key(a) == _key(b)


_RUN_CHARS = 10_000
"""Characters of one text node beyond which it must read as text to be kept."""


def _drop_symbol_runs(tree: HtmlElement) -> None:
    """Empty the long text nodes that are mostly symbols (``<<<…``, ``*_*_…``).

    No paragraph, table cell or code listing is more than half punctuation over ten
    thousand characters; such a run is filler or an attack, and trafilatura's Markdown
    escaping spends a microsecond on each of its characters.
    """
    for node in tree.xpath(_LONG_TEXT):
        if len(_TEXT.sub("", node)) * 2 > len(node):
            if node.is_text:
                node.getparent().text = ""
            elif node.is_tail:
                node.getparent().tail = ""


_TEXT = re.compile(r"[^\W_]+|\s+")
_LONG_TEXT = f"//text()[string-length() > {_RUN_CHARS}]"


def _lead_image(address: str, page_url: str) -> Image | None:
    """The page's picture (``og:image``, as trafilatura reads it), if its address is http(s)."""
    with contextlib.suppress(ValueError):
        url = http_url(urljoin(page_url, address.strip())) if address else ""
        return Image(url=url) if url else None
    return None


def _stated_day(page: str) -> date | None:
    """The day a date or byline line of the page's visible text states, read as a text
    dump's: for pages whose markup and URL carry no date."""
    from lxml import html as lxml_html

    try:
        tree = lxml_html.document_fromstring(page)
    except (ValueError, lxml_html.etree.ParserError):
        return None
    for element in tree.iter("script", "style", "noscript", "template"):
        element.drop_tree()
    for node in tree.itertext():
        line = " ".join(node.split())
        if (
            0 < len(line) <= _DATE_LINE_CHARS
            and classify(line) in (Kind.DATE, Kind.BYLINE)
            and (day := date_in(line))
        ):
            return day
    return None


_DATE_LINE_CHARS = 200
"""A date or byline line is short; a longer line is prose that may name other days."""

_DELIMITER_ROW = re.compile(r"\|?(?:\s*:?-+:?\s*\|)+\s*:?-*:?\s*")


def _gfm_tables(markdown: str) -> str:
    """Give each table trafilatura writes a header row: without the delimiter row under
    its first line, a Markdown renderer shows the table as one paragraph of pipes."""
    blocks = markdown.split("\n\n")
    for index, block in enumerate(blocks):
        rows = [row.strip() for row in block.split("\n")]
        if len(rows) < 2 or not all(row.startswith("|") for row in rows):
            continue
        if not _DELIMITER_ROW.fullmatch(rows[1]):
            cells = max(1, rows[0].count("|") - 1)
            rows.insert(1, "|" + " --- |" * cells)
        blocks[index] = "\n".join(rows)
    return "\n\n".join(blocks)


_LONG = 4000
"""Characters of a block beyond which it is the article's: furniture is short. A summary
needs no more of the first paragraph either."""

# Characters that may make Markdown of a block; a block without them is its own text.
_MARKUP = re.compile(r"[\\`*_\[\]<>&|#~!]|^\s*(?:[-+=>]|\d+[.)])", re.MULTILINE)


def _words(block: str) -> str:
    """The plain text of a Markdown block, by markdown-it-py's tokens when it has markup."""
    return markdown_text(block) if _MARKUP.search(block) else " ".join(block.split())


def _drop_furniture(
    markdown: str, title: str, known: frozenset[str], limits: Thresholds
) -> tuple[str, bool]:
    """Drop the blocks trafilatura keeps that are not the article; say if none was.

    Each block's text goes through the text-dump line rules: the headline
    again, ads, share and newsletter prompts, captions and credits, dates,
    "Related:" teasers and author contact lines go, and so do lists of links
    (related headlines), notices, keyword runs and the site's known furniture.
    When every block is furniture, the page is kept whole and called unsure.
    """
    kept: list[str] = []
    after_stop = False
    for block in markdown.split("\n\n"):
        if block.startswith("|") or len(block) > _LONG:
            kept.append(block)  # a table or a long paragraph is content, whatever it reads like
            continue
        text = _words(block)
        if not text or text.casefold() == title.casefold():
            continue
        kind = classify(text)
        share = sum(len(m.group(2)) for m in MD_LINK.finditer(block)) / len(text)
        links = share >= limits.link_share
        if kind in (Kind.STOP, Kind.COMMENTS) or _RELATED.match(text):
            after_stop = True
            continue
        if (
            kind in (Kind.JUNK, Kind.CAPTION, Kind.DATE)
            or (links and (after_stop or kind is not Kind.PROSE or block.lstrip().startswith("-")))
            or (word_count(text) <= 40 and ("mailto:" in block or _CONTACT.search(text)))
            or fold(text) in known
            or is_keyword_run(text)
            or (kind is Kind.PROSE and boilerplate_share(text) >= limits.boilerplate)
        ):
            continue
        after_stop = after_stop and links
        kept.append(block)
    return ("\n\n".join(kept), False) if kept else (markdown, True)


_RELATED = re.compile(
    r"^(?:related(?: \w+)?|tags?|see also|read (?:more|also|next)|more from \w+|explore further"
    r"|you (?:may|might) (?:also )?like)\s*(?::|\.\.\.|…|$)",
    re.IGNORECASE,
)
_CONTACT = re.compile(
    r"^(?:e-?mail|write to|contact|follow)\b.*(?:@|\bat\b)|\b[\w.+-]+@[\w-]+\.[\w.]+\b",
    re.IGNORECASE,
)


def _html_title(page: str) -> str:
    match = re.search(r"<title[^>]*>(.*?)</title>", page, re.IGNORECASE | re.DOTALL)
    return match.group(1) if match else ""

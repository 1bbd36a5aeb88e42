"""Turn a saved page into clean Markdown and metadata.

Two inputs: a *text dump* (what "select all, copy" gives: navigation, ads,
captions, related headlines and the article all as plain lines) and a saved
*HTML page*. Both give an `Extract`; `digest.sources.files` turns it into an
`Article`. HTML goes through trafilatura; text dumps through the line rules
below, which are general (they name no outlet).
"""

from __future__ import annotations

import functools
import html
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from urllib.parse import urljoin, urlsplit

from dateutil import parser as dateutil_parser

from digest.model import Image, http_url, plain, strip_tags

SUMMARY_CHARS = 280


@dataclass(frozen=True, slots=True)
class Extract:
    """What cleaning found in one page."""

    title: str
    body: str
    """Markdown, without the title."""
    published: date | datetime | None = None
    source: str = ""
    url: str = ""
    authors: tuple[str, ...] = ()
    summary: str = ""
    image: Image | None = None
    notes: tuple[str, ...] = ()
    """Things the user should know, such as an inferred year."""


# ---------------------------------------------------------------------------
# Markdown hygiene shared by both inputs
# ---------------------------------------------------------------------------

# [text](target "title"); a target may hold one level of parentheses: (javascript:alert(1)).
_MD_LINK = re.compile(
    r"(!?)\[([^\]\n]*)\]\(\s*<?((?:[^()\s>]|\([^()\s]*\))*)>?(?:\s+\"[^\"\n]*\")?\s*\)"
)
_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")


def safe_markdown(markdown: str, base_url: str = "", *, images: bool = False) -> str:
    """Make converted Markdown safe to store and render anywhere.

    Link targets become absolute against ``base_url``; links that cannot be made
    absolute, or use a scheme other than http(s)/mailto, keep only their text;
    images are dropped unless ``images`` (then kept only with an absolute http(s)
    source); anything that looks like an HTML tag is escaped so no other Markdown
    tool can run it.
    """

    def link(match: re.Match[str]) -> str:
        bang, text, target = match.groups()
        target = html.unescape(target)
        try:
            scheme = urlsplit(target).scheme.lower()
            if base_url and not scheme and not target.startswith("#"):
                target = urljoin(base_url, target)
        except ValueError:  # "http://[x": unbalanced brackets where a host would be
            return "" if bang else text
        target = target.replace(" ", "%20").replace("(", "%28").replace(")", "%29")
        if bang:
            return f"![{text}]({target})" if images and http_url(target) else ""
        if http_url(target) or scheme == "mailto":
            return f"[{text}]({target})"
        return text

    return _TAG_START.sub("&lt;", strip_tags(_MD_LINK.sub(link, markdown)))


_NOT_CONTENT = ["script", "style", "iframe", "object", "embed", "noscript", "form", "template"]


def html_to_markdown(fragment: str, base_url: str = "") -> str:
    """Convert a feed item's HTML to safe Markdown with markdownify.

    Scripts, styles, frames, forms and tracking pixels (images of 1×1 or less)
    are dropped first; links and images end absolute against ``base_url``.
    """
    from bs4 import BeautifulSoup
    from markdownify import MarkdownConverter

    soup = BeautifulSoup(fragment, "html.parser")
    for element in soup(_NOT_CONTENT):
        element.decompose()
    for image in soup("img"):
        size = [str(image.get(a, "")).removesuffix("px") for a in ("width", "height")]
        # At most 1, without int(): "²".isdigit() is true, and 5,000 digits are too many for it.
        if any(v.isascii() and v.isdigit() and v.lstrip("0") in ("", "1") for v in size):
            image.decompose()
    markdown = MarkdownConverter(heading_style="ATX", bullets="-").convert_soup(soup)
    markdown = re.sub(r"\n{3,}", "\n\n", markdown).strip()
    return safe_markdown(markdown, base_url, images=True)


def escape_text(text: str) -> str:
    """Escape plain text so Markdown shows it verbatim (one paragraph per call)."""
    text = re.sub(r"([\\`*_\[\]<>|])", r"\\\1", text)
    text = re.sub(r"^(\s*)([#+-]|\d+[.)])(\s)", r"\1\\\2\3", text)
    return text.replace("&", "&amp;") if re.search(r"&#?\w+;", text) else text


def summarize(paragraph: str) -> str:
    """The first paragraph, cut at a word boundary to about `SUMMARY_CHARS`."""
    text = " ".join(paragraph.split())
    if len(text) <= SUMMARY_CHARS:
        return text
    cut = text[:SUMMARY_CHARS].rsplit(" ", 1)[0].rstrip(",;:—–-")
    return cut + "…"


# ---------------------------------------------------------------------------
# HTML pages
# ---------------------------------------------------------------------------


def clean_html(page: str, url: str = "") -> Extract:
    """Extract the main text and metadata of a saved HTML page with trafilatura."""
    import trafilatura

    doc = trafilatura.extract_with_metadata(
        page,
        url=url or None,
        output_format="markdown",
        include_comments=False,
        include_tables=True,
        include_links=True,
        include_formatting=True,
    )
    if doc is None:
        title = plain(_html_title(page))
        return Extract(title=title, body="", notes=("no article text found in the page",))
    body = re.sub(r"\A---\n.*?\n---\n", "", doc.text or "", flags=re.DOTALL)
    page_url = url or (doc.url or "")
    body = _drop_furniture(safe_markdown(body, page_url).strip(), plain(doc.title or ""))
    published: date | datetime | None = None
    if doc.date:
        try:
            published = date.fromisoformat(doc.date)
        except ValueError:
            published = None
    published = _published_time(page, published) or published
    authors = tuple(a for a in (plain(a) for a in re.split(r";|\band\b", doc.author or "")) if a)
    first = next((p for p in body.split("\n\n") if len(p.split()) > 8), body)
    return Extract(
        title=plain(doc.title or ""),
        body=body,
        published=published,
        source=plain(doc.sitename or ""),
        url=http_url(page_url),
        authors=authors,
        summary=plain(doc.description or "") or summarize(plain(_MD_LINK.sub(r"\2", first))),
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


def _drop_furniture(markdown: str, title: str) -> str:
    """Drop the blocks trafilatura keeps that are not the article.

    Each block's text goes through the text-dump line rules: the headline
    again, ads, share and newsletter prompts, captions and credits, dates,
    "Related:" teasers and author contact lines go, and so do lists of links
    (related headlines).
    """
    kept: list[str] = []
    after_stop = False
    for block in markdown.split("\n\n"):
        text = _block_text(block)
        if not text or text.casefold() == title.casefold():
            continue
        kind = classify(text)
        links = sum(len(m.group(2)) for m in _MD_LINK.finditer(block)) >= 0.8 * len(text)
        if kind in (Kind.STOP, Kind.COMMENTS) or _RELATED.match(text):
            after_stop = True
            continue
        if (
            kind in (Kind.JUNK, Kind.CAPTION, Kind.DATE)
            or (links and (after_stop or kind is not Kind.PROSE or block.lstrip().startswith("-")))
            or (_size(text) <= 40 and ("mailto:" in block or _CONTACT.search(text)))
        ):
            continue
        after_stop = after_stop and links
        kept.append(block)
    return "\n\n".join(kept) or markdown  # never empty a page that had text


_RELATED = re.compile(
    r"^(?:related(?: \w+)?|tags?|see also|read (?:more|also|next)|more from \w+|explore further"
    r"|you (?:may|might) (?:also )?like)\s*(?::|\.\.\.|…|$)",
    re.IGNORECASE,
)
_CONTACT = re.compile(
    r"^(?:e-?mail|write to|contact|follow)\b.*(?:@|\bat\b)|\b[\w.+-]+@[\w-]+\.[\w.]+\b",
    re.IGNORECASE,
)


def _block_text(block: str) -> str:
    """The plain text of a Markdown block: link text kept, markup dropped."""
    text = _MD_LINK.sub(r"\2", block)
    text = re.sub(r"^\s*(?:#+|[-*+>]|\d+\.)\s+", "", text, flags=re.MULTILINE)
    return " ".join(re.sub(r"[*_`\\]", "", text).split())


def _html_title(page: str) -> str:
    match = re.search(r"<title[^>]*>(.*?)</title>", page, re.IGNORECASE | re.DOTALL)
    return match.group(1) if match else ""


# ---------------------------------------------------------------------------
# Text dumps
# ---------------------------------------------------------------------------


class Kind(Enum):
    """What a line of a text dump is."""

    PROSE = "prose"
    HEADING = "heading"  # headline-like: several words, no closing punctuation
    SHORT = "short"  # menus, labels of one or two words
    LABEL = "label"  # "Source: Xinhua", "Editor: Zhang Wei"
    JUNK = "junk"  # ads, share prompts, newsletter promos, slideshow counters
    CAPTION = "caption"  # photo caption or credit
    BYLINE = "byline"
    DATE = "date"  # a line that is mostly a date
    STOP = "stop"  # "Latest Headlines", "Related stories": the article is over
    COMMENTS = "comments"  # "12 comments", "Leave a reply": readers' comments follow


_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sept?(?:ember)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_FULL_DATE = re.compile(
    rf"\b(?:{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}"
    rf"|\d{{1,2}}\s+{_MONTH},?\s+\d{{4}}"
    r"|\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2})?(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?)?"
    r"|\d{1,2}[./]\d{1,2}[./]\d{4})(?!\w)",
    re.IGNORECASE,
)
# Dates in other languages, for dateparser: "11 октября 2018", "27 de setembro de 2018",
# "2018年8月16日", "2019. 11. 19".
_OTHER_DATE = re.compile(
    r"\d{4}\s*[年.]\s*\d{1,2}\s*[月.]\s*\d{1,2}"
    r"|\d{1,2}\.?\s+(?:de\s+)?[^\W\d_]{3,}\.?,?\s+(?:de\s+)?\d{4}"
    r"|[^\W\d_]{3,}\.?\s+\d{1,2},?\s+\d{4}"
)
_YEAR = re.compile(r"(?<!\d)(?:19|20)\d{2}(?!\d)")
_DATELINE = re.compile(
    r"^(?:(?P<place>[A-Z][\w'.-]*(?:,?\s[A-Z][\w'.-]*){0,4})[,\s]\s*)?"
    rf"(?P<date>{_MONTH}\s+\d{{1,2}}(?:,?\s+\d{{4}})?\.?)?\s*"
    r"(?:\((?P<agency>[A-Z][\w&.' -]{0,30})\)\s*(?:--|[-—–])|/(?P<slash>[A-Z][A-Za-z]{1,15})/\.?)"
    r"\s*"
)
_BYLINE = re.compile(
    r"^(?:(?:Analysis|Commentary|Opinion|Review|Story|Text|Words|Written|Posted|Reporting) )?"
    r"(?:By|BY|by):?\s+(?P<names>[^|•\d]{3,120}?)(?:\s*[|•].*|[\s(]+\d.*)?$"
)
_ROLE = re.compile(
    r"\b(?:correspondent|editor|reporter|staff|writer|bureau|columnist|contributor)s?\b",
    re.IGNORECASE,
)
_CREDIT_WORDS = r"(?:Photos?|Photograph|Image|Picture|Foto|Credit)"
_CAPTION_CREDIT = re.compile(
    rf"(?:^|[\s(.|])(?:{_CREDIT_WORDS}\s*(?:by|:|credits?:?|copyright)|©)"
    r"\s*(?P<credit>[^.()]{2,80}?)\)?\s*$",
    re.IGNORECASE,
)
_CAPTION_LABEL = re.compile(r"^(?:(?:image|photo|picture|video|media) ?)?caption", re.IGNORECASE)
# "(AP Photo/Olena Koval)", "(onmeth.com)": a credit in parentheses ends a caption.
_PAREN_CREDIT = re.compile(
    r"\((?P<credit>[^()]{2,50}/[^()]{1,40}|[\w-]+(?:\.[\w-]+)*\.[a-z]{2,6})\)\s*$"
)
# "… March 21, 2023. Sputnik/Pool via REUTERS": a short credit after the caption's last sentence.
_TAIL_CREDIT = re.compile(r"[.!?]\s+(?P<credit>[^.!?]{2,50}(?:/|\bvia\b)[^.!?]{1,50})$")
# "Alex Wong | Getty Images": a photographer and an agency alone on a short line.
_AGENCY_CREDIT = re.compile(
    r"^(?P<credit>[^|/]{2,40}[|/]\s*(?:Getty Images|AP Photo|AFP|Reuters|EPA|Shutterstock"
    r"|iStock\w*|Alamy)(?:\s*/.{1,30})?)$",
    re.IGNORECASE,
)
_SLIDESHOW = re.compile(r"^\d+\s+(?:of|/)\s+\d+\s*(?:\||$)")
_LABEL = re.compile(r"^[A-Z][\w]*(?:\s\w+)?:\s+\S")
_JUNK = re.compile(
    r"^(?:(?:advertisement|advertising)(?:\s*[·|:–-]\s*.{0,40})?|ad|sponsored(?: content)?"
    r"|story continues below"
    r"|share(?: this)?(?: article| story)?|share (?:on|via|to|with) .*|tweet|email|e-mail|print"
    r"|whatsapp|facebook|twitter|linkedin|reddit|pinterest|copy(?: link)?|link copied|save"
    r"|comments?|\d+ comments?|skip to (?:main )?content|menu|search|close|home|subscribe.*"
    r"|sign (?:in|up)|log ?in|register|license photo|listen(?: to this article)?"
    r"|read more|continue reading|click (?:here|to .*)|back to top|loading.*|watch:.*"
    r"|(?:related|read more|see also|also read|read also|more|watch|listen):\s.*"
    r"|follow us.*|.*all rights reserved.*|©.*|copyright\b.*|privacy (?:notice|policy)\b.*"
    r"|terms of (?:use|service)|contact us|about us|\d+ min(?:ute)?s?(?: read)?"
    r"|updated:?.*ago|image|video|photo|getty images|file photo|_{3,}|-{3,})[.!]?$",
    re.IGNORECASE,
)
# Promotions: short lines about newsletters, cookies or signing up.
_PROMO = re.compile(r"\b(?:newsletters?|cookies?|sign up|subscribe|subscription)\b", re.IGNORECASE)
_STOP = re.compile(
    r"^(?:latest (?:headlines|news|stories)|related(?: articles| stories| coverage| news"
    r"| content| posts| topics)?:?|more (?:from|on|in|stories|news)\b.*|read (?:next|also)"
    r"|most (?:read|popular|viewed)|trending(?: now| stories)?|explore more\b.*"
    r"|recommended(?: for you| stories)?|top stories|tags:?"
    r"|you (?:may|might) (?:also )?like|comments|what to read next|around the web|from the web"
    r"|editor'?s picks|popular (?:stories|now)|also read|further reading|читайте также"
    r"|(?:our )?standards:.*|reporting by .*)[.:…!]*$",
    re.IGNORECASE,
)
_COMMENTS = re.compile(
    r"^(?:(?:leave|post) a (?:comment|reply)|[\[(]?\s*(?:\(?\d+\)?|top rated|view|read all|show"
    r"|user|latest|last)\s+comments?\s*[\])]?|comments\s*\(\d+\))[.:…!]*$",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"(?:[.!?…。！？]|(?<=\w{3}):)[\"”’»)\]]*$")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")


def _size(line: str) -> float:
    """Words, counting two CJK characters as one word."""
    cjk = len(_CJK.findall(line))
    return len(re.findall(r"\w+", _CJK.sub(" ", line))) + cjk / 2


def _is_date_line(line: str, size: float) -> bool:
    """Mostly a date: ``Published 5:43 AM GMT, May 13, 2024``, ``12 февраля 2024, 14:30``."""
    if size > 14:
        return False
    found = _FULL_DATE.search(line)
    if found:
        return len(found.group(0)) * 2 >= len(line) - 40
    return bool(_YEAR.search(line)) and size <= 6 and sum(c.isdigit() for c in line) >= 6


def classify(line: str) -> Kind:
    """Sort one line of a text dump by what it most likely is."""
    if _COMMENTS.match(line):
        return Kind.COMMENTS
    if _STOP.match(line):
        return Kind.STOP
    size = _size(line)
    if _JUNK.match(line) or _SLIDESHOW.match(line) or (size <= 12 and _PROMO.search(line)):
        return Kind.JUNK
    if (
        _CAPTION_CREDIT.search(line)
        or _CAPTION_LABEL.match(line)
        or (size < 60 and _PAREN_CREDIT.search(line))
        or (size < 60 and _TAIL_CREDIT.search(line))
        or (size <= 8 and _AGENCY_CREDIT.match(line))
    ):
        return Kind.CAPTION
    if _BYLINE.match(line) and size <= 20:
        return Kind.BYLINE
    if _is_date_line(line, size):
        return Kind.DATE
    if _LABEL.match(line) and size <= 6:
        return Kind.LABEL
    if _SENTENCE_END.search(line) and (size >= 8 or (size >= 5 and line[-1] not in "?!")):
        return Kind.PROSE
    if size > 30 or (size >= 10 and re.search(r"\w[.!?] [A-Z]", line)):
        return Kind.PROSE
    if size >= 3:
        return Kind.HEADING
    return Kind.SHORT


def _body_span(kinds: list[Kind], sizes: list[float]) -> tuple[int, int]:
    """The densest run of prose: a maximum-sum segment over per-line scores.

    Prose scores its size; menus and headings cost a little each, so long menus
    and headline lists break a run while a subheading inside the article does
    not; ads and captions cost nothing; a stop marker ends any run. Readers'
    comments can outweigh the article, so prose after a comments marker counts
    a quarter.
    """
    best, best_span = 0.0, (0, -1)
    total, start = 0.0, 0
    weight = 1.0
    for index, kind in enumerate(kinds):
        if kind in (Kind.STOP, Kind.COMMENTS):
            total, start = 0.0, index + 1
            weight = 0.25 if kind is Kind.COMMENTS else weight
            continue
        score = {
            Kind.PROSE: sizes[index] * weight,
            Kind.SHORT: -4.0,
            Kind.HEADING: -4.0,
            Kind.BYLINE: -2.0,
            Kind.DATE: -2.0,
            Kind.LABEL: -2.0,
        }.get(kind, 0.0)
        if total + score <= 0:
            total, start = 0.0, index + 1
            continue
        total += score
        if total > best:
            best, best_span = total, (start, index)
    return best_span


def _sandwiched(kinds: list[Kind], index: int, end: int, longest: int = 4) -> bool:
    """A subheading: one of a few headings between two paragraphs of the body.

    A longer run of headings inside the article is a related-links box.
    """
    before = index
    while before > 0 and kinds[before - 1] is Kind.HEADING:
        before -= 1
    after = index
    while after < end and kinds[after + 1] is Kind.HEADING:
        after += 1
    return (
        after - before < longest
        and before > 0
        and kinds[before - 1] is Kind.PROSE
        and after < end
        and kinds[after + 1] is Kind.PROSE
    )


def _year_for(month: int, day: int, reference: date) -> date | None:
    """The latest ``month``/``day`` not after ``reference``."""
    for year in (reference.year, reference.year - 1):
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if candidate <= reference:
            return candidate
    return None


@functools.lru_cache(maxsize=4096)
def _parse_date(text: str) -> datetime | None:
    """An English or numeric date by dateutil, else a date-shaped phrase by dateparser.

    dateparser is slow when it must guess among all its languages, so it only
    sees a phrase shaped like a date, with languages guessed from the script.
    """
    match = _FULL_DATE.search(text)
    try:
        return dateutil_parser.parse((match.group(0) if match else text).replace("Sept", "Sep"))
    except (ValueError, OverflowError):
        pass
    if not (shape := _OTHER_DATE.search(text)):
        return None
    import dateparser

    found: datetime | None = dateparser.parse(
        shape.group(0),
        languages=_languages(shape.group(0)),
        settings={"REQUIRE_PARTS": ["day", "month"]},
    )
    return found


def _languages(text: str) -> list[str]:
    """Languages dateparser should try for a phrase, by its script."""
    if re.search(r"[\u0400-\u04ff]", text):
        return ["ru", "uk", "bg", "sr"]
    if re.search(r"[\uac00-\ud7af]", text):
        return ["ko"]
    if re.search(r"[\u3040-\u30ff]", text):
        return ["ja"]
    if re.search(r"[\u4e00-\u9fff]", text):
        return ["zh", "ja"]
    return ["en", "de", "fr", "es", "pt", "it", "nl", "id", "pl", "tr"]


# "MS, RDN", "PhD", "Jr.": letters after a name, not another author.
_CREDENTIAL = re.compile(r"[A-Z]{1,4}|Ph\.?D\.?|Jr\.?|Sr\.?")


def _names(text: str, agency: str) -> tuple[str, ...]:
    """The people a byline names: no role ("Staff Writer"), outlet, agency, e-mail or date."""
    text = re.split(r"\s+[-–—|/]\s+", re.sub(r"\S+@\S+", " ", text))[0]
    text = re.sub(
        rf"\s+(?:on|at|updated|published|posted|{_MONTH})\s*$|\s*[-–—|·(]\s*$", "", text, flags=re.I
    )
    text = re.split(r"\s+(?:in|for|at)\s+[A-Z]|,\s*(?:Reuters|AP|AFP|UPI)\b", text)[0]
    parts = (plain(p) for p in re.split(r",|\band\b|&", text))
    return tuple(
        p
        for p in parts
        if p
        and p.lower() != agency.lower()
        and not _ROLE.search(p)
        and not _CREDENTIAL.fullmatch(p)
    )


def clean_text(text: str, *, name_date: date | None, saved: date) -> Extract:
    """Clean a whole-page text dump.

    ``name_date`` is a date found in the file's name and ``saved`` the day the
    file was last modified: when the article's dateline gives no year, the
    year comes from the first, else from a full date in the text, else from
    the second.
    """
    lines: list[str] = []
    for raw in strip_tags(text).splitlines():
        line = " ".join(unicodedata.normalize("NFC", raw).split())
        if line and (not lines or line != lines[-1]):
            lines.append(line)
    kinds = [classify(line) for line in lines]
    sizes = [_size(line) for line in lines]
    start, end = _body_span(kinds, sizes)
    if end < start:  # nothing reads like prose: keep every non-junk line
        start, end = 0, len(lines) - 1
        kinds = [Kind.PROSE if k in (Kind.SHORT, Kind.HEADING) else k for k in kinds]

    notes: list[str] = []
    # The headline may stand below a notice that opens the run of prose.
    prose = [i for i in range(start, end + 1) if kinds[i] is Kind.PROSE][:2]
    head = prose[-1] if prose else start
    above = kinds[:start] + [k if k is Kind.HEADING else Kind.JUNK for k in kinds[start:head]]
    under = {
        at
        for index in range(max(0, head - 60), min(end, start + 12) + 1)
        if _under_headline(lines[index], kinds[index])
        and (at := _headline_above(lines, kinds, index)) is not None
    }
    lede = [lines[i] for i in range(start, min(end + 1, start + 6)) if kinds[i] is Kind.PROSE]
    title_at = _title(lines, above + kinds[head:], lede, head, under)
    title = lines[title_at] if title_at >= 0 else ""
    # The lines under the headline: byline, date and labels such as "Posted on …".
    meta = [
        lines[i]
        for i in range(title_at + 1, min(len(lines), title_at + 13))
        if title_at >= 0 and kinds[i] is not Kind.CAPTION and (i != head and _size(lines[i]) <= 20)
    ]
    caption = next(
        (lines[i] for i in range(start) if kinds[i] is Kind.CAPTION),
        next((lines[i] for i in range(start, end + 1) if kinds[i] is Kind.CAPTION), ""),
    )
    image = _image(caption)

    body: list[str] = []
    authors = _authors_under_headline(meta)
    source = ""
    dateline_date = ""
    for index in range(start, end + 1):
        line, kind = lines[index], kinds[index]
        if index == title_at:
            continue  # the headline opens the run of prose
        if kind is Kind.BYLINE and not authors and (match := _BYLINE.match(line)):
            authors = _names(match.group("names"), "")
        if kind is Kind.PROSE:
            if not body and (dateline := _DATELINE.match(line)):
                source = dateline.group("agency") or dateline.group("slash") or ""
                dateline_date = dateline.group("date") or ""
                line = line[dateline.end() :]
            body.append(escape_text(line))
        elif kind is Kind.HEADING and body and _sandwiched(kinds, index, end):
            body.append(escape_text(line))
    if not authors:
        for index in range(start):
            if kinds[index] is Kind.BYLINE and (match := _BYLINE.match(lines[index])):
                authors = _names(match.group("names"), source)
                break

    published, said = _published(
        lines, kinds[: end + 1], dateline_date, meta, name_date=name_date, saved=saved
    )
    notes.extend(said)
    if not source:
        source = _source_from_furniture(lines)
    return Extract(
        title=title,
        body="\n\n".join(body),
        published=published,
        source=source,
        authors=authors,
        summary=summarize(_unescape(body[0])) if body else "",
        image=image,
        notes=tuple(notes),
    )


def _published(
    lines: list[str],
    kinds: list[Kind],
    dateline: str,
    meta: list[str],
    *,
    name_date: date | None,
    saved: date,
) -> tuple[date, list[str]]:
    """The publication day, and a note when part of it was guessed.

    A dateline with a year wins; then a date in the lines under the headline
    (``Posted on Maret 30, 2015 by Admin``, ``By X On 11/13/19``), which a
    page's running date in its masthead cannot shadow. A dateline without a
    year (``Sept. 19 (UPI) --``) takes the latest such day not after the file
    name's date, else a full date in the text, else the file's modification
    day. Failing those: a date line, then any full date in the text, then the
    file name, then the file's day.
    """
    text_date = next(
        (d for line in lines if (m := _FULL_DATE.search(line)) and (d := _parse_date(m.group(0)))),
        None,
    )
    parsed = _parse_date(dateline) if dateline else None
    if parsed and _YEAR.search(dateline):
        return parsed.date(), []
    for line in meta:
        if found := _date_in(line):
            return found, []
    if parsed:
        for reference, label in (
            (name_date, "the file name"),
            (text_date.date() if text_date else None, "a date in the text"),
            (saved, "the file's modification time"),
        ):
            if reference and (day := _year_for(parsed.month, parsed.day, reference)):
                return day, [f"year {day.year} inferred from {label}"]
    for line, kind in zip(lines, kinds, strict=False):
        if kind in (Kind.DATE, Kind.BYLINE):
            match = _FULL_DATE.search(line)
            if found := _parse_date(match.group(0) if match else line):
                return found.date(), []
    if text_date:
        return text_date.date(), []
    if name_date:
        return name_date, []
    return saved, ["no date found: using the file's modification day"]


# "11/13/19": a short year is a date only in the lines under a headline.
_SHORT_DATE = re.compile(r"(?<![\d/.])\d{1,2}/\d{1,2}/\d{2}(?![\d/])")


def _date_in(line: str) -> date | None:
    """A day stated in a byline or date line, in any of the forms `_parse_date` reads."""
    for pattern in (_FULL_DATE, _OTHER_DATE, _SHORT_DATE):
        if (match := pattern.search(line)) and (found := _parse_date(match.group(0))):
            return found.date()
    return None


# "Author:" or "Publish date:" alone on a line: the next line is its value.
_FIELD = re.compile(r"^[^\W\d_][\w ]{0,20}:$")
# "News > Nation", "Blog » Recipes": where the page sits, not its headline.
_BREADCRUMB = re.compile(r"\s[>»]\s")


def _is_name(line: str) -> bool:
    """A person's name, perhaps with the outlet after a comma: ``Tanza Loudenback, Business
    Insider``. Two or three capitalised words: headlines are longer."""
    name, _, outlet = line.partition(",")
    words = name.split()
    return (
        2 <= len(words) <= 3
        and len(outlet.split()) <= 3
        and all(w[0].isupper() and w.isalpha() for w in words)
    )


def _headline_above(lines: list[str], kinds: list[Kind], index: int) -> int | None:
    """The line a byline or date line stands under: the headline, by where it is.

    Between them may stand share buttons, names, breadcrumbs, labelled fields
    and one standfirst (a sentence that ends in a full stop) right under the
    headline; a standfirst with nothing headline-like right above it is the
    headline itself. A headline may read like prose ("Is this the end?") or
    a label ("Assange: …").
    """
    at = index - 1
    while at >= max(0, index - 10):
        line, kind = lines[at], kinds[at]
        if at > 0 and _FIELD.match(lines[at - 1]):
            at -= 2
        elif _BREADCRUMB.search(line) or _is_name(line) or _is_timestamp(line):
            at -= 1
        elif _headline_like(line, kind):
            # A long heading under a shorter one is a standfirst without its full stop.
            if (
                at > 0
                and len(line.split()) >= 14
                and kinds[at - 1] is kind is Kind.HEADING
                and len(lines[at - 1].split()) < len(line.split())
            ):
                return at - 1
            return at
        elif kind is Kind.PROSE:
            if at > 0 and _headline_like(lines[at - 1], kinds[at - 1]):
                return at - 1
            return at if _size(line) <= 25 else None
        else:
            at -= 1
    return None


def _headline_like(line: str, kind: Kind) -> bool:
    return kind in (Kind.HEADING, Kind.LABEL) or (
        kind is Kind.PROSE and _size(line) <= 25 and not line.endswith(".")
    )


# "Updated Nov 19, 9:41 AM": a date without a year, which dateutil would put in this year.
_TIMESTAMP = re.compile(rf"\b{_MONTH}\s+\d{{1,2}}\b.{{0,20}}\b\d{{1,2}}:\d{{2}}", re.IGNORECASE)


def _is_timestamp(line: str) -> bool:
    return _size(line) <= 14 and bool(_TIMESTAMP.search(line))


def _under_headline(line: str, kind: Kind) -> bool:
    """A line that stands under a headline: a byline, a date, or "By" alone before a name."""
    return (
        kind in (Kind.BYLINE, Kind.DATE)
        or _is_timestamp(line)
        or bool(re.fullmatch(r"(?:by|author|written by):?", line, re.IGNORECASE))
    )


# "Posted on March 30, 2015 by Admin": the names after the date.
_BY_AFTER_DATE = re.compile(r"\d.*?\bby:?\s+(?P<names>[^\W\d_][^|•\d]{1,80})$", re.IGNORECASE)


def _authors_under_headline(meta: list[str]) -> tuple[str, ...]:
    """Names in the first byline under the headline, after an ``Author:`` field or "By"
    alone on a line, or after a date (``Posted on March 30, 2015 by Admin``); else a
    name alone on one of the two lines under it (``Chris Davies - Nov 19, 2019``)."""
    for index, line in enumerate(meta):
        if match := _BYLINE.match(line):
            return _names(match.group("names"), "")
        if index + 1 < len(meta) and re.match(r"(?:author|written by|by)s?:?$", line, re.I):
            return _names(meta[index + 1], "")
        if (match := _BY_AFTER_DATE.search(line)) and _date_in(line):
            return _names(match.group("names"), "")
    for line in meta[:2]:
        # A name alone right under the headline, perhaps with a date, handle or outlet after it.
        name = re.split(r"\s+[-–—|/]\s+|\s+@", line)[0]
        if _is_name(name) and not _ROLE.search(name) and not _FUNCTION_WORD.search(name):
            return _names(name.partition(",")[0], "")
    return ()


def _unescape(markdown: str) -> str:
    return re.sub(r"\\(.)", r"\1", markdown).replace("&amp;", "&")


def _title(lines: list[str], kinds: list[Kind], lede: list[str], head: int, under: set[int]) -> int:
    """The headline's index: of the headline-like lines above the body, the one the lede echoes.

    Menus, teasers and promos stand above the article too; the headline is
    the line whose words the first paragraphs use most, and the nearest one
    when several do equally well. A line that a byline or date line stands
    under (``under``) is far likelier the headline than a teaser is.
    """
    lede_words = _words(" ".join(lede))
    best, best_score = -1, 0.0
    candidates = [*range(head - 1, max(-1, head - 60), -1), *sorted(under - set(range(head)))]
    for index in candidates:
        line, kind = lines[index], kinds[index]
        if (index > 0 and _FIELD.match(lines[index - 1])) or _is_timestamp(line):
            continue  # the value of a field such as "Author:", or a date
        if index not in under and not (
            kind is Kind.HEADING or (kind is Kind.PROSE and _size(line) <= 25)
        ):
            continue
        words = _words(line)
        if not words:
            continue
        echo = len(words & lede_words) / (len(words) + 2)
        score = echo - 0.002 * max(0, head - index) + (0.5 if index in under else 0)
        if score > best_score:
            best, best_score = index, score
    if best >= 0:
        return best
    headings = [i for i in range(head) if kinds[i] is Kind.HEADING]
    return max(headings, key=lambda i: _size(lines[i]), default=-1)


def _words(text: str) -> set[str]:
    """Content words (three letters or more) in lower case, CJK characters one by one."""
    return {w for w in re.findall(r"\w+", _CJK.sub(" ", text.casefold())) if len(w) >= 3} | set(
        _CJK.findall(text)
    )


def _image(caption: str) -> Image | None:
    if not caption:
        return None
    caption = re.sub(r"^\d+\s+(?:of|/)\s+\d+\s*\|\s*", "", caption)
    caption = re.sub(r"\s*\|\s*License Photo$", "", caption, flags=re.IGNORECASE)
    caption = _CAPTION_LABEL.sub("", caption).strip()
    for pattern in (_CAPTION_CREDIT, _PAREN_CREDIT, _TAIL_CREDIT, _AGENCY_CREDIT):
        if match := pattern.search(caption):
            text = caption[: match.start("credit")]
            text = re.sub(
                rf"[\s(|]*(?:{_CREDIT_WORDS}\s*(?:by|:|credits?:?)?|©)\s*$",
                "",
                text,
                flags=re.IGNORECASE,
            )
            return Image(caption=text.strip(" (|"), credit=match.group("credit").strip())
    return Image(caption=caption)


# "Follow CNN", "About my6sense", "BBC News Navigation", "VG247 newsletter!": furniture that
# names the site ("Subscribe to X" may name a newsletter or a magazine instead).
_NAMING = re.compile(
    r"^(?:(?:follow|search|browse|contact|about|why you can trust|work for|welcome to"
    r"|advertise (?:on|with))\s+(?:the\s+)?@?(?P<after>.+?)"
    r"(?:\s+(?:on\s+\w+|newsletters?|app))?"
    r"|(?P<before>.+?)\s+(?:navigation|newsletters?|store|blog|feedback))\W*$",
    re.IGNORECASE,
)
_FUNCTION_WORD = re.compile(
    r"\b(?:to|for|on|in|at|of|with|by|from|our|us|me|my|your|you|the|and)\b", re.IGNORECASE
)


def _name_like(name: str) -> bool:
    """A brand's name, not a menu's words: ``BBC News``, ``AppleInsider``, ``my6sense``.

    Several capitalised words, or one word cased or spelled like a brand; "Email
    Newsletters", "Skip To Navigation" and "About Us" name no site.
    """
    words = name.split()
    return (
        1 <= len(words) <= 4
        and not _FUNCTION_WORD.search(name)
        and all(w[0].isupper() or w[0].isdigit() for w in words[1:])
        and (len(words) > 1 or bool(re.search(r".[A-Z\d.]", name)))
    )


_COPYRIGHT = re.compile(
    r"(?:(?:©|\(c\)|copyright)\s*)+(?:\d{4}\s*(?:[-–]\s*\d{4})?[\s,]*)?(?:by\s+)?"
    r"(?P<name>[^\W\d_][^|/]{1,40}?)\s*"
    r"(?:[.,](?:\s|$)|[|/]|\s+all rights|\s+unless\b|\s+\d{4}|[.,]?\s*$)",
    re.IGNORECASE,
)
_COMPANY = re.compile(r",?\s+(?:Pty\.?\s+)?(?:Ltd|LLC|Inc|GmbH|Limited|Corp|Corporation)\.?$")


def _source_from_furniture(lines: list[str]) -> str:
    """The site's name, by votes of the page's furniture.

    Menus and footers name the site ("Follow X", "X Newsletters", a masthead
    repeated in the footer); the copyright line often names a parent company
    instead, so it is one vote among those and the last resort.
    """
    votes: dict[str, list[str]] = {}

    def vote(name: str) -> None:
        name = name.strip(" .,:;!-–|'\"")
        if name:
            votes.setdefault(name.casefold(), []).append(name)

    if lines and _name_like(lines[0]) and lines.count(lines[0]) > 1:
        vote(lines[0])  # a masthead, repeated in the footer or over teasers
    for line in lines:
        if len(line.split()) > 8:
            continue
        if (match := _NAMING.match(line)) and _name_like(name := match["after"] or match["before"]):
            vote(name)
    for line in reversed(lines):
        if re.match(_CREDIT_WORDS, line, re.IGNORECASE):  # "Image copyright …" credits a photo
            continue
        if match := _COPYRIGHT.search(line):
            vote(_COMPANY.sub("", match.group("name").strip()))
            break
    if not votes:
        return ""
    best = max(votes.values(), key=len)  # the first of equals: dicts keep their order
    return max(best, key=best.count)  # the spelling used most, the first of equals

"""Turn a saved page into clean Markdown and metadata.

Two inputs: a *text dump* (what "select all, copy" gives: navigation, ads,
captions, related headlines and the article all as plain lines) and a saved
*HTML page*. Both give an `Extract`; `digest.sources.files` turns it into an
`Article`. HTML goes through trafilatura; text dumps through the line rules
below, which are general (they name no outlet).
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from urllib.parse import urljoin, urlsplit

import trafilatura
from dateutil import parser as dateparser

from digest.model import Image

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

_MD_LINK = re.compile(r"(!?)\[([^\]\n]*)\]\(\s*<?([^)\s>]*)>?(?:\s+\"[^\"\n]*\")?\s*\)")
_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")


def safe_markdown(markdown: str, base_url: str = "") -> str:
    """Make converted Markdown safe to store and render anywhere.

    Link targets become absolute against ``base_url``; links that cannot be made
    absolute, or use a scheme other than http(s)/mailto, keep only their text;
    images are dropped (digest does not copy remote images); anything that looks
    like an HTML tag is escaped so no other Markdown tool can run it.
    """

    def link(match: re.Match[str]) -> str:
        bang, text, target = match.groups()
        if bang:
            return ""
        target = html.unescape(target)
        if base_url and not urlsplit(target).scheme and not target.startswith("#"):
            target = urljoin(base_url, target)
        scheme = urlsplit(target).scheme.lower()
        if (scheme in ("http", "https") and urlsplit(target).netloc) or scheme == "mailto":
            return f"[{text}]({target.replace(' ', '%20').replace(')', '%29')})"
        return text

    return _TAG_START.sub("&lt;", _MD_LINK.sub(link, markdown))


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


def plain(text: str) -> str:
    """Metadata fields are plain text: drop tags and control characters, fold spaces."""
    text = re.sub(r"<[^>]{0,200}>", "", html.unescape(text))
    text = "".join(c for c in text if unicodedata.category(c)[0] != "C" or c in "\t\n")
    return " ".join(text.split())


# ---------------------------------------------------------------------------
# HTML pages
# ---------------------------------------------------------------------------


def clean_html(page: str, url: str = "") -> Extract:
    """Extract the main text and metadata of a saved HTML page with trafilatura."""
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
    body = safe_markdown(body, page_url).strip()
    published: date | None = None
    if doc.date:
        try:
            published = date.fromisoformat(doc.date)
        except ValueError:
            published = None
    authors = tuple(a for a in (plain(a) for a in re.split(r";|\band\b", doc.author or "")) if a)
    first = next((p for p in body.split("\n\n") if len(p.split()) > 8), body)
    return Extract(
        title=plain(doc.title or ""),
        body=body,
        published=published,
        source=plain(doc.sitename or ""),
        url=page_url if urlsplit(page_url).scheme in ("http", "https") else "",
        authors=authors,
        summary=plain(doc.description or "") or summarize(plain(_MD_LINK.sub(r"\2", first))),
    )


def _html_title(page: str) -> str:
    match = re.search(r"<title[^>]*>(.*?)</title>", page, re.IGNORECASE | re.DOTALL)
    return match.group(1) if match else ""


# ---------------------------------------------------------------------------
# Text dumps
# ---------------------------------------------------------------------------


class Kind(Enum):
    """What a line of a text dump is."""

    PROSE = "prose"
    HEADING = "heading"  # a headline-like line: several words, no closing punctuation
    SHORT = "short"  # menus, labels
    JUNK = "junk"  # ads, share prompts, slideshow counters
    CAPTION = "caption"  # photo caption or credit
    BYLINE = "byline"
    DATE = "date"  # a line that is mostly a date
    STOP = "stop"  # "Latest Headlines", "Related stories": the article is over


_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sept?(?:ember)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_FULL_DATE = re.compile(
    rf"\b(?:{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}"
    rf"|\d{{1,2}}\s+{_MONTH},?\s+\d{{4}}"
    r"|\d{4}-\d{2}-\d{2})\b",
    re.IGNORECASE,
)
_DATELINE = re.compile(
    r"^(?P<place>(?:[A-Z][A-Za-z'.-]*\s?){1,4},\s*)?"
    rf"(?P<date>{_MONTH}\s+\d{{1,2}}(?:,?\s+\d{{4}})?\.?)?\s*"
    r"(?:\((?P<agency>[A-Z][\w&.' -]{0,30})\)|/(?P<slash>[A-Z][A-Za-z]{1,15})/\.?)"
    r"\s*(?:--|[-—–:])?\s*"
)
_BYLINE = re.compile(r"^(?:By|BY|by)\s+(?P<names>[^|•\d]{3,120}?)(?:\s*[|•].*|\s+\d.*)?$")
_CAPTION_CREDIT = re.compile(
    r"(?:^|[\s(.])(?:Photos?|Photograph|Image|Picture|Foto|Credit|Source)\s*(?:by|:|credits?:?)"
    r"\s*(?P<credit>[^.()]{2,60}?)\)?\s*$",
    re.IGNORECASE,
)
_PAREN_CREDIT = re.compile(r"\((?P<credit>[^()]{2,50}/[^()]{1,40})\)\s*$")
_SLIDESHOW = re.compile(r"^\d+\s+(?:of|/)\s+\d+\s*(?:\||$)")
_JUNK = re.compile(
    r"^(?:advertisement|advertising|ad|sponsored(?: content)?|story continues below"
    r"|share(?: this)?(?: article| story| on \w+)?|tweet|email|e-mail|print|whatsapp"
    r"|facebook|twitter|linkedin|reddit|pinterest|copy link|link copied|save|comments?"
    r"|\d+ comments?|skip to (?:main )?content|menu|search|close|home|subscribe(?: now)?"
    r"|sign (?:in|up)|log ?in|register|newsletter|license photo|listen(?: to this article)?"
    r"|read more|continue reading|click (?:here|to .*)|back to top|loading.*|watch:.*"
    r"|(?:read|see) (?:more|also):.*|follow us.*|.*all rights reserved.*|©.*|copyright\b.*"
    r"|.*\bcookies?\b.*|privacy policy|terms of (?:use|service)|contact us|about us"
    r"|\d+ min(?:ute)? read|updated:?.*ago|image|video|photo|getty images|file photo)[.!]?$",
    re.IGNORECASE,
)
_STOP = re.compile(
    r"^(?:latest (?:headlines|news|stories)|related(?: articles| stories| coverage| news"
    r"| content| posts| topics)?:?|more (?:from|on|in|stories|news)\b.*"
    r"|most (?:read|popular|viewed)|trending(?: now| stories)?"
    r"|recommended(?: for you| stories)?|top stories"
    r"|you (?:may|might) (?:also )?like|(?:leave|post) a (?:comment|reply)|comments"
    r"|\d+ comments|what to read next|around the web|from the web|editor'?s picks"
    r"|popular (?:stories|now)|also read|further reading)$",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"[.!?…:;\"”’»)\]。！？]$")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")


def _size(line: str) -> float:
    """Words, counting two CJK characters as one word."""
    cjk = len(_CJK.findall(line))
    return len(re.findall(r"\w+", _CJK.sub(" ", line))) + cjk / 2


def classify(line: str) -> Kind:
    """Sort one line of a text dump by what it most likely is."""
    if _STOP.match(line):
        return Kind.STOP
    if _JUNK.match(line) or _SLIDESHOW.match(line):
        return Kind.JUNK
    size = _size(line)
    if _CAPTION_CREDIT.search(line) or (size < 60 and _PAREN_CREDIT.search(line)):
        return Kind.CAPTION
    if _BYLINE.match(line) and size <= 20:
        return Kind.BYLINE
    found = _FULL_DATE.search(line)
    if found and size <= 14 and len(found.group(0)) * 2 >= len(line) - 40:
        return Kind.DATE
    if (size >= 5 and _SENTENCE_END.search(line)) or size > 30:
        return Kind.PROSE
    if size >= 3:
        return Kind.HEADING
    return Kind.SHORT


def _body_span(kinds: list[Kind], sizes: list[float]) -> tuple[int, int]:
    """The densest run of prose: a maximum-sum segment over per-line scores.

    Prose scores its size; menus and labels cost a little each, so long menus
    and headline lists break a run while a subheading inside the article does
    not; ads and captions cost nothing; a stop marker ends any run.
    """
    best, best_span = 0.0, (0, -1)
    total, start = 0.0, 0
    for index, kind in enumerate(kinds):
        if kind is Kind.STOP:
            total, start = 0.0, index + 1
            continue
        score = {
            Kind.PROSE: sizes[index],
            Kind.SHORT: -4.0,
            Kind.HEADING: -4.0,
            Kind.BYLINE: -2.0,
            Kind.DATE: -2.0,
        }.get(kind, 0.0)
        if total + score <= 0:
            total, start = 0.0, index + 1
            continue
        total += score
        if total > best:
            best, best_span = total, (start, index)
    return best_span


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


def _parse_date(text: str) -> datetime | None:
    try:
        return dateparser.parse(text.replace("Sept", "Sep"), fuzzy=True)
    except (ValueError, OverflowError):
        return None


def _names(text: str, agency: str) -> tuple[str, ...]:
    text = re.split(r"\s+(?:in|for|at)\s+[A-Z]|,\s*(?:Reuters|AP|AFP|UPI)\b", text)[0]
    parts = re.split(r",|\band\b|&", text)
    skip = {agency.lower(), "staff", "reporter", "correspondent", "staff writer", "editor"}
    return tuple(p for p in (plain(p) for p in parts) if p and p.lower() not in skip)


def clean_text(text: str, *, name_date: date | None, saved: date) -> Extract:
    """Clean a whole-page text dump.

    ``name_date`` is a date found in the file's name and ``saved`` the day the
    file was last modified: when the article's dateline gives no year, the
    year comes from the first, else from a full date in the text, else from
    the second.
    """
    lines: list[str] = []
    for raw in text.splitlines():
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
    title = _title(lines[:start], kinds[:start])
    caption = next(
        (lines[i] for i in range(start) if kinds[i] is Kind.CAPTION),
        next((lines[i] for i in range(start, end + 1) if kinds[i] is Kind.CAPTION), ""),
    )
    image = _image(caption)

    body: list[str] = []
    authors: tuple[str, ...] = ()
    source = ""
    dateline_date = ""
    for index in range(start, end + 1):
        line, kind = lines[index], kinds[index]
        if kind is Kind.BYLINE and not authors and (match := _BYLINE.match(line)):
            authors = _names(match.group("names"), "")
        if kind is Kind.PROSE:
            if not body and (dateline := _DATELINE.match(line)):
                source = dateline.group("agency") or dateline.group("slash") or ""
                dateline_date = dateline.group("date") or ""
                line = line[dateline.end() :]
            body.append(escape_text(line))
        elif kind is Kind.HEADING and body and _next_is_prose(kinds, index, end):
            body.append(escape_text(line))
    if not authors:
        for index in range(start):
            if kinds[index] is Kind.BYLINE and (match := _BYLINE.match(lines[index])):
                authors = _names(match.group("names"), source)
                break

    published: date | None = None
    text_date = next(
        (d for line in lines if (m := _FULL_DATE.search(line)) and (d := _parse_date(m.group(0)))),
        None,
    )
    if dateline_date:
        parsed = _parse_date(dateline_date)
        if parsed and re.search(r"\d{4}", dateline_date):
            published = parsed.date()
        elif parsed:
            for reference, label in (
                (name_date, "the file name"),
                (text_date.date() if text_date else None, "a date in the text"),
                (saved, "the file's modification time"),
            ):
                if reference and (published := _year_for(parsed.month, parsed.day, reference)):
                    notes.append(f"year {published.year} inferred from {label}")
                    break
    if published is None:
        header_date = next(
            (
                d
                for line, kind in zip(lines[: end + 1], kinds[: end + 1], strict=True)
                if kind in (Kind.DATE, Kind.BYLINE)
                and (m := _FULL_DATE.search(line))
                and (d := _parse_date(m.group(0)))
            ),
            None,
        )
        found = header_date or text_date
        published = found.date() if found else name_date
    if published is None:
        published = saved
        notes.append("no date found: using the file's modification day")

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


def _unescape(markdown: str) -> str:
    return re.sub(r"\\(.)", r"\1", markdown).replace("&amp;", "&")


def _next_is_prose(kinds: list[Kind], index: int, end: int) -> bool:
    for kind in kinds[index + 1 : end + 1]:
        if kind is Kind.PROSE:
            return True
        if kind in (Kind.SHORT, Kind.HEADING):
            return False
    return False


def _title(lines: list[str], kinds: list[Kind]) -> str:
    """The headline: the nearest heading-like line above the article's first paragraph."""
    for distance, index in enumerate(range(len(lines) - 1, -1, -1)):
        line, kind = lines[index], kinds[index]
        if distance > 12:
            break
        if kind is Kind.HEADING:
            return line
    candidates = [ln for ln, k in zip(lines, kinds, strict=True) if k is Kind.HEADING]
    return max(candidates, key=_size, default="")


def _image(caption: str) -> Image | None:
    if not caption:
        return None
    caption = re.sub(r"^\d+\s+(?:of|/)\s+\d+\s*\|\s*", "", caption)
    caption = re.sub(r"\s*\|\s*License Photo$", "", caption, flags=re.IGNORECASE)
    for pattern in (_CAPTION_CREDIT, _PAREN_CREDIT):
        if match := pattern.search(caption):
            text = caption[: match.start("credit")]
            text = re.sub(
                r"[\s(]*(?:Photos?|Photograph|Image|Picture|Foto|Credit|Source)\s*(?:by|:|credits?:?)?\s*$",
                "",
                text,
                flags=re.IGNORECASE,
            )
            return Image(caption=text.strip(" (|"), credit=match.group("credit").strip())
    return Image(caption=caption)


def _source_from_furniture(lines: list[str]) -> str:
    """An outlet named in a copyright line (``© 2022 Reuters``), the last resort."""
    for line in reversed(lines):
        match = re.search(
            r"(?:©|\(c\)|copyright)\s*(?:©\s*)?(?:\d{4}\s*[-–]?\s*(?:\d{4})?\s*)?"
            r"(?P<name>[A-Z][\w&.' -]{1,40}?)(?:[.,]|\s+all rights|\s*$)",
            line,
            re.IGNORECASE,
        )
        if match:
            return match.group("name").strip()
    return ""

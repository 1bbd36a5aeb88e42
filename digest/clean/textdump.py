"""Text dumps: what "select all, copy" gives of a page, the article among its furniture.

Navigation, ads, captions, related headlines and the article all arrive as
plain lines; the article is the densest run of prose, its headline the line
above it that its first paragraphs echo.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from digest.clean.dates import date_in, publication_day
from digest.clean.extract import Extract
from digest.clean.furniture import DEFAULT, Thresholds, mark
from digest.clean.lines import (
    AGENCY_CREDIT,
    BYLINE,
    CAPTION_CREDIT,
    CAPTION_LABEL,
    CJK,
    CREDIT_WORDS,
    DATELINE,
    MONTH,
    PAREN_CREDIT,
    ROLE,
    TAIL_CREDIT,
    Kind,
    classify,
    word_count,
)
from digest.clean.markdown import escape_text, summarize
from digest.model import Image, plain, strip_tags


def _body_span(kinds: list[Kind], sizes: list[float], cost: float) -> tuple[int, int]:
    """The densest run of prose: a maximum-sum segment over per-line scores.

    Prose scores its size; menus and headings cost a little each, so long menus
    and headline lists break a run while a subheading inside the article does
    not; ads and captions cost nothing; a stop marker ends any run. Readers'
    comments can outweigh the article, so prose after a comments marker counts
    a quarter; a legal footer can too, so once the article's byline or date has
    been passed, prose after a stop marker ("Related stories") counts a half.
    """
    best, best_span = 0.0, (0, -1)
    total, start = 0.0, 0
    weight = 1.0
    headed = False
    for index, kind in enumerate(kinds):
        if kind in (Kind.STOP, Kind.COMMENTS):
            total, start = 0.0, index + 1
            weight = 0.25 if kind is Kind.COMMENTS else min(weight, 0.5) if headed else weight
            continue
        headed = headed or kind in (Kind.BYLINE, Kind.DATE)
        score = {
            Kind.PROSE: sizes[index] * weight,
            Kind.SHORT: -cost,
            Kind.HEADING: -cost,
            Kind.FURNITURE: -cost,
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


# "MS, RDN", "PhD", "Jr.": letters after a name, not another author.
_CREDENTIAL = re.compile(r"[A-Z]{1,4}|Ph\.?D\.?|Jr\.?|Sr\.?")


def _names(text: str, agency: str) -> tuple[str, ...]:
    """The people a byline names: no role ("Staff Writer"), outlet, agency, e-mail or date."""
    text = re.split(r"\s+[-–—|/]\s+", re.sub(r"\S+@\S+", " ", text))[0]
    text = re.sub(
        rf"\s+(?:on|at|updated|published|posted|{MONTH})\s*$|\s*[-–—|·(]\s*$", "", text, flags=re.I
    )
    text = re.split(r"\s+(?:in|for|at)\s+[A-Z]|,\s*(?:Reuters|AP|AFP|UPI)\b", text)[0]
    parts = (plain(p) for p in re.split(r",|\band\b|&", text))
    named = [p for p in parts if p and p.lower() != agency.lower() and not _CREDENTIAL.fullmatch(p)]
    people = tuple(p for p in named if not ROLE.search(p))
    # A byline that names no person names a desk ("HNN Staff", "Staff Reports"), not a bare role.
    return people or tuple(p for p in named if ROLE.sub("", p).strip())


def clean_text(
    text: str,
    *,
    name_date: date | None,
    saved: date,
    furniture: frozenset[str] = frozenset(),
    limits: Thresholds = DEFAULT,
) -> Extract:
    """Clean a whole-page text dump.

    ``name_date`` is a date found in the file's name and ``saved`` the day the
    file was last modified: when the article's dateline gives no year, the
    year comes from the first, else from a full date in the text, else from
    the second. ``furniture`` holds the lines the site repeats on its pages
    (`SiteFurniture.lines`).

    When nothing but furniture reads like prose, no block is clearly the
    article: the text is kept whole and the result says it is ``unsure``.
    """
    lines: list[str] = []
    for raw in strip_tags(text).splitlines():
        line = " ".join(unicodedata.normalize("NFC", raw).split())
        if line and (not lines or line != lines[-1]):
            lines.append(line)
    sizes = [word_count(line) for line in lines]
    kinds = [classify(line, size) for line, size in zip(lines, sizes, strict=True)]
    mark(lines, kinds, furniture, limits)
    start, end = _body_span(kinds, sizes, limits.heading_cost)
    unsure = False
    if end < start:  # nothing reads like prose: keep every non-junk line
        unsure = Kind.FURNITURE in kinds
        start, end = 0, len(lines) - 1
        kinds = [
            Kind.PROSE if k in (Kind.SHORT, Kind.HEADING, Kind.FURNITURE) else k for k in kinds
        ]

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
        if title_at >= 0
        and kinds[i] is not Kind.CAPTION
        and (i != head and word_count(lines[i]) <= 20)
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
    first = ""
    for index in range(start, end + 1):
        line, kind = lines[index], kinds[index]
        if index == title_at:
            continue  # the headline opens the run of prose
        if kind is Kind.BYLINE and not authors and (match := BYLINE.match(line)):
            authors = _names(match.group("names"), "")
        if kind is Kind.PROSE:
            if not body and (dateline := DATELINE.match(line)):
                source = dateline.group("agency") or dateline.group("slash") or ""
                dateline_date = dateline.group("date") or ""
                line = line[dateline.end() :]
            first = first or line
            body.append(escape_text(line))
        elif kind is Kind.HEADING and body and _sandwiched(kinds, index, end):
            body.append(escape_text(line))
    if not authors:
        for index in range(start):
            if kinds[index] is Kind.BYLINE and (match := BYLINE.match(lines[index])):
                authors = _names(match.group("names"), source)
                break
    if not authors and source:
        authors = (source,)  # a wire story without a byline is the agency's

    published, said = publication_day(
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
        summary=summarize(first) if body else "",
        image=image,
        notes=tuple(notes),
        unsure=unsure,
    )


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
            return at if word_count(line) <= 25 else None
        else:
            at -= 1
    return None


def _headline_like(line: str, kind: Kind) -> bool:
    return kind in (Kind.HEADING, Kind.LABEL) or (
        kind is Kind.PROSE and word_count(line) <= 25 and not line.endswith(".")
    )


_META_CHARS = 300
"""A headline, byline, date or name fits in a few hundred characters: longer lines are prose."""

# "Updated Nov 19, 9:41 AM": a date without a year, which dateutil would put in this year.
_TIMESTAMP = re.compile(rf"\b{MONTH}\s+\d{{1,2}}\b.{{0,20}}\b\d{{1,2}}:\d{{2}}", re.IGNORECASE)


def _is_timestamp(line: str) -> bool:
    return len(line) <= _META_CHARS and word_count(line) <= 14 and bool(_TIMESTAMP.search(line))


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
        if match := BYLINE.match(line):
            return _names(match.group("names"), "")
        if index + 1 < len(meta) and re.match(r"(?:author|written by|by)s?:?$", line, re.I):
            return _names(meta[index + 1], "")
        if (match := _BY_AFTER_DATE.search(line)) and date_in(line):
            return _names(match.group("names"), "")
    for line in meta[:2]:
        # A name alone right under the headline, perhaps with a date, handle or outlet after it.
        name = re.split(r"\s+[-–—|/]\s+|\s+@", line)[0]
        if _is_name(name) and not ROLE.search(name) and not _FUNCTION_WORD.search(name):
            return _names(name.partition(",")[0], "")
    return ()


def _title(lines: list[str], kinds: list[Kind], lede: list[str], head: int, under: set[int]) -> int:
    """The headline's index: of the headline-like lines above the body, the one the lede echoes.

    Menus, teasers and promos stand above the article too; the headline is
    the line whose words the first paragraphs use most, and the nearest one
    when several do equally well. A line that a byline or date line stands
    under (``under``) is far likelier the headline than a teaser is.
    """
    lede_words = _words(" ".join(line[:_LEDE_CHARS] for line in lede))
    best, best_score = -1, 0.0
    candidates = [*range(head - 1, max(-1, head - 60), -1), *sorted(under - set(range(head)))]
    for index in candidates:
        line, kind = lines[index], kinds[index]
        if (index > 0 and _FIELD.match(lines[index - 1])) or _is_timestamp(line):
            continue  # the value of a field such as "Author:", or a date
        if index not in under and not (
            kind is Kind.HEADING or (kind is Kind.PROSE and word_count(line) <= 25)
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
    return max(headings, key=lambda i: word_count(lines[i]), default=-1)


_LEDE_CHARS = 2000
"""The start of a paragraph is enough for the words it shares with its headline."""


def _words(text: str) -> set[str]:
    """Content words (three letters or more) in lower case, CJK characters one by one."""
    return {w for w in re.findall(r"\w+", CJK.sub(" ", text.casefold())) if len(w) >= 3} | set(
        CJK.findall(text)
    )


def _image(caption: str) -> Image | None:
    if not caption:
        return None
    caption = re.sub(r"^\d+\s+(?:of|/)\s+\d+\s*\|\s*", "", caption)
    caption = re.sub(r"\s*\|\s*License Photo$", "", caption, flags=re.IGNORECASE)
    caption = CAPTION_LABEL.sub("", caption).strip()
    for pattern in (CAPTION_CREDIT, PAREN_CREDIT, TAIL_CREDIT, AGENCY_CREDIT):
        if match := pattern.search(caption):
            text = caption[: match.start("credit")]
            text = re.sub(
                rf"[\s(|]*(?:{CREDIT_WORDS}\s*(?:by|:|credits?:?)?|©)\s*$",
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
        len(name) <= _META_CHARS
        and 1 <= len(words) <= 4
        and not _FUNCTION_WORD.search(name)
        and all(w[0].isupper() or w[0].isdigit() for w in words[1:])
        and (len(words) > 1 or bool(re.search(r".[A-Z\d.]", name)))
    )


_COPYRIGHT = re.compile(
    r"(?<![\w©])(?:(?:©|\(c\)|copyright)\s*+){1,3}+(?:\d{4}\s*(?:[-–]\s*\d{4})?[\s,]*+)?(?:by\s+)?"
    r"(?P<name>[^\W\d_][^|/]{1,40}?)\s*"
    r"(?:[.,](?:\s|$)|[|/]|\s+all rights|\s+unless\b|\s+\d{4}|[.,]?\s*$)",
    re.IGNORECASE,
)
_FOOTER_CHARS = 300
"""A copyright line is short: longer lines are prose that mentions copyright."""
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
        if re.match(CREDIT_WORDS, line, re.IGNORECASE):  # "Image copyright …" credits a photo
            continue
        if len(line) <= _FOOTER_CHARS and (match := _COPYRIGHT.search(line)):
            vote(_COMPANY.sub("", match.group("name").strip()))
            break
    if not votes:
        return ""
    best = max(votes.values(), key=len)  # the first of equals: dicts keep their order
    return max(best, key=best.count)  # the spelling used most, the first of equals

"""What one line of a page's text is: prose, a heading, a byline, a date, furniture.

The rules are general: they name no outlet. Text dumps are read line by line
with them, and HTML pages block by block.
"""

from __future__ import annotations

import re
from enum import Enum


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
    FURNITURE = "furniture"  # notices, service boxes, keyword runs, teasers, comments


MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sept?(?:ember)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
FULL_DATE = re.compile(
    rf"\b(?:{MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}"
    rf"|\d{{1,2}}\s+{MONTH},?\s+\d{{4}}"
    r"|\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2})?(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?)?"
    r"|\d{1,2}[./]\d{1,2}[./]\d{4})(?!\w)",
    re.IGNORECASE,
)
# Dates in other languages, for dateparser: "11 октября 2018", "27 de setembro de 2018",
# "2018年8月16日", "2019. 11. 19".
OTHER_DATE = re.compile(
    r"(?<!\d)\d{4}\s*[年.]\s*\d{1,2}\s*[月.]\s*\d{1,2}"
    r"|(?<!\d)\d{1,2}\.?\s+(?:de\s+)?[^\W\d_]{3,}\.?,?\s+(?:de\s+)?\d{4}"
    r"|(?<![^\W\d_])[^\W\d_]{3,}\.?\s+\d{1,2},?\s+\d{4}"
)
YEAR = re.compile(r"(?<!\d)(?:19|20)\d{2}(?!\d)")
DATELINE = re.compile(
    r"^(?:(?P<place>[A-Z][\w'.-]*(?:,?\s[A-Z][\w'.-]*){0,4})[,\s]\s*)?"
    rf"(?P<date>{MONTH}\s+\d{{1,2}}(?:,?\s+\d{{4}})?\.?)?\s*"
    r"(?:\((?P<agency>[A-Z][\w&.' -]{0,30})\)\s*(?:--|[-—–])|/(?P<slash>[A-Z][A-Za-z]{1,15})/\.?)"
    r"\s*"
)
BYLINE = re.compile(
    r"^(?:(?:Analysis|Commentary|Opinion|Review|Story|Text|Words|Written|Posted|Reporting) )?"
    r"(?:By|BY|by):?\s+(?P<names>[^|•\d]{3,120}?)(?:\s*[|•].*|[\s(]+\d.*)?$"
)
ROLE = re.compile(
    r"\b(?:correspondent|editor|reporter|staff|writer|bureau|columnist|contributor)s?\b",
    re.IGNORECASE,
)
CREDIT_WORDS = r"(?:Photos?|Photograph|Image|Picture|Foto|Credit)"
CAPTION_CREDIT = re.compile(
    rf"(?:^|[\s(.|])(?:{CREDIT_WORDS}\s*(?:by|:|credits?:?|copyright)|©)"
    r"\s*(?P<credit>[^.()]{2,80}?)\)?\s*$",
    re.IGNORECASE,
)
CAPTION_LABEL = re.compile(r"^(?:(?:image|photo|picture|video|media) ?)?caption", re.IGNORECASE)
# "(AP Photo/Olena Koval)", "(onmeth.com)": a credit in parentheses ends a caption.
PAREN_CREDIT = re.compile(
    r"\((?P<credit>[^()]{2,50}/[^()]{1,40}|[\w-]+(?:\.[\w-]+)*\.[a-z]{2,6})\)\s*$"
)
# "… March 21, 2023. Sputnik/Pool via REUTERS": a short credit after the caption's last sentence.
TAIL_CREDIT = re.compile(r"[.!?]\s+(?P<credit>[^.!?]{2,50}(?:/|\bvia\b)[^.!?]{1,50})$")
# "Alex Wong | Getty Images": a photographer and an agency alone on a short line.
AGENCY_CREDIT = re.compile(
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
CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")


def word_count(line: str) -> float:
    """Words, counting two CJK characters as one word."""
    cjk = len(CJK.findall(line))
    return len(re.findall(r"\w+", CJK.sub(" ", line))) + cjk / 2


def _is_date_line(line: str, size: float) -> bool:
    """Mostly a date: ``Published 5:43 AM GMT, May 13, 2024``, ``12 февраля 2024, 14:30``."""
    if size > 14:
        return False
    found = FULL_DATE.search(line)
    if found:
        return len(found.group(0)) * 2 >= len(line) - 40
    return bool(YEAR.search(line)) and size <= 6 and sum(c.isdigit() for c in line) >= 6


def classify(line: str, size: float | None = None) -> Kind:
    """Sort one line of a text dump by what it most likely is (``size``: its `word_count`)."""
    if _COMMENTS.match(line):
        return Kind.COMMENTS
    if _STOP.match(line):
        return Kind.STOP
    size = word_count(line) if size is None else size
    if _JUNK.match(line) or _SLIDESHOW.match(line) or (size <= 12 and _PROMO.search(line)):
        return Kind.JUNK
    if (
        CAPTION_CREDIT.search(line)
        or CAPTION_LABEL.match(line)
        or (size < 60 and PAREN_CREDIT.search(line))
        or (size < 60 and TAIL_CREDIT.search(line))
        or (size <= 8 and AGENCY_CREDIT.match(line))
    ):
        return Kind.CAPTION
    if BYLINE.match(line) and size <= 20:
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

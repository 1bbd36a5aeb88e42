"""Publication days from the lines of a page, in English and other languages."""

from __future__ import annotations

import functools
import re
from datetime import date, datetime

from dateutil import parser as dateutil_parser

from digest.clean.lines import FULL_DATE, OTHER_DATE, YEAR, Kind


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
    match = FULL_DATE.search(text)
    try:
        return dateutil_parser.parse((match.group(0) if match else text).replace("Sept", "Sep"))
    except (ValueError, OverflowError):
        pass
    if not (shape := OTHER_DATE.search(text)):
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


_DATE_CHARS = 2000
"""A date in the text is looked for in the first characters of each line: a dateline
or a date line is short, and a paragraph names its day early."""


def publication_day(
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
        (
            d
            for line in lines
            if (m := FULL_DATE.search(line, 0, _DATE_CHARS)) and (d := _parse_date(m.group(0)))
        ),
        None,
    )
    parsed = _parse_date(dateline) if dateline else None
    if parsed and YEAR.search(dateline):
        return parsed.date(), []
    for line in meta:
        if found := date_in(line):
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
            match = FULL_DATE.search(line)
            if found := _parse_date(match.group(0) if match else line):
                return found.date(), []
    if text_date:
        return text_date.date(), []
    if name_date:
        return name_date, []
    return saved, ["no date found: using the file's modification day"]


# "11/13/19": a short year is a date only in the lines under a headline.
_SHORT_DATE = re.compile(r"(?<![\d/.])\d{1,2}/\d{1,2}/\d{2}(?![\d/])")


def date_in(line: str) -> date | None:
    """A day stated in a byline or date line, in any of the forms `_parse_date` reads."""
    for pattern in (FULL_DATE, OTHER_DATE, _SHORT_DATE):
        if (match := pattern.search(line)) and (found := _parse_date(match.group(0))):
            return found.date()
    return None


# "Author:" or "Publish date:" alone on a line: the next line is its value.

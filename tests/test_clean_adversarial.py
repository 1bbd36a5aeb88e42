"""Hostile input cannot make the cleaner's patterns take quadratic time.

Each cleaner gets 1 MB shaped to make a backtracking pattern go quadratic: long runs
of one character, unclosed and nested brackets, many separators, repeated markers
(©, "By", dates' parts). A linear cleaner handles each in well under a second; a
quadratic one took minutes on the same sizes. CPU time is measured, so a busy
machine does not fail the test, and the second is scaled by this machine's speed
against the development machine's (docs/performance.md names it): a CI runner a
third slower gets a third more, a quadratic pattern still fails by orders of magnitude.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import date

import pytest

from digest import clean

MB = 1_000_000
SHAPES = {
    "one letter": "a" * MB,
    "spaces": "a" + " " * MB + "a",
    "digits": "1" * MB,
    "brackets": "[" * (MB // 2) + "]" * (MB // 2),
    "link text without its end": "[a](" * (MB // 4),
    "images without their end": "![" * (MB // 2),
    "parentheses in a target": "[x](" + "(" * (MB // 2) + ")" * (MB // 2),
    "angle brackets": "<" * MB,
    "unclosed tags": "<a" * (MB // 2),
    "commas": "a," * (MB // 2),
    "pipes": "a | " * (MB // 4),
    "full stops": ". " * (MB // 2),
    "copyright signs": "© " * (MB // 2),
    "copyright then a name": "©" + "a" * MB,
    "a day then words": "1 " + "abc " * (MB // 4),
    "month names": "May " * (MB // 4),
    "bylines": "By " + "x " * (MB // 2),
    "backslashes": "\\" * MB,
    "emphasis": "*_" * (MB // 2),
    "numbered": "1." * (MB // 2),
    "colons": "a:" * (MB // 2),
    "entities": "&#" * (MB // 2),
}
SECOND = 1.0
REFERENCE_SECONDS = 0.05
"""CPU time `_reference_work` takes on the development machine."""


def _reference_work() -> None:
    """Linear work of the kind the cleaners do: a substitution per markup character, and
    splitting and joining words."""
    re.sub(r"[<\[*_]", lambda m: "\\" + m.group(), "<[*_ab" * 40_000)
    " ".join(("word " * 200_000).split())


def _cpu_seconds(job: Callable[[], object]) -> float:
    started = time.process_time()
    job()
    return time.process_time() - started


@pytest.fixture(scope="module")
def budget() -> float:
    """A second on the development machine, in this machine's CPU seconds."""
    reference = min(_cpu_seconds(_reference_work) for _ in range(3))
    return SECOND * max(1.0, reference / REFERENCE_SECONDS)


def _text(page: str) -> object:
    return clean.clean_text(page, name_date=None, saved=date(2024, 1, 1))


def _html(page: str) -> object:
    return clean.clean_html(f"<html><body><article><p>{page}</p></article></body></html>")


CLEANERS: dict[str, Callable[[str], object]] = {
    "text dump": _text,
    "HTML page": _html,
    "safe_markdown": clean.safe_markdown,
    "html_to_markdown": clean.html_to_markdown,
    "summarize": clean.summarize,
}


@pytest.mark.parametrize("cleaner", CLEANERS.values(), ids=CLEANERS.keys())
def test_each_cleaner_is_linear_on_hostile_input(
    cleaner: Callable[[str], object], budget: float
) -> None:
    for shape, page in SHAPES.items():
        assert _cpu_seconds(lambda: cleaner(page)) < budget, shape  # noqa: B023

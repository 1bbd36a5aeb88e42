"""Stories: every outlet's report of the same event, grouped (the clustering is in `cluster`).

The build keeps one `State` in its memory and calls `State.add` with new or
edited articles and `State.remove` with deleted ones; ``digest stories FILE.jsonl``
runs the same code on articles given as JSON lines.
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

from digest.config import Stories as Settings
from digest.errors import ContentError, Problem
from digest.stories.cluster import Explanation, Report, State

__all__ = ["Explanation", "Report", "Settings", "State", "read_jsonl"]

_STORY_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")


_MOST_PROBLEMS = 10
"""Bad lines reported before the rest are only counted: a wrong file is one mistake."""


def read_jsonl(path: Path) -> list[Report]:
    """Articles from JSON lines: ``id``, ``title``, ``text`` and optionally ``date``,
    ``source``, ``url``, ``language`` and ``story`` (a pin). ``published`` and ``lang``
    are read as ``date`` and ``language``. Every bad line is reported (the first ten
    named), then nothing is placed.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ContentError(Problem(path, f"cannot read: {exc}", "give a JSON lines file")) from None
    if data.lstrip()[:1] == b"[":
        raise ContentError(
            Problem(
                path,
                "a JSON array, not JSON lines",
                f"write one object a line: jq -c '.[]' {path}",
                1,
            )
        )
    reports: list[Report] = []
    problems: list[Problem] = []
    seen: set[str] = set()
    for number, raw in enumerate(data.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            report = _report(json.loads(raw.decode("utf-8")))
        except UnicodeDecodeError:
            problems.append(Problem(path, "not UTF-8", "save the file as UTF-8", number))
            continue
        except (ValueError, TypeError, RecursionError) as exc:
            problems.append(Problem(path, str(exc) or "nested too deep", "fix this line", number))
            continue
        if report.id in seen:
            problems.append(Problem(path, f"id {report.id!r} is given twice", "remove one", number))
        seen.add(report.id)
        reports.append(report)
    if len(problems) > _MOST_PROBLEMS:
        more = len(problems) - _MOST_PROBLEMS
        problems[_MOST_PROBLEMS:] = [
            Problem(
                path, f"and {more} more bad line{'s' * (more != 1)}", "fix the ones above first"
            )
        ]
    if problems:
        raise ContentError(*problems)
    return reports


def _report(data: object) -> Report:
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")

    def text(*keys: str, required: bool = False) -> str:
        for key in keys:
            value = data.get(key)
            if value is not None:
                if not isinstance(value, str):
                    raise ValueError(f"'{key}' must be a string")
                return value
        if required:
            raise ValueError(f"missing '{keys[0]}'")
        return ""

    article_id = text("id", required=True)
    if not article_id.strip():
        raise ValueError("'id' is empty")
    try:
        article_id.encode()
    except UnicodeEncodeError:
        raise ValueError("'id' is not valid Unicode (a lone surrogate such as \\ud800)") from None
    day = text("date", "published")
    pin = text("story")
    if pin and not _STORY_ID.fullmatch(pin):
        raise ValueError(f"story {pin!r} is not a story id (letters, digits, - and _)")
    return Report(
        id=article_id,
        title=text("title", required=True),
        text=text("text", required=True),
        date=date.fromisoformat(day[:10]) if day else None,
        source=text("source"),
        url=text("url"),
        language=text("language", "lang"),
        pin=pin,
    )

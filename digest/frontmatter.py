"""The on-disk article format: Markdown with YAML front matter between ``---`` lines.

This is the only module that knows it. Files that digest writes carry a checksum
of their own text (``origin.checksum``); a file whose checksum no longer matches
was edited by a person, and digest never overwrites it.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Mapping
from datetime import date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from digest.errors import ContentError, Problem
from digest.model import (
    DATE_LIMIT,
    Article,
    Image,
    Origin,
    http_url,
    mint_id,
    plain,
    renderable,
)

_KNOWN = {
    "id", "title", "date", "updated", "source", "feed", "also", "url", "authors", "author",
    "summary", "topics", "image", "origin",
}  # fmt: skip
if TYPE_CHECKING:
    import yaml
_CHECKSUM = re.compile(r"^  checksum: ([0-9a-f]{16})\n", re.MULTILINE)


@functools.cache
def loader() -> type[yaml.SafeLoader]:
    """libyaml's loader is ten times faster; the pure-Python one is the fallback."""
    import yaml

    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def split(text: str, path: Path) -> tuple[dict[str, Any], str, int]:
    """Split a file into its front matter mapping, its body and the body's first line.

    A file without front matter has an empty mapping.
    """
    text = text.removeprefix("\ufeff")
    head, body = _halves(text, path)
    if head is None:
        return {}, text, 1
    body_line = text[: len(text) - len(body)].count("\n") + 1
    import yaml  # here: a build with no file to read does not pay its 15 ms

    try:
        meta = yaml.load(head, Loader=loader())  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        # Where an unclosed bracket or quote started says more than the end of the text.
        mark = getattr(exc, "context_mark", None) or getattr(exc, "problem_mark", None)
        what = getattr(exc, "problem", None) or "invalid YAML"
        raise ContentError(
            Problem(
                path,
                f"front matter is not valid YAML: {what}",
                "check quoting and indentation (quote titles that contain ': ')",
                mark.line + 2 if mark else 2,
            )
        ) from None
    except (ValueError, OverflowError) as exc:  # a YAML timestamp datetime cannot hold
        raise ContentError(
            Problem(
                path,
                f"front matter has a date that does not exist: {exc}",
                "check the dates, e.g. date: 2024-05-01 or 2024-05-01T10:00:00+02:00",
                2,
            )
        ) from None
    if ("&" in head or "*" in head) and (line := _alias_line(head)):
        raise ContentError(
            Problem(
                path,
                "front matter uses a YAML anchor or alias (&name, *name)",
                "write each value out in full: digest refuses aliases, which can expand a few"
                " bytes into gigabytes",
                line,
            )
        )
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise ContentError(
            Problem(path, "front matter must be key: value lines", "write e.g. title: My title", 2)
        )
    return meta, body, body_line


def _alias_line(head: str) -> int | None:
    """The file's line of the first anchor or alias in the front matter, else None.

    Read from the parser's events, so a ``&`` or ``*`` inside a quoted title is no alias.
    The check comes after loading, which is safe: loading keeps one object per anchor;
    it is the walk over the result (checks, copies, a cache) that an alias bomb explodes.
    """
    import yaml

    for event in yaml.parse(head, Loader=loader()):
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            mark = event.start_mark
            return int(mark.line) + 2 if mark else 2
    return None


def body(text: str, path: Path) -> str:
    """The body of a file's text, its front matter left unread (`split` reads it)."""
    return _halves(text.removeprefix("\ufeff"), path)[1]


_CLOSING = re.compile(r"^---[ \t]*\r?$", re.MULTILINE)


def _halves(text: str, path: Path) -> tuple[str | None, str]:
    """The front matter's text (None when there is none) and the body."""
    if not text.startswith("---") or text[3:4] not in ("\n", "\r"):
        return None, text
    match = _CLOSING.search(text, 4)
    if not match:
        raise ContentError(
            Problem(path, "front matter is not closed", "add a line with only --- after it", 1)
        )
    return text[4 : match.start()], text[match.end() :].lstrip("\r\n")


def is_untouched(text: str) -> bool:
    """True when digest wrote this text and nobody has edited it since."""
    head = text.find("\n---", 3)  # the line is in the front matter: no need to scan the body
    match = _CHECKSUM.search(text, 0, head + 1 if head >= 0 else len(text))
    if not match:
        return False
    rest = text[: match.start()] + text[match.end() :]
    return _checksum(rest) == match.group(1)


def _checksum(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def dump(article: Article) -> str:
    """Serialize an imported article; the text carries its own checksum."""
    meta: dict[str, Any] = {"id": article.id, "title": article.title, "date": article.published}
    if article.updated:
        meta["updated"] = article.updated
    for key in ("source", "feed", "also", "url", "authors", "summary", "topics"):
        value = getattr(article, key)
        if value:
            meta[key] = list(value) if isinstance(value, tuple) else value
    meta.update({k: v for k, v in article.extra.items() if k not in meta})
    if article.image:
        fields = ("url", "alt", "caption", "credit")
        meta["image"] = {k: v for k in fields if (v := getattr(article.image, k))}
    if article.origin:
        origin = {k: getattr(article.origin, k) for k in ("path", "guid", "sha256")}
        meta["origin"] = {k: v for k, v in origin.items() if v}
    import yaml

    head = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, width=100)
    if meta.get("origin") == {}:  # a block for the checksum line to extend, not "{}"
        head = head.removesuffix("origin: {}\n") + "origin:\n"
    body = f"---\n\n{article.body.strip()}\n"
    plain = f"---\n{head}{body}"
    if not article.origin:
        return plain
    # origin is the last mapping, so the checksum line extends it.
    return f"---\n{head}  checksum: {_checksum(plain)}\n{body}"


def parse(
    text: str,
    path: Path,
    rel: str,
    timezone: ZoneInfo,
    defaults: Mapping[str, object] | None = None,
) -> Article:
    """Read an article file; ``rel`` is its path inside the articles folder.

    ``defaults`` fill fields the front matter lacks (an inbox note may have no
    title or date). Raises `ContentError` naming the file and line of the first
    bad field.
    """
    meta, body, _ = split(text, path)
    meta = {**(defaults or {}), **meta}

    def bad(key: str, what: str, hint: str) -> ContentError:
        lines = {m.group(1): n for n, m in _key_matches(text)}  # only on the error path
        return ContentError(Problem(path, what, hint, lines.get(key, 1)))

    title = meta.get("title")
    if not isinstance(title, str) or not title.strip():
        raise bad("title", "missing or empty title", "add a line such as: title: My article")
    if "date" not in meta:
        raise bad("title", "missing date", "add a line such as: date: 2024-05-01")
    published = _datetime(meta["date"], timezone)
    if published is None:
        raise bad(
            "date", f"cannot read date {meta['date']!r}", "write it as 2024-05-01 or ISO 8601"
        )
    updated = None
    if meta.get("updated") is not None:
        updated = _datetime(meta["updated"], timezone)
        if updated is None:
            raise bad("updated", "cannot read updated date", "write it as 2024-05-01 or ISO 8601")
    for key, moment in (("date", published), ("updated", updated)):
        if moment is not None and not renderable(moment):
            when = moment.date().isoformat()
            hint = "give a year from 2 to 9998, and an offset within ±24 hours"
            raise bad(key, f"{key} {when} is out of range", hint)
    strings = {}
    for key in ("id", "source", "feed", "url", "summary"):
        value = meta.get(key, "")
        if not isinstance(value, str | int | float):
            raise bad(key, f"'{key}' must be text", f"write it as {key}: some text")
        strings[key] = plain(str(value))
    authors = _strings(meta.get("authors", meta.get("author")))
    also = _strings(meta.get("also")) or ()
    topics = _strings(meta["topics"]) if "topics" in meta else None
    if authors is None or (topics is None and "topics" in meta):
        key = "topics" if "topics" in meta and topics is None else "authors"
        raise bad(key, f"'{key}' must be a list of names", f"write it as {key}: [A, B]")
    image = meta.get("image")
    origin = meta.get("origin")
    article_id = strings["id"] or mint_id(
        f"url:{strings['url']}" if strings["url"] else f"path:{rel}"
    )
    return Article(
        id=article_id,
        # Metadata is plain text wherever it came from: feed readers render titles as HTML.
        title=plain(title),
        published=published,
        updated=updated,
        body=body,
        source=strings["source"],
        feed=strings["feed"],
        also=also,
        url=strings["url"],
        authors=authors,
        summary=strings["summary"],
        topics=topics,
        image=Image(
            plain(str(image.get("caption", ""))),
            plain(str(image.get("credit", ""))),
            http_url(str(image.get("url") or "")),
            plain(str(image.get("alt") or "")),
        )
        if isinstance(image, dict)
        else None,
        origin=Origin(
            str(origin.get("path") or ""),
            str(origin.get("sha256") or ""),
            str(origin.get("guid") or ""),
        )
        if isinstance(origin, dict)
        else None,
        path=rel,
        extra=_extra(meta),
    )


def _key_matches(text: str) -> list[tuple[int, re.Match[str]]]:
    found = []
    for number, line in enumerate(text.splitlines()[1:], start=2):
        if line.startswith("---"):
            break
        if match := re.match(r"([A-Za-z_][\w-]*)\s*:", line):
            found.append((number, match))
    return found


def _extra(meta: Mapping[str, Any]) -> Mapping[str, object]:
    return {k: v for k, v in meta.items() if k not in _KNOWN}


def _strings(value: object) -> tuple[str, ...] | None:
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(p for v in value.split(",") if (p := plain(v)))
    if isinstance(value, list) and all(isinstance(v, str | int) for v in value):
        return tuple(p for v in value if (p := plain(str(v))))
    return None


def _datetime(value: object, timezone: ZoneInfo) -> datetime | None:
    """Front matter dates: YAML timestamps, dates or strings; naive ones are in the site's zone."""
    if isinstance(value, datetime):
        result = value
    elif isinstance(value, date):
        result = datetime.combine(value, time())
    elif isinstance(value, str) and len(value) <= DATE_LIMIT:
        from dateutil import parser  # rare: YAML reads most dates itself

        try:
            result = parser.parse(value)
        except (ValueError, OverflowError):
            return None
    else:
        return None
    return result if result.tzinfo else result.replace(tzinfo=timezone)

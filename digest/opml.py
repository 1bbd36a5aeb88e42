"""OPML, the subscription list every feed reader imports and exports."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from xml.etree import ElementTree
from xml.sax.saxutils import quoteattr

from digest.config import Feed
from digest.errors import DigestError, Problem


def read(data: bytes, path: Path) -> list[tuple[str, str]]:
    """The (name, URL) of every feed outline, nested folders included, in document order."""
    try:
        # Python's expat (2.4.1+) refuses entity-expansion bombs; OPML needs no DTD.
        root = ElementTree.fromstring(data)  # noqa: S314
    except ElementTree.ParseError as exc:
        line = exc.position[0] if exc.position else None
        raise DigestError(
            Problem(path, f"not valid OPML: {exc}", "export it again", line)
        ) from None
    found: list[tuple[str, str]] = []
    for outline in root.iter("outline"):
        url = (outline.get("xmlUrl") or "").strip()
        if url.startswith(("http://", "https://")):
            name = (outline.get("title") or outline.get("text") or url).strip()
            found.append((name, url))
    return found


def write(title: str, feeds: Iterable[Feed]) -> str:
    """An OPML 2.0 document listing the feeds."""
    lines = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<opml version="2.0">',
        f"  <head><title>{_text(title)}</title></head>",
        "  <body>",
    ]
    lines += [
        f'    <outline type="rss" text={quoteattr(f.name)} title={quoteattr(f.name)}'
        f" xmlUrl={quoteattr(f.url)}/>"
        for f in feeds
    ]
    lines += ["  </body>", "</opml>", ""]
    return "\n".join(lines)


def _text(value: str) -> str:
    return quoteattr(value)[1:-1]

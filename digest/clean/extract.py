"""What cleaning finds in one page, whatever the input."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from digest.model import Image


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
    unsure: bool = False
    """No block was clearly the article: the page's text is kept whole for the user to check."""

"""The records that flow through the pipeline. No I/O here.

One `Article` travels from a source through cleaning, the archive and grouping
to rendering; stages return new records with `dataclasses.replace`.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

# Fixed namespace so the same key always mints the same id, on every machine.
_ID_NAMESPACE = uuid.UUID("6f1d3c52-5b7e-4c8e-9a57-1f2a3b4c5d6e")


def mint_id(key: str) -> str:
    """Mint an article id from a stable key (``url:…``, ``path:…``, ``sha256:…``).

    Called once, at first ingest; the id is then stored in front matter and
    never derived again, so feed readers never see an old item as new.
    """
    return str(uuid.uuid5(_ID_NAMESPACE, key))


@dataclass(frozen=True, slots=True)
class Image:
    """The lead photo's caption and credit, as found on the page."""

    caption: str = ""
    credit: str = ""


@dataclass(frozen=True, slots=True)
class Origin:
    """Where an imported article came from, so a changed input updates it in place."""

    path: str
    """The inbox file, relative to the project folder (POSIX); empty for a feed item."""
    sha256: str
    """Hash of the inbox file's bytes, or of a feed item's content, when last imported."""
    guid: str = ""
    """A feed item's guid or id, as the feed gave it."""


@dataclass(frozen=True, slots=True)
class Article:
    """One article, whatever its source."""

    id: str
    """Minted once at first ingest; the guid of every feed item."""
    title: str
    published: datetime
    """Timezone-aware publication time."""
    body: str
    """Cleaned Markdown, without the title."""
    source: str = ""
    """The outlet's name (``UPI``, ``Reuters``), or the feed's name."""
    feed: str = ""
    """The URL of the feed the article came from."""
    also: tuple[str, ...] = ()
    """Other sources that carried the same article (same canonical URL)."""
    url: str = ""
    """The original article's address, when known."""
    authors: tuple[str, ...] = ()
    summary: str = ""
    topics: tuple[str, ...] | None = None
    """Topic titles. None until decided: front matter that names topics wins over rules."""
    updated: datetime | None = None
    image: Image | None = None
    origin: Origin | None = None
    path: str = ""
    """Place in the articles folder (POSIX, ``2022/09/slug.md``); empty until stored."""
    extra: Mapping[str, object] = field(default_factory=dict)
    """Front matter keys digest does not know, kept for templates."""

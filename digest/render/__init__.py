"""Articles and topics → every page and feed of the site.

`plan` decides which files the site has and a key for what each depends on;
`pages` and `feeds` render them from templates; `markdown` turns a body into
safe HTML. Nothing from an input reaches a page or a feed as markup.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import jinja2
    from markupsafe import Markup

    from digest.model import Article
    from digest.render.plan import Keys, Plan


def hash_of(*parts: object) -> str:
    """A short hash of the parts; text is hashed as it is (repr of a long body is slow)."""
    text = "".join(f"{p}\x1f" if isinstance(p, str) else f"{p!r}\x1f" for p in parts)
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


_PAGE_KEYS_KEPT = 200_000
"""Files' keys remembered between rebuilds, the least recently used forgotten first."""


def _page_keys() -> Callable[[str, str, object], str]:
    return functools.lru_cache(maxsize=_PAGE_KEYS_KEPT)(hash_of)


@dataclass
class Rendered:
    """What the last plan and render derived, reused while its inputs are the same."""

    paths: tuple[tuple[tuple[str, str], ...], dict[str, str]] | None = None
    """Each article's page folder, with the (id, file) pairs it was made from."""
    keys: dict[int, tuple[Article, str, Keys]] = field(default_factory=dict)
    """Articles' keys by record identity: unchanged records need not hash their body again."""
    html: dict[tuple[str, str], Markup] = field(default_factory=dict)
    """Bodies' HTML by body key and base URL: feed items recur across scopes and rebuilds."""
    environment: tuple[str, jinja2.Environment] | None = None
    """The Jinja environment with its compiled templates, by theme key."""
    page_key: Callable[[str, str, object], str] = field(default_factory=_page_keys)
    """A file's key from its inputs (common key, path, what it shows), remembered: most
    files' inputs do not change between rebuilds."""
    plan: tuple[object, Plan] | None = None
    """The last plan with the structure it was made for (the listings' ids and order)."""

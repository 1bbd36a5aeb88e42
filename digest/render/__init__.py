"""Articles and topics → every page and feed of the site.

`plan` decides which files the site has and a key for what each depends on;
`pages` and `feeds` render them from templates; `markdown` turns a body into
safe HTML. Nothing from an input reaches a page or a feed as markup.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import jinja2
    from markupsafe import Markup

    from digest.model import Article
    from digest.render.plan import Keys, Plan


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
    page_keys: dict[tuple[str, str, object], str] = field(default_factory=dict)
    """Files' keys by their inputs: most files' inputs do not change between rebuilds."""
    plan: tuple[object, Plan] | None = None
    """The last plan with the structure it was made for (the listings' ids and order)."""

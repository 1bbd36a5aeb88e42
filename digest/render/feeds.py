"""The site's feeds: RSS 2.0, Atom 1.0 and JSON Feed 1.1 for each scope, checked before written.

Item ids are the ids minted at import, so a changed title, URL layout or base
URL never shows an old item as new. A feed a reader would choke on (an empty
title, a date without a zone, XML that does not parse) fails the build, naming
the article or the template to fix.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urljoin
from xml.parsers import expat

import jinja2
from markupsafe import Markup, escape

from digest import __version__
from digest.config import Config
from digest.errors import ContentError, Problem, ThemeError
from digest.model import Article, http_url, mint_id
from digest.render import templates

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
"""A feed's updated time when it has no items (Atom requires one)."""
FEED_TYPES = {
    "feed.xml": "application/rss+xml",
    "atom.xml": "application/atom+xml",
    "feed.json": "application/feed+json",
}


def atom_id(article_id: str) -> str:
    """A stable IRI for Atom from an article id: minted ids are UUIDs already."""
    import uuid  # here, as in digest.model

    try:
        return uuid.UUID(article_id).urn
    except ValueError:
        return uuid.uuid5(uuid.NAMESPACE_URL, f"digest:{article_id}").urn


def alternates(title: str, folder: str) -> list[dict[str, str]]:
    """The autodiscovery links of one feed scope, for a page's head."""
    names = {"feed.xml": "RSS", "atom.xml": "Atom", "feed.json": "JSON Feed"}
    return [
        {"title": f"{title} ({names[name]})", "path": folder + name, "type": kind}
        for name, kind in FEED_TYPES.items()
    ]


def _json_feed(config: Config, folder: str, context: dict[str, Any]) -> bytes:
    """JSON Feed 1.1 (https://www.jsonfeed.org/version/1.1/), every required field and more."""
    absolute: Callable[[Article], str] = context["absolute"]
    items = []
    for article in context["items"]:
        item: dict[str, object] = {
            "id": article.id,
            "url": absolute(article),
            "title": article.title,
        }
        if context["full"]:
            item["content_html"] = str(context["body"](article))
        else:
            item["content_text"] = article.summary or article.title
        if article.summary:
            item["summary"] = article.summary
        item["date_published"] = article.published.isoformat()
        if article.updated:
            item["date_modified"] = article.updated.isoformat()
        if article.authors:
            item["authors"] = [{"name": name} for name in article.authors]
        if article.topics:
            item["tags"] = list(article.topics)
        if external := http_url(article.url or ""):
            item["external_url"] = external
        if article.image and (picture := http_url(article.image.url)):
            item["image"] = picture
        items.append(item)
    feed = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": context["title"],
        "home_page_url": context["link"],
        "feed_url": urljoin(config.base_url, quote(folder + "feed.json")),
        "description": config.description,
        "language": config.language,
        "authors": [{"name": config.title}],
        "items": items,
    }
    return (json.dumps(feed, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def gate(config: Config, items: Sequence[Article]) -> None:
    """Refuse to publish a feed a reader would choke on; name the article to fix.

    An empty title, or a date without a zone. (Bodies link only to http(s) and mailto:
    see `markdown_to_html`.)
    """
    problems: list[Problem] = []
    where = config.articles.relative_to(config.root)
    for article in items:
        file = where / article.path if article.path else Path(article.id)
        if not article.title.strip():
            problems.append(Problem(file, "empty title", "give the article a title"))
        for value in (article.published, article.updated):
            if value is not None and value.tzinfo is None:
                problems.append(Problem(file, "date without a timezone", "add one, e.g. +00:00"))
    if problems:
        raise ContentError(*problems)


def _well_formed(xml: str, path: str, template: str) -> None:
    """A feed must parse as XML; a template override that breaks it fails the build.

    expat alone, as ElementTree uses it but without building a tree: a third of the time.
    """
    try:
        expat.ParserCreate().Parse(xml.encode("utf-8"), True)
    except expat.ExpatError as exc:
        raise ThemeError(
            Problem(
                f"templates/{template}",
                f"it made {path}, which is not well-formed XML ({exc})",
                "fix the feed template",
            )
        ) from None


def context(
    config: Config,
    folder: str,
    title: str,
    link: str,
    items: Sequence[Article],
    paths: dict[str, str] | Any,
    body: Callable[[Article], Markup],
) -> dict[str, Any]:
    """What the three formats of one scope's feed show, once checked (see `gate`)."""
    gate(config, items)
    return {
        "site": config,
        "title": title,
        "link": urljoin(config.base_url, quote(link)),
        "items": items,
        "absolute": lambda a: urljoin(config.base_url, paths[a.id]),
        "atom_id": atom_id,
        "feed_id": atom_id(mint_id(f"feed:{folder}")),
        "updated": max((a.updated or a.published for a in items), default=EPOCH),
        "full": config.feed_content == "full",
        "body": body,
        "version": __version__,
        "text": _as_html_text,
    }


def _as_html_text(value: str) -> Markup:
    """Text for an RSS element a reader takes as HTML: escaped for HTML, then for XML."""
    return escape(str(escape(value)))


def render(
    env: jinja2.Environment, config: Config, name: str, folder: str, scope: dict[str, Any]
) -> bytes:
    """One format (``feed.xml``, ``atom.xml`` or ``feed.json``) of a scope's feed."""
    if name == "feed.json":
        return _json_feed(config, folder, scope)
    try:
        xml = env.get_template(name).render(
            self_url=urljoin(config.base_url, quote(folder + name)), **scope
        )
    except jinja2.TemplateError as exc:
        raise templates.error(exc, name) from None
    _well_formed(xml, folder + name, name)
    return xml.encode("utf-8")

"""Articles and topics → every page and feed of the site, as bytes in memory.

Templates come from the project's ``templates/`` first, then the default theme,
so a user overrides one by placing a file with the same name. Autoescape is on
and undefined variables are errors; article bodies are rendered by markdown-it
with raw HTML off, so nothing from an input reaches a page as markup.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.utils import format_datetime
from itertools import groupby
from pathlib import Path
from typing import Any
from urllib.parse import quote, urljoin

import jinja2
from markdown_it import MarkdownIt
from markupsafe import Markup
from slugify import slugify

from digest import __version__
from digest.cache import FeedState
from digest.clean import http_url
from digest.config import Config, Feed
from digest.errors import Problem, ThemeError
from digest.group import Topic
from digest.model import Article

HOME_ITEMS = 5
"""Articles per topic on the home page."""

# An installed wheel carries the theme inside the package; a checkout has it at the top.
_PACKAGED = Path(__file__).with_name("templates")
DEFAULT_THEME = _PACKAGED if _PACKAGED.is_dir() else Path(__file__).parent.parent / "templates"

_RESERVED = {"topics", "archive", "sources", "static", "feed.xml", "index.html", "404.html"}
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_MD = MarkdownIt("js-default")


def markdown_to_html(markdown: str, base: str) -> Markup:
    """Render an article body; links and images become absolute against ``base``.

    Absolute links work the same on the page and in a feed reader; the body's
    own ``#`` headings become ``h2`` since the page's title is the ``h1``.
    """
    tokens = _MD.parse(markdown)
    for token in tokens:
        if token.tag == "h1":
            token.tag = "h2"
        for item in (token, *(token.children or ())):
            for attr in ("href", "src"):
                value = item.attrGet(attr)
                if value is not None:
                    item.attrSet(attr, urljoin(base, str(value)))
    return Markup(_MD.renderer.render(tokens, _MD.options, {}))  # noqa: S704 - escaped by markdown-it


@dataclass(frozen=True, slots=True)
class Pager:
    """One page of a paginated listing."""

    number: int
    count: int
    items: tuple[Article, ...]
    newer: str | None
    """Path of the previous (newer) page, site-relative, or None."""
    older: str | None


@dataclass(frozen=True, slots=True)
class Neighbours:
    """Previous and next article in one listing (a topic, or all articles)."""

    label: str
    listing: str
    """Path of the listing's page."""
    newer: Article | None
    older: Article | None


def article_paths(articles: list[Article]) -> dict[str, str]:
    """Each article's page folder (``2022/09/slug/``), from its file's place in the archive.

    Every segment is slugified, so no title or file name can leave ``site/``;
    clashes get the id appended.
    """
    paths: dict[str, str] = {}
    taken: set[str] = set()
    for article in sorted(articles, key=lambda a: (a.path, a.id)):
        stem = article.path.removesuffix(".md") or article.id
        parts = [slugify(part) or "-" for part in stem.split("/")]
        if parts[0] in _RESERVED:
            parts.insert(0, "articles")
        path = "/".join(parts) + "/"
        if path in taken:
            path = f"{path[:-1]}-{article.id[:8]}/"
        taken.add(path)
        paths[article.id] = path
    return paths


def _paginate(items: tuple[Article, ...], per_page: int, base: str) -> Iterator[tuple[str, Pager]]:
    count = max(1, -(-len(items) // per_page))

    def path(number: int) -> str:
        return base if number == 1 else f"{base}page/{number}/"

    for number in range(1, count + 1):
        chunk = items[(number - 1) * per_page : number * per_page]
        yield (
            path(number),
            Pager(
                number,
                count,
                chunk,
                path(number - 1) if number > 1 else None,
                path(number + 1) if number < count else None,
            ),
        )


def environment(config: Config) -> jinja2.Environment:
    """The Jinja environment: project templates over the default theme."""

    def finalize(value: object) -> object:
        # XML 1.0 forbids control characters; stripping them here keeps every feed well-formed.
        if isinstance(value, Markup):
            return Markup(_XML_ILLEGAL.sub("", value))  # noqa: S704 - already markup
        if isinstance(value, str):
            return _XML_ILLEGAL.sub("", value)
        return value

    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(
            [jinja2.FileSystemLoader(config.templates), jinja2.FileSystemLoader(DEFAULT_THEME)]
        ),
        autoescape=jinja2.select_autoescape(["html", "xml"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=finalize,
    )
    env.filters["rfc822"] = format_datetime
    env.filters["isodate"] = lambda d: d.isoformat()
    env.filters["day"] = lambda d: f"{d.day} {d:%B %Y}"
    env.filters["http_url"] = http_url
    return env


def render_site(
    config: Config,
    articles: list[Article],
    topics: list[Topic],
    health: list[tuple[Feed, FeedState]] | None = None,
) -> dict[str, bytes]:
    """Every output file, by its path inside the output folder.

    ``articles`` are newest first; topics come from `digest.group.group`;
    ``health`` is each feed's last success and error, for the Sources page.
    """
    env = environment(config)
    paths = article_paths(articles)
    topic_by_title = {t.title: t for t in topics}
    bodies = {
        a.id: markdown_to_html(a.body, a.url or urljoin(config.base_url, quote(paths[a.id])))
        for a in articles
    }
    files: dict[str, bytes] = {}
    site_feed = {"title": config.title, "path": "feed.xml"}

    def url(root: str) -> Callable[[object], str]:
        def url_for(target: object, page: int = 1) -> str:
            if isinstance(target, Article):
                path = paths[target.id]
            elif isinstance(target, Topic):
                path = f"topics/{target.slug}/" + (f"page/{page}/" if page > 1 else "")
            else:
                path = str(target)
            return quote(root + path, safe="/:#?=&%") or "./"

        return url_for

    def page(template: str, path: str, feeds: list[dict[str, str]], **context: Any) -> None:
        # Relative links work on any host and under any base path; the 404 page is
        # served at arbitrary depths, so it links absolutely.
        root = config.base_url if template == "404.html" else "../" * path.count("/")
        try:
            html = env.get_template(template).render(
                site=config,
                root=root or "./",
                url_for=url(root),
                canonical=urljoin(config.base_url, quote(path.removesuffix("index.html"))),
                feeds=[site_feed, *feeds],
                topics=topics,
                topic_by_title=topic_by_title,
                has_sources=bool(health),
                bodies=bodies,
                version=__version__,
                **context,
            )
        except jinja2.TemplateError as exc:
            raise _theme_error(exc, template) from None
        files[path] = html.encode("utf-8")

    def feed(path: str, title: str, link: str, items: tuple[Article, ...] | list[Article]) -> None:
        try:
            xml = env.get_template("feed.xml").render(
                site=config,
                title=title,
                link=urljoin(config.base_url, quote(link)),
                self_url=urljoin(config.base_url, quote(path)),
                items=items[: config.feed_items],
                absolute=lambda a: urljoin(config.base_url, quote(paths[a.id])),
                bodies=bodies,
                version=__version__,
            )
        except jinja2.TemplateError as exc:
            raise _theme_error(exc, "feed.xml") from None
        files[path] = xml.encode("utf-8")

    untopiced = tuple(a for a in articles if not a.topics)
    page(
        "index.html",
        "index.html",
        [],
        sections=[(t, t.articles[:HOME_ITEMS]) for t in topics if t.articles],
        other=untopiced[:HOME_ITEMS],
        latest=articles[: config.per_page],
    )
    page("topics.html", "topics/index.html", [])
    for topic in topics:
        base = f"topics/{topic.slug}/"
        topic_feed = {"title": f"{config.title}: {topic.title}", "path": f"{base}feed.xml"}
        for path, pager in _paginate(topic.articles, config.per_page, base):
            page("topic.html", f"{path}index.html", [topic_feed], topic=topic, pager=pager)
        feed(f"{base}feed.xml", f"{config.title}: {topic.title}", base, topic.articles)

    months = [
        (key, tuple(group))
        for key, group in groupby(
            articles, key=lambda a: a.published.astimezone(config.timezone).strftime("%Y/%m")
        )
    ]
    page("archive.html", "archive/index.html", [], months=months)
    for key, items in months:
        month = items[0].published.astimezone(config.timezone)
        page("month.html", f"archive/{key}/index.html", [], month=month, items=items)

    neighbours = _neighbours(articles, topics)
    for article in articles:
        page(
            "article.html",
            f"{paths[article.id]}index.html",
            [],
            article=article,
            neighbours=neighbours[article.id],
            month=article.published.astimezone(config.timezone).strftime("%Y/%m"),
        )
    if health:
        page("sources.html", "sources/index.html", [], health=health)
    page("404.html", "404.html", [])
    feed("feed.xml", config.title, "", articles)
    files.update(_static(config))
    return files


def _neighbours(articles: list[Article], topics: list[Topic]) -> dict[str, list[Neighbours]]:
    """Newer and older article within each of an article's topics (all articles if none)."""
    result: dict[str, list[Neighbours]] = {a.id: [] for a in articles}
    listings = [(t.title, f"topics/{t.slug}/", t.articles) for t in topics]
    untopiced = tuple(a for a in articles if not a.topics)
    listings.append(("Other articles", "archive/", untopiced))
    for label, listing, items in listings:
        for index, article in enumerate(items):
            result[article.id].append(
                Neighbours(
                    label,
                    listing,
                    items[index - 1] if index > 0 else None,
                    items[index + 1] if index + 1 < len(items) else None,
                )
            )
    return result


def _static(config: Config) -> dict[str, bytes]:
    """The theme's static files, the project's own overriding the default theme's."""
    files: dict[str, bytes] = {}
    for theme in (DEFAULT_THEME, config.templates):
        folder = theme / "static"
        if folder.is_dir():
            for path in sorted(folder.rglob("*")):
                if path.is_file() and not path.name.startswith("."):
                    files[f"static/{path.relative_to(folder).as_posix()}"] = path.read_bytes()
    return files


def _theme_error(exc: jinja2.TemplateError, template: str) -> ThemeError:
    if isinstance(exc, jinja2.TemplateSyntaxError):
        where = exc.filename or exc.name or template
        return ThemeError(
            Problem(where, f"template syntax error: {exc.message}", "fix the template", exc.lineno)
        )
    return ThemeError(
        Problem(
            template,
            f"template failed: {exc.message or exc}",
            "check the variable names against the default theme",
        )
    )

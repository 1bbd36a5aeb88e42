"""The site's files rendered from a plan's specs: HTML pages, feeds and static files.

A spec names its articles by id; `Site` looks the records up when the file is
made, so a plan outlives the records it was made from (digest serve and a
resumed build give it new keys when articles change).
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any, NamedTuple, Protocol
from urllib.parse import quote, urljoin, urlsplit

import jinja2
from markupsafe import Markup

from digest import __version__
from digest.config import Config
from digest.group import Topic
from digest.model import Article, http_url, mint_id
from digest.render import Rendered, feeds, templates
from digest.render.markdown import html_and_text, markdown_to_html, plain_text

_HTML_KEPT = 1024
"""Bodies' HTML kept between rebuilds; beyond, the memo starts again."""


class PageArgs(NamedTuple):
    """What a page spec renders: the template, its path and the template's own data."""

    template: str
    path: str
    feeds: list[dict[str, str]]
    """The page's own feeds, for autodiscovery (the site's are on every page)."""
    data: Any
    """Plain data and article ids (see `Site.context`)."""


class ArticleData(NamedTuple):
    """An article page's data: its id, its neighbours in each listing, its archive month."""

    id: str
    near: tuple[tuple[str, str, str, str], ...]
    """For each listing: its label, its page, the newer and the older article ("" for none)."""
    month: str
    story: tuple[str, str, int] | tuple[()] = ()
    """Its story's id, first report and number of reports, when the story has a page."""
    related: tuple[str, ...] = ()
    """Articles of other stories."""


class EditionData(NamedTuple):
    """An edition's data: what arrived in one day or week, by topic, then the rest.

    Sections hold ids of articles; stories, once grouped, can take their place.
    """

    key: str
    """``2022-09-19``, or ``2022-W38`` for a weekly edition: its permalink's folder."""
    sections: tuple[tuple[str, tuple[str, ...]], ...]
    """Each topic's title with what arrived in it, in the topics' order."""
    other: tuple[str, ...]
    """What has no topic."""
    newer: str
    """The next edition's key ("" for none)."""
    older: str
    size: int
    """Articles in the edition (an article in two topics counts once)."""


class EditionsFeedArgs(NamedTuple):
    """One format of the editions' feed: the newest editions, one item each."""

    name: str
    editions: tuple[EditionData, ...]


class Edition(NamedTuple):
    """An edition as templates see it: records in place of ids."""

    key: str
    label: str
    start: datetime
    """When it opens: midnight of its day (or of its week's Monday) in the site's timezone."""
    sections: list[tuple[Topic, tuple[Article, ...]]]
    other: tuple[Article, ...]
    size: int
    newer: tuple[str, str] | None
    """The next edition's key and label."""
    older: tuple[str, str] | None


def edition_start(key: str, zone: tzinfo) -> datetime:
    """Midnight at the start of the edition ``key``, in ``zone``."""
    if "-W" in key:
        year, week = key.split("-W")
        day = date.fromisocalendar(int(year), int(week), 1)
    else:
        day = date.fromisoformat(key)
    return datetime.combine(day, time(), zone)


def edition_label(key: str) -> str:
    """``Monday 19 September 2022``, or ``Week 38 of 2022, 19–25 September``."""
    start = edition_start(key, UTC)
    if "-W" in key:
        end = start + timedelta(days=6)
        first = f"{start.day}" if start.month == end.month else f"{start.day} {start:%B}"
        return f"Week {key[6:]} of {key[:4]}, {first}–{end.day} {end:%B}"
    return f"{start:%A} {start.day} {start:%B %Y}"


def _edition_summary(edition: Edition) -> str:
    """``5 articles: Russia–China relations (3); War in Ukraine (2)``."""
    parts = [f"{t.title} ({len(g)})" for t, g in edition.sections]
    if edition.other:
        parts.append(f"other articles ({len(edition.other)})")
    plural = "" if edition.size == 1 else "s"
    return f"{edition.size} article{plural}: " + "; ".join(parts)


class SearchArgs(NamedTuple):
    """A file of the search index: an article's card (``card``, its id) or a term shard
    kept from the last build (``shard``, ``tier/number``)."""

    kind: str
    target: str


class FeedArgs(NamedTuple):
    """What a feed spec renders: one format of one scope's feed."""

    name: str
    """``feed.xml``, ``atom.xml`` or ``feed.json``."""
    folder: str
    title: str
    link: str
    items: tuple[str, ...]
    headline: str = ""
    """A story's feed: the report whose title follows the site's in the feed's title, read
    when the feed is rendered (a resumed build renders from an older plan)."""


@dataclass(frozen=True, slots=True)
class Pager:
    """One page of a paginated listing (`digest.render.plan._paginate`)."""

    number: int
    """The page's number, counted from the oldest page; 0 for the listing's index."""
    count: int
    """The listing's pages, the index included, shown on the index; 0 on a numbered page,
    whose bytes must not change as the listing grows."""
    items: Sequence[Article]
    newer: str | None
    """Path of the previous (newer) page, site-relative, or None."""
    older: str | None


class Neighbours(NamedTuple):
    """Previous and next article in one listing (a topic, or all articles)."""

    label: str
    listing: str
    """Path of the listing's page."""
    newer: Article | None
    older: Article | None


class Bodies(Protocol):
    """Where pages get articles' bodies (digest.archive.Bodies): read when rendered."""

    def text(self, article: Article) -> str: ...

    def key(self, article: Article) -> str:
        """A hash of the body."""
        ...


class Site:
    """What rendering needs beyond a plan: the records the ids stand for, the templates.

    ``articles`` maps ids to records: a dict in a full build, records loaded on
    demand in a resumed one.
    """

    def __init__(
        self,
        config: Config,
        paths: Mapping[str, str],
        articles: Mapping[str, Article],
        topics: Sequence[Topic],
        bodies: Bodies,
        has_sources: bool,
        theme: str,
        memory: Rendered,
    ) -> None:
        self.config, self.paths, self.by_id, self.topics = config, paths, articles, topics
        self.env = templates.environment(config, theme, memory)
        self.bodies, self.has_sources, self.memory = bodies, has_sources, memory
        self.topic_by_title = {t.title: t for t in topics}
        self.site_feeds = feeds.alternates(config.title, "")
        self.scopes: dict[str, dict[str, Any]] = {}

    def body(self, article: Article) -> Markup:
        """An article's body as HTML, its links absolute."""
        article = self.by_id[article.id]
        memo = self._html_memo(article)
        html = self.memory.html.get(memo)
        if html is None:
            html = self._keep_html(memo, markdown_to_html(self.bodies.text(article), memo[1]))
        return html

    def _html_memo(self, article: Article) -> tuple[str, str]:
        """Where `Rendered.html` keeps a body's HTML: its key, and the base of its links."""
        base = http_url(article.url) or urljoin(self.config.base_url, self.paths[article.id])
        return self.bodies.key(article), base

    def _keep_html(self, memo: tuple[str, str], html: Markup) -> Markup:
        kept = self.memory.html
        if len(kept) >= _HTML_KEPT:
            kept.clear()
        kept[memo] = html
        return html

    def url(self, root: str) -> Callable[..., str]:
        paths = self.paths

        def url_for(target: object) -> str:
            if isinstance(target, Article):
                path = paths[target.id]
            elif isinstance(target, Topic):
                path = f"topics/{target.slug}/"
            else:
                path = quote(str(target), safe="/:#?=&%")
            return root + path or "./"

        return url_for

    def context(self, template: str, data: Any) -> dict[str, Any]:
        """A page's own template variables, from the plan's ids and the current records."""

        def records(ids: Sequence[str]) -> tuple[Article, ...]:
            return tuple(self.by_id[i] for i in ids)

        def record(i: str) -> Article | None:
            return self.by_id[i] if i else None

        match template, data:
            case "article.html", ArticleData(own, near, month, story, related):
                neighbours = [Neighbours(a, b, record(c), record(d)) for a, b, c, d in near]
                return {
                    "article": self.by_id[own],
                    "neighbours": neighbours,
                    "month": month,
                    "story": story and (f"stories/{story[0]}/", self.by_id[story[1]], story[2]),
                    "related": records(related),
                }
            case "topic.html", (title, number, count, items, newer, older, *groups):
                pager = Pager(number, count, records(items), newer, older)
                stories = [(s, records(ids)) for s, ids in (groups[0] if groups else ())]
                return {"topic": self.topic_by_title[title], "pager": pager, "stories": stories}
            case "story.html", (story, copies):
                return _story(story, copies, self.by_id, self.config)
            case "month.html", (_, items):
                first = self.by_id[items[0]].published.astimezone(self.config.timezone)
                return {"month": first, "items": records(items)}
            case "archive.html", months:
                return {"months": [(key, records(items)) for key, items in months]}
            case "index.html", (sections, other, latest, *leading):
                return {
                    "sections": [(self.topic_by_title[t], records(s)) for t, s in sections],
                    "other": records(other),
                    "latest": records(latest),
                    "leading": [
                        (f"stories/{s}/", records(m), n)
                        for s, m, n in (leading[0] if leading else ())
                    ],
                }
            case "sources.html", (health, sources):
                return {"health": health, "sources": sources}
            case "source.html", (name, slug, total, number, count, items, newer, older):
                pager = Pager(number, count, records(items), newer, older)
                return {"source": name, "slug": slug, "total": total, "pager": pager}
            case "search.html", (sources, shards, recent, count):
                return {"sources": sources, "shards": shards, "recent": recent, "count": count}
            case "edition.html", EditionData() as edition:
                return {"edition": self.edition(edition)}
            case "editions.html", counts:
                by_month: dict[str, list[tuple[str, str, int]]] = {}
                for key, size in counts:
                    start = edition_start(key, UTC)
                    by_month.setdefault(f"{start:%B %Y}", []).append(
                        (key, edition_label(key), size)
                    )
                return {"months": list(by_month.items())}
        return {}

    def edition(self, data: EditionData) -> Edition:
        """The records of an edition, with its neighbours' labels."""
        records = tuple[Article, ...]
        return Edition(
            data.key,
            edition_label(data.key),
            edition_start(data.key, self.config.timezone),
            [(self.topic_by_title[t], records(self.by_id[i] for i in s)) for t, s in data.sections],
            records(self.by_id[i] for i in data.other),
            data.size,
            (data.newer, edition_label(data.newer)) if data.newer else None,
            (data.older, edition_label(data.older)) if data.older else None,
        )

    def page(self, args: PageArgs) -> bytes:
        config, template, path = self.config, args.template, args.path
        # Relative links work on any host and under any base path; the 404 page is
        # served at arbitrary depths, so it links from the site's root path, on its own host.
        root = urlsplit(config.base_url).path if template == "404.html" else "../" * path.count("/")
        try:
            text = self.env.get_template(template).render(
                site=config,
                root=root or "./",
                url_for=self.url(root),
                canonical=urljoin(config.base_url, quote(path.removesuffix("index.html"))),
                feeds=[*self.site_feeds, *args.feeds],
                topics=self.topics,
                topic_by_title=self.topic_by_title,
                has_sources=self.has_sources,
                body=self.body,
                version=__version__,
                **self.context(template, args.data),
            )
        except jinja2.TemplateError as exc:
            raise templates.error(exc, template) from None
        return text.encode("utf-8")

    def feed(self, args: FeedArgs) -> bytes:
        """One format of one feed scope, checked before it is written."""
        scope = self.scopes.get(args.folder)
        if scope is None:  # once for the three formats: the gate reads every item
            items = [self.by_id[i] for i in args.items]
            scope = self.scopes[args.folder] = feeds.context(
                self.config, args.folder, args.title, args.link, items, self.paths, self.body
            )
        return feeds.render(self.env, self.config, args.name, args.folder, scope)

    def summaries(self, args: FeedArgs) -> bytes:
        """A feed whose items carry their summary, whatever ``feed_content`` says."""
        items = [self.by_id[i] for i in args.items]
        config = replace(self.config, feed_content="summary")
        title = args.title
        if args.headline:
            title = f"{self.config.title}: {self.by_id[args.headline].title}"
        scope = feeds.context(config, args.folder, title, args.link, items, self.paths, self.body)
        return feeds.render(self.env, config, args.name, args.folder, scope)

    def redirect(self, args: PageArgs) -> bytes:
        """A page that sends the reader on to where its content went (a merged story):
        a meta refresh, and a link for whoever does not follow it."""
        target = html.escape("../" * args.path.count("/") + args.data)
        canonical = html.escape(urljoin(self.config.base_url, quote(args.data)))
        language = html.escape(self.config.language)
        return (
            f'<!DOCTYPE html>\n<html lang="{language}">\n<head>\n<meta charset="utf-8">\n'
            f"<title>Moved</title>\n"
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f'<meta http-equiv="refresh" content="0; url={target}">\n'
            f'<link rel="canonical" href="{canonical}">\n'
            f'<meta name="robots" content="noindex">\n</head>\n<body>\n<main>\n'
            f'<p>This story is now part of <a href="{target}">another story</a>.</p>\n'
            f"</main>\n</body>\n</html>\n"
        ).encode()

    def editions_feed(self, args: EditionsFeedArgs) -> bytes:
        """One format of the editions' feed: an item per edition, the whole edition its content.

        An item's id is minted from the edition's key and its date is when the edition
        opens, so neither ever changes; its update time is its latest article's, so an
        open edition that grows is updated in place, never shown as new again.
        """
        scope = self.scopes.get("editions/")
        if scope is None:
            items, paths, content = [], {}, {}
            macros = self.env.get_template("_macros.html").module
            absolute = self.url(self.config.base_url)
            for data in args.editions:
                edition = self.edition(data)
                shown = [a for _, group in edition.sections for a in group] + list(edition.other)
                start = edition.start
                latest = max((a.updated or a.published for a in shown), default=start)
                item = Article(
                    id=mint_id(f"edition:{data.key}"),
                    title=f"{self.config.title}: {edition.label}",
                    published=start,
                    updated=latest if latest > start else None,
                    body="",
                    summary=_edition_summary(edition),
                    topics=tuple(t.title for t, _ in edition.sections),
                )
                items.append(item)
                paths[item.id] = f"editions/{data.key}/"
                # Jinja's macros escape what they show: their output is markup.
                body = macros.edition_body(edition, absolute, self.config.language)  # type: ignore[attr-defined]
                content[item.id] = Markup(body)  # noqa: S704
            scope = self.scopes["editions/"] = feeds.context(
                self.config,
                "editions/",
                f"{self.config.title}: editions",
                "editions/",
                items,
                paths,
                lambda a: content[a.id],
            )
        return feeds.render(self.env, self.config, args.name, "editions/", scope)

    def search(self, args: SearchArgs) -> bytes:
        """A file of the search index (digest.render.search)."""
        from digest.render import search

        if args.kind == "shard":
            return search.shard_bytes(self.config, args.target)
        article = self.by_id[args.target]
        day = article.published.astimezone(self.config.timezone).date().isoformat()
        body, memo = self.bodies.text(article), self._html_memo(article)
        if memo in self.memory.html:
            text = plain_text(body)
        else:  # the plan puts a card just before its article's page, which takes the HTML
            html, text = html_and_text(body, memo[1])
            self._keep_html(memo, html)
        return search.card(article, text, self.paths[article.id], day)

    def data(self, content: bytes) -> bytes:
        """A static file, as it is."""
        return content


def _story(
    story: str, copies: tuple[tuple[str, str], ...], by_id: Mapping[str, Article], config: Config
) -> dict[str, Any]:
    """A story page's variables: its reports oldest first, each with the copies of it
    ("also published by"), who reported first, and the reports by day."""
    members = [by_id[i] for i, _ in copies]
    copied: dict[str, list[Article]] = {}
    for i, original in copies:
        if original:
            copied.setdefault(original, []).append(by_id[i])
    reports = [(a, copied.get(a.id, [])) for a in members if not dict(copies)[a.id]]
    days: dict[str, list[Article]] = {}
    for a in members:
        days.setdefault(a.published.astimezone(config.timezone).date().isoformat(), []).append(a)
    topics = sorted({t for a in members for t in a.topics or ()})
    return {
        "story_id": story,
        "headline": members[0],
        "reports": reports,
        "first": members[0],
        "days": sorted(days.items()),
        "story_topics": topics,
        "outlets": sorted({a.source for a in members if a.source}),
    }

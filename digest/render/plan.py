"""The plan: every file of the site, with a key for everything it depends on.

Two builds that give a file the same key give it the same bytes, so a file
whose key is unchanged is not rendered again. Keys follow what the default
theme shows: an article's page depends on the article, its neighbours and the
list of topics, not on every other article. Specs hold plain data and article
ids, never records, so a plan can be kept, saved and given new keys when
articles change.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from itertools import groupby
from typing import TYPE_CHECKING, NamedTuple
from urllib.parse import quote, urljoin

from digest.config import Config, Feed
from digest.group import Topic
from digest.model import Article
from digest.render import Rendered, feeds, hash_of, templates
from digest.render.pages import (
    ArticleData,
    Bodies,
    EditionData,
    EditionsFeedArgs,
    FeedArgs,
    PageArgs,
    Pager,
    SearchArgs,
    Site,
)

if TYPE_CHECKING:
    from datetime import datetime

    from digest.feedstate import FeedState
    from digest.stories.stage import Stories

HOME_ITEMS = 5
"""Articles per topic on the home page."""
HOME_STORIES = 5
"""Stories the home page leads with."""
STORY_DAYS = 7
"""The home page's stories have a report within this many days of the latest article."""

_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_RESERVED = {
    "topics", "archive", "sources", "static", "stories", "editions", "search", "feed.xml",
    "index.html", "404.html", "sitemap.xml", "robots.txt",
}  # fmt: skip


def article_paths(articles: list[Article], memory: Rendered) -> dict[str, str]:
    """Each article's page folder, URL-quoted; remembered while the articles' files stay."""
    files = tuple((a.id, a.path) for a in articles)
    if memory.paths is not None and memory.paths[0] == files:
        return memory.paths[1]
    paths = {k: v if v.isascii() else quote(v) for k, v in _article_paths(articles).items()}
    memory.paths = (files, paths)
    return paths


def _article_paths(articles: list[Article]) -> dict[str, str]:
    """Each article's page folder (``2022/09/slug/``), from its file's place in the archive.

    Every segment is slugified, so no title or file name can leave ``site/``;
    clashes get the id appended.
    """
    from slugify import slugify  # here: a resumed build names no page, and it loads slowly

    paths: dict[str, str] = {}
    taken: set[str] = set()
    for article in sorted(articles, key=lambda a: (a.path, a.id)):
        stem = article.path.removesuffix(".md") or article.id
        parts = [
            part if _SLUG.fullmatch(part) else slugify(part) or "-" for part in stem.split("/")
        ]
        if parts[0] in _RESERVED:
            parts.insert(0, "articles")
        path = "/".join(parts) + "/"
        if path in taken:
            path = f"{path[:-1]}-{article.id[:8]}/"
        taken.add(path)
        paths[article.id] = path
    return paths


def _paginate(items: Sequence[Article], per_page: int, base: str) -> Iterator[tuple[str, Pager]]:
    """A listing's index, then its numbered pages, newest first (as ``items`` are).

    Pages are numbered from the oldest, so that a full page keeps its address and its bytes
    as the listing grows: page N holds the articles (N−1)×per_page+1 to N×per_page, counted
    from the oldest. The newest full page is not numbered: the index shows it with the
    articles newer than it, per_page to 2×per_page−1 articles (all when there are fewer),
    and its "older" link leads to the newest numbered page, so walking older from the index
    shows every article once. New articles change the index and, when a page fills, the
    newest numbered page's "newer" link; only the index shows the listing's totals.
    """
    numbered = max(0, len(items) // per_page - 1)
    cut = len(items) - numbered * per_page

    def path(number: int) -> str:
        return f"{base}page/{number}/" if number else base

    yield base, Pager(0, numbered + 1, items[:cut], None, path(numbered) if numbered else None)
    for number in range(numbered, 0, -1):
        start = len(items) - number * per_page
        newer = path(number + 1 if number < numbered else 0)
        older = path(number - 1) if number > 1 else None
        yield path(number), Pager(number, 0, items[start : start + per_page], newer, older)


class Job(NamedTuple):
    """One output file: where it goes, a key for everything it depends on, how to make it.

    Two builds that give a file the same key give it the same bytes, so a file
    whose key is unchanged need not be rendered again.
    """

    path: str
    key: str
    make: Callable[[], bytes]


def listing_key(article: Article, path: str) -> str:
    """What a listing shows of an article: its title, dates, source, summary, place."""
    updated = article.updated.isoformat() if article.updated else ""
    return hash_of(
        article.id, article.title, article.published.isoformat(), updated, article.source,
        article.authors, article.summary, article.topics, article.url, path,
    )  # fmt: skip


class Keys(NamedTuple):
    """What the plan derives from one article alone: a file's key is made of these."""

    shown: str
    """The `listing_key`."""
    content: str
    """A key of the body and what else only the article's own page shows."""
    month: str
    """Its archive month, ``2022/09``."""


def keys_of(article: Article, path: str, config: Config, bodies: Bodies) -> Keys:
    """What the plan derives from one article alone; ``path`` is its page's folder."""
    return Keys(
        listing_key(article, path),
        hash_of(bodies.key(article), article.image, dict(article.extra)),
        _month(article.published, config),
    )


def article_keys(
    config: Config, articles: list[Article], bodies: Bodies, memory: Rendered
) -> dict[str, Keys]:
    """Each article's keys, remembered while its record and place stay the same: a caller
    that keeps its memory keeps its unchanged records, so no body is hashed again."""
    paths = article_paths(articles, memory)
    keys: dict[str, Keys] = {}
    memo: dict[int, tuple[Article, str, Keys]] = {}
    zone = str(config.timezone)
    for article in articles:
        path = paths[article.id]
        hit = memory.keys.get(id(article))
        if hit and hit[0] is article and hit[1] == path + zone:
            found = hit[2]
        else:
            found = keys_of(article, path, config, bodies)
        keys[article.id] = found
        memo[id(article)] = (article, path + zone, found)
    memory.keys = memo
    return keys


PageKey = Callable[[str, str, object], str]
"""`Rendered.page_key`: a file's key from its common key, path and what it shows."""


class Spec(NamedTuple):
    """One output file, planned: plain data and article ids, no records.

    A page is rendered from ids looked up when it is made (`Site`), so a plan
    outlives the records it was made from.
    """

    path: str
    key: str
    kind: str
    """The `Site` method that makes it: ``page``, ``feed``, or ``data`` (bytes as they are)."""
    args: PageArgs | FeedArgs | EditionsFeedArgs | SearchArgs | bytes
    shown: tuple[str, ...]
    """The articles (ids) the file lists: their `listing_key` is part of its key."""
    full: tuple[str, ...]
    """The articles whose body it shows as well."""
    static: object
    """The rest of what its key depends on."""


def _key(common: str, spec: Spec, keys: Mapping[str, Keys], page_key: PageKey) -> str:
    """A file's key from its inputs (`Rendered.page_key`, which remembers them)."""
    assert not isinstance(spec.args, bytes)  # noqa: S101 - static files are keyed by content
    depends = (
        spec.args[0],
        spec.static,
        tuple(keys[i].shown if i else "" for i in spec.shown),
        tuple(keys[i].content for i in spec.full),
    )
    return page_key(common, spec.path, depends)


class Plan(NamedTuple):
    """Every output file of the site, as specs with keys; nothing rendered yet."""

    common: str
    """A key of what every page depends on: the theme, the settings, the list of topics."""
    specs: list[Spec]
    keys: dict[str, Keys]
    """The keys of the articles the specs were keyed with, by id."""
    uses: dict[str, list[int]]
    """The specs (by place) that show each article."""
    paths: dict[str, str]
    """Each article's page folder, by id."""
    topics: list[tuple[str, str, str, tuple[str, ...]]]
    """Each topic's title, slug, description and articles (ids)."""


def plan(
    config: Config,
    articles: list[Article],
    topics: list[Topic],
    bodies: Bodies,
    health: list[tuple[Feed, FeedState]] | None,
    memory: Rendered,
    stories: Stories | None,
    shards: list[Spec],
) -> tuple[Plan, list[Job]]:
    """Every output file of the site: the plan, and a `Job` for each file.

    ``articles`` are newest first; topics come from `digest.group.group`;
    ``bodies`` gives their bodies, read only for the pages and feeds rendered;
    ``health`` is each feed's last success and error, for the Sources page.
    Keys follow what the default theme shows: an article's page depends on the
    article, its neighbours and the list of topics, not on every other article.

    When every listing holds the same articles in the same order as in the plan
    in ``memory`` (digest serve, after an edit that moved nothing), that plan is
    reused with new keys for the files that show an edited article. ``stories``
    (digest.stories.stage) adds a page and a feed per story, and the stories to
    the home, topic and article pages; ``shards`` are the search index's
    (`search_shards`).
    """
    paths = article_paths(articles, memory)
    keys = article_keys(config, articles, bodies, memory)
    theme = templates.theme_key(config)
    common = hash_of(theme, [(t.title, t.slug) for t in topics], bool(health))
    structure = (
        common,
        repr(health),
        [(a.id, a.path, a.topics, a.published, a.source) for a in articles],
        stories,
    )
    if memory.plan is not None and memory.plan[0] == structure:
        made = rekey(memory.plan[1], keys, memory.page_key)
    else:
        made = _plan(
            config, articles, topics, keys, paths, common, health, memory.page_key, stories
        )
    memory.plan = (structure, made)
    by_id = {a.id: a for a in articles}
    site = Site(config, paths, by_id, topics, bodies, bool(health), theme, memory)
    return made, bind([*made.specs, *shards], site)


def rekey(last: Plan, keys: dict[str, Keys], page_key: PageKey) -> Plan:
    """The plan of the same files showing the same articles, some of which changed.

    Only the files that show an article whose keys changed get a new key: its
    page, its neighbours' pages, the listings and the feeds that carry it.
    """
    changed = [i for i, own in keys.items() if last.keys.get(i) != own]
    specs = list(last.specs)
    places = sorted({n for i in changed for n in last.uses.get(i, ())})
    fresh = rekey_specs(last.common, [specs[n] for n in places], keys, page_key)
    for index, spec in zip(places, fresh, strict=True):
        specs[index] = spec
    return last._replace(specs=specs, keys=keys)


def rekey_specs(
    common: str, specs: list[Spec], keys: Mapping[str, Keys], page_key: PageKey
) -> list[Spec]:
    """The specs with their keys made again from the articles' ``keys``."""
    return [
        s if s.kind == "data" else s._replace(key=_key(common, s, keys, page_key)) for s in specs
    ]


def bind(specs: list[Spec], site: Site) -> list[Job]:
    """A job for each spec, made by ``site``."""
    return [
        Job(
            s.path,
            s.key,
            functools.partial(getattr(site, s.kind), s.args),
        )
        for s in specs
    ]


def _plan(
    config: Config,
    articles: list[Article],
    topics: list[Topic],
    keys: dict[str, Keys],
    paths: dict[str, str],
    common: str,
    health: list[tuple[Feed, FeedState]] | None,
    page_key: PageKey,
    stories: Stories | None = None,
) -> Plan:
    """Every file's spec, from scratch."""
    specs: list[Spec] = []

    def page(
        template: str,
        path: str,
        data: object,
        shown: Sequence[str] = (),
        static: object = (),
        alternates: Sequence[dict[str, str]] = (),
    ) -> None:
        args = PageArgs(template, path, list(alternates), data)
        spec = Spec(path, "", "page", args, tuple(shown), (), static)
        specs.append(spec._replace(key=_key(common, spec, keys, page_key)))

    def feed(folder: str, title: str, link: str, items: Sequence[Article]) -> None:
        chosen = ids(items[: config.feed_items])
        for name in feeds.FEED_TYPES:
            args = FeedArgs(name, folder, title, link, chosen)
            spec = Spec(folder + name, "", "feed", args, chosen, chosen, (title, link))
            specs.append(spec._replace(key=_key(common, spec, keys, page_key)))

    def ids(items: Sequence[Article]) -> tuple[str, ...]:
        return tuple(a.id for a in items)

    untopiced = ids([a for a in articles if not a.topics])
    sections = [(t, ids(t.articles[:HOME_ITEMS])) for t in topics if t.articles]
    latest = ids(articles[: config.per_page])
    leading = _leading(stories, articles) if stories else ()
    page(
        "index.html",
        "index.html",
        (tuple((t.title, s) for t, s in sections), untopiced[:HOME_ITEMS], latest, leading),
        [
            *(i for _, s in sections for i in s),
            *untopiced[:HOME_ITEMS],
            *latest,
            *(i for _, members, _ in leading for i in members),
        ],
        (tuple((t.slug, len(t.articles), len(s)) for t, s in sections), len(articles)),
    )
    page("topics.html", "topics/index.html", (), (), tuple(len(t.articles) for t in topics))
    for topic in topics:
        base = f"topics/{topic.slug}/"
        title = f"{config.title}: {topic.title}"
        for path, pager in _paginate(topic.articles, config.per_page, base):
            items = ids(pager.items)
            groups = _groups(stories, items) if stories else ()
            page(
                "topic.html",
                f"{path}index.html",
                (topic.title, pager.number, pager.count, items, pager.newer, pager.older, groups),
                items,
                (
                    topic.description,
                    pager.count,
                    pager.count and len(topic.articles),
                    pager.newer,
                    pager.older,
                    groups,  # stories merge and split whatever the page lists
                ),
                feeds.alternates(title, base),
            )
        feed(base, title, base, topic.articles)

    months = [(k, ids(list(g))) for k, g in groupby(articles, key=lambda a: keys[a.id].month)]
    page("archive.html", "archive/index.html", months, (), tuple((k, len(m)) for k, m in months))
    for month, items in months:
        page("month.html", f"archive/{month}/index.html", (month, items), items)

    from digest.render.search import card_name

    neighbours = _neighbours(articles, topics)
    if stories:
        from digest.stories.stage import related

        nearby = related(stories, articles)
        paged = set(stories.paged())
    for article in articles:
        near = neighbours[article.id]
        story: tuple[str, str, int] | tuple[()] = ()
        if stories and stories.of.get(article.id) in paged:
            members = stories.members[stories.of[article.id]]
            story = (stories.of[article.id], members[0], len(members))
        # The card first: it reads and parses the body the page then shows (Site.search).
        specs.append(_card(common, article.id, card_name, keys, page_key))
        specs.append(
            article_spec(
                common,
                article.id,
                paths[article.id],
                near,
                keys,
                page_key,
                story,
                nearby[article.id] if stories else (),
            )
        )
    if stories:
        _stories(config, stories, page, specs, common, keys, page_key)

    def keyed(spec: Spec) -> None:
        specs.append(spec._replace(key=_key(common, spec, keys, page_key)))

    sources = _sources(config, articles, health, page)
    _editions(config, articles, topics, keys, page, keyed)
    _search_page(articles, sources, page)
    page("404.html", "404.html", ())
    feed("", config.title, "", articles)
    specs.extend(_sitemap(config, specs))
    for path, content in templates.static_files(config).items():
        specs.append(Spec(path, hash_of(content), "data", content, (), (), None))
    uses: dict[str, list[int]] = {}
    for index, spec in enumerate(specs):
        for i in {*spec.shown, *spec.full}:
            if i:
                uses.setdefault(i, []).append(index)
    shelves = [(t.title, t.slug, t.description, ids(t.articles)) for t in topics]
    return Plan(common, specs, keys, uses, paths, shelves)


def article_spec(
    common: str,
    article_id: str,
    folder: str,
    near: Sequence[tuple[str, str, str, str]],
    keys: Mapping[str, Keys],
    page_key: PageKey,
    story: tuple[str, str, int] | tuple[()] = (),
    related: tuple[str, ...] = (),
) -> Spec:
    """An article's page: ``near`` holds its neighbours (ids) in each of its listings;
    ``story`` its story's id, first report and size, when the story has a page;
    ``related`` articles of other stories.

    Its key depends on the article, body and all, and on what the page shows of
    its neighbours: a resumed build makes this spec again from these alone.
    """
    path = f"{folder}index.html"
    data = ArticleData(article_id, tuple(near), keys[article_id].month, story, related)
    shown = (article_id, *(i for n in near for i in n[2:]), *story[1:2], *related)
    args = PageArgs("article.html", path, [], data)
    static = (tuple(n[:2] for n in near), story[0:1], story[2:3])
    spec = Spec(path, "", "page", args, shown, (article_id,), static)
    return spec._replace(key=_key(common, spec, keys, page_key))


def _month(moment: datetime, config: Config) -> str:
    """``2022/09``: the archive page of the month, in the site's timezone."""
    local = moment.astimezone(config.timezone)
    return f"{local.year:04d}/{local.month:02d}"


def _neighbours(
    articles: list[Article], topics: list[Topic]
) -> dict[str, list[tuple[str, str, str, str]]]:
    """Newer and older article (ids, "" for none) within each of an article's topics.

    Articles without a topic have theirs among all such articles.
    """
    result: dict[str, list[tuple[str, str, str, str]]] = {a.id: [] for a in articles}
    listings = [(t.title, f"topics/{t.slug}/", t.articles) for t in topics]
    untopiced = tuple(a for a in articles if not a.topics)
    listings.append(("Other articles", "archive/", untopiced))
    for label, listing, items in listings:
        ids = [a.id for a in items]
        for newer, own, older in zip(["", *ids], ids, [*ids[1:], ""], strict=False):
            result[own].append((label, listing, newer, older))
    return result


# -- stories (digest.stories) ----------------------------------------------------------


def _leading(
    stories: Stories, articles: list[Article]
) -> tuple[tuple[str, tuple[str, ...], int], ...]:
    """The stories the home page leads with: those with a report in the latest
    `STORY_DAYS` days, two outlets or more, ranked by outlets, then latest report, then id.
    Each is its id, its articles (oldest first) and its number of outlets."""
    if not articles:
        return ()
    by_id = {a.id: a for a in articles}
    since = articles[0].published.date().toordinal() - STORY_DAYS
    ranked = []
    for story in stories.paged():
        members = stories.members[story]
        last = by_id[members[-1]].published
        if last.date().toordinal() <= since:
            continue
        outlets = len({by_id[i].source for i in members if by_id[i].source})
        if outlets > 1:
            ranked.append((-outlets, -last.timestamp(), story, members))
    ranked.sort()
    return tuple((story, members, -n) for n, _, story, members in ranked[:HOME_STORIES])


def _groups(stories: Stories, items: tuple[str, ...]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """A listing's articles grouped by story, each group where its first article is;
    the story id is "" for an article alone in this listing, or whose story has no page."""
    found = {stories.of.get(i, "") for i in items}
    paged = {s for s in found if len(stories.members.get(s, ())) > 1}
    order: dict[str, list[str]] = {}
    for i in items:
        story = stories.of.get(i, "")
        key = story if story in paged else "\0" + i
        order.setdefault(key, []).append(i)
    return tuple(
        (key if not key.startswith("\0") and len(group) > 1 else "", tuple(group))
        for key, group in order.items()
    )


def _stories(
    config: Config,
    stories: Stories,
    page: Callable[..., None],
    specs: list[Spec],
    common: str,
    keys: Mapping[str, Keys],
    page_key: PageKey,
) -> None:
    """A page for each story of two reports or more, its Atom feed (summaries: the
    reports' bodies are a click away, and a thousand stories would render every body
    again), and a redirect page for each story id merged into one of them: a story's
    address never changes."""
    for story in stories.paged():
        members = stories.members[story]
        folder = f"stories/{story}/"
        copies = tuple((i, stories.copies.get(i, "")) for i in members)
        alternates = [
            {"title": "Atom feed of this story", "path": folder + "atom.xml",
             "type": feeds.FEED_TYPES["atom.xml"]}
        ]  # fmt: skip
        page("story.html", folder + "index.html", (story, copies), members, copies, alternates)
        chosen = tuple(reversed(members))[: config.feed_items]
        args = FeedArgs("atom.xml", folder, "", folder, chosen, headline=members[0])
        shown = (*chosen, members[0])  # the first report's title is the feed's
        spec = Spec(folder + "atom.xml", "", "summaries", args, shown, (), folder)
        specs.append(spec._replace(key=_key(common, spec, keys, page_key)))
    for old, new in sorted(stories.merged.items()):
        path = f"stories/{old}/index.html"
        target = f"stories/{new}/"
        spec = Spec(path, "", "redirect", PageArgs("", path, [], target), (), (), target)
        specs.append(spec._replace(key=_key(common, spec, keys, page_key)))


PageMaker = Callable[..., None]
"""`_plan`'s ``page``: template, path, data, shown ids, static key parts, alternates."""


def _sources(
    config: Config,
    articles: list[Article],
    health: list[tuple[Feed, FeedState]] | None,
    page: PageMaker,
) -> tuple[str, ...]:
    """The Sources page (every source with its count, and the feeds' health) and a
    paginated page per source (`_paginate`)."""
    from slugify import slugify

    by_source: dict[str, list[Article]] = {}
    for article in articles:
        if article.source:
            by_source.setdefault(article.source, []).append(article)
    listed: list[tuple[str, str, int]] = []
    taken: set[str] = set()
    for name in sorted(by_source, key=lambda n: (n.casefold(), n)):
        slug = slugify(name) or "source"
        if slug in taken:
            slug = f"{slug}-{hash_of(name)[:6]}"
        taken.add(slug)
        listed.append((name, slug, len(by_source[name])))
    page(
        "sources.html", "sources/index.html", (health or [], tuple(listed)), (),
        (repr(health), tuple(listed)),
    )  # fmt: skip
    for name, slug, count in listed:
        for path, pager in _paginate(by_source[name], config.per_page, f"sources/{slug}/"):
            items = tuple(a.id for a in pager.items)
            total = pager.count and count  # a numbered page shows no totals: its bytes stay
            data = (name, slug, total, pager.number, pager.count, items, pager.newer, pager.older)
            page("source.html", f"{path}index.html", data, items, data)
    return tuple(name for name, _, _ in listed)


def edition_key(moment: datetime, config: Config) -> str:
    """The edition an article arrived in: the day (``2022-09-19``) or ISO week
    (``2022-W38``) of its publication, in the site's timezone."""
    local = moment.astimezone(config.timezone)
    if config.editions == "weekly":
        year, week, _ = local.isocalendar()
        return f"{year:04d}-W{week:02d}"
    return local.date().isoformat()


def _editions(
    config: Config,
    articles: list[Article],
    topics: list[Topic],
    keys: Mapping[str, Keys],
    page: PageMaker,
    keyed: Callable[[Spec], None],
) -> None:
    """A page per edition (``editions/2022-09-19/``), the index by month, and the feeds
    with one item per edition.

    An edition lists what arrived in it by topic, then the articles without one.
    Its sections hold ids: stories can take the place of articles there.
    """
    arrived: dict[str, list[Article]] = {}
    for article in articles:  # newest first, so editions are too
        arrived.setdefault(edition_key(article.published, config), []).append(article)
    order = list(arrived)
    editions: list[EditionData] = []
    for n, key in enumerate(order):
        items = arrived[key]
        sections = tuple(
            (t.title, ids)
            for t in topics
            if (ids := tuple(a.id for a in items if t.title in (a.topics or ())))
        )
        other = tuple(a.id for a in items if not a.topics)
        newer = order[n - 1] if n > 0 else ""
        older = order[n + 1] if n + 1 < len(order) else ""
        editions.append(EditionData(key, sections, other, newer, older, len(items)))
    for edition in editions:
        shown = (*(i for _, ids in edition.sections for i in ids), *edition.other)
        page("edition.html", f"editions/{edition.key}/index.html", edition, shown, edition)
    counts = tuple((e.key, e.size) for e in editions)
    page("editions.html", "editions/index.html", counts, (), counts)
    chosen = tuple(editions[: config.feed_items])
    shown = tuple(i for e in chosen for _, ids in e.sections for i in ids) + tuple(
        i for e in chosen for i in e.other
    )
    for name in feeds.FEED_TYPES:
        args = EditionsFeedArgs(name, chosen)
        keyed(Spec(f"editions/{name}", "", "editions_feed", args, shown, (), chosen))


def _sitemap(config: Config, specs: list[Spec]) -> list[Spec]:
    """``sitemap.xml`` with every page but the 404, and ``robots.txt`` that points to it."""
    from xml.sax.saxutils import escape

    # Paths are relative and slugified, and base_url ends with "/": joined as strings.
    urls = [
        escape(config.base_url + quote(s.path.removesuffix("index.html")))
        for s in specs
        if s.kind == "page" and s.path != "404.html"
    ]
    sitemap = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        + "".join(f"<url><loc>{u}</loc></url>\n" for u in sorted(urls))
        + "</urlset>\n"
    ).encode("utf-8")
    robots = (
        f"User-agent: *\nAllow: /\nSitemap: {urljoin(config.base_url, 'sitemap.xml')}\n"
    ).encode()
    return [
        Spec(path, hash_of(content), "data", content, (), (), None)
        for path, content in (("sitemap.xml", sitemap), ("robots.txt", robots))
    ]


def _search_page(articles: list[Article], sources: tuple[str, ...], page: PageMaker) -> None:
    """The search page; the cards are made beside their articles' pages (`_card`), the
    term shards by `search_shards`."""
    from digest.render import search

    tiers = search.tiers(len(articles))
    data = (sources, tiers["t"], tiers.get("r", 0), len(articles))
    page("search.html", "search/index.html", data, (), data)


def _card(
    common: str,
    article_id: str,
    card_name: Callable[[str], str],
    keys: Mapping[str, Keys],
    page_key: PageKey,
) -> Spec:
    """An article's search card (digest.render.search)."""
    path = f"search/d/{card_name(article_id)}.json"
    args = SearchArgs("card", article_id)
    spec = Spec(path, "", "search", args, (article_id,), (article_id,), ())
    return spec._replace(key=_key(common, spec, keys, page_key))


def search_shards(
    config: Config,
    articles: list[Article],
    keys: Mapping[str, Keys],
    bodies: Bodies,
    *,
    complete: bool = True,
    workers: int = 1,
) -> list[Spec]:
    """The search index's term shards, brought up to date with the articles: only the
    shards of new, edited or deleted articles are made again (digest.render.search).

    Without ``complete``, ``articles`` are a few edited ones (a resumed build), and
    only the shards they change are given; LookupError if no index is kept.
    """
    from digest.render import search
    from digest.render.markdown import plain_text

    zone = config.timezone
    days = {a.id: a.published.astimezone(zone).date().isoformat() for a in articles}
    docs = search.docs(articles, keys, days, lambda a: plain_text(bodies.text(a)))
    total = len(articles) if complete else None
    files = search.update(config, docs, total, complete=complete, workers=workers)
    return [
        Spec(path, key, "data", data, (), (), None)
        if data is not None
        else Spec(path, key, "search", SearchArgs("shard", name), (), (), None)
        for path, key, data, name in files
        if complete or data is not None
    ]

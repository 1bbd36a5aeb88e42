"""Articles and topics → a plan of every page and feed of the site.

Templates come from the project's ``templates/`` first, then the default theme,
so a user overrides one by placing a file with the same name. Autoescape is on
and undefined variables are errors; article bodies are rendered by cmark-gfm
in its safe mode, so nothing from an input reaches a page as markup.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import html
import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import groupby
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol
from urllib.parse import quote, urljoin, urlsplit
from xml.parsers import expat

import jinja2
from cmarkgfm import cmark
from markupsafe import Markup

from digest import __version__
from digest.config import DEFAULT_THEME, Config, Feed
from digest.errors import ContentError, Problem, ThemeError
from digest.group import Topic
from digest.model import Article, http_url, mint_id

if TYPE_CHECKING:
    from digest.cache import FeedState

HOME_ITEMS = 5
"""Articles per topic on the home page."""

_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_RESERVED = {"topics", "archive", "sources", "static", "feed.xml", "index.html", "404.html"}
# Characters XML does not allow. In UTF-8 each C0 control is one byte, never part of another
# character, so bytes.translate drops them (a regex over the text took a fifth of a body's time).
_XML_ILLEGAL = bytes([*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])
# cmark-gfm writes a character reference as the character: &#1; as a control, and &#xFFFE; and
# &#xFFFF; as the bytes FE and FF, which are never part of UTF-8.
_NOT_IN_HTML = _XML_ILLEGAL + b"\xfe\xff"
# The HTML is edited as UTF-8 bytes, before it is decoded once: quicker to scan than text.
# cmark-gfm writes each attribute after a space (a leading \b instead made this the slowest
# step of rendering a page); well-formed http(s) URLs (a host, no bracket) are left as they
# are, without a call each.
_URL_ATTR = re.compile(rb' (href|src)="(?!https?://[^/?#"\[\]][^"\[\]]*")([^"]*)"')
_EMPTY_LINK = re.compile(rb'<a href=""(?: title="[^"]*")?>(.*?)</a>', re.DOTALL)
_EMPTY_IMAGE = re.compile(rb'<img src="" alt="([^"]*)"(?: title="[^"]*")? />')


_BODIES = 2
"""The body renderer's rules, in every page's key: bumped when the same Markdown renders
differently (2: only http(s) and mailto links), so that no page keeps the old HTML."""


def markdown_to_html(markdown: str, base: str) -> Markup:
    """Render an article body with cmark-gfm; links and images become absolute against ``base``.

    cmark-gfm's safe mode (its default) omits raw HTML and empties ``javascript:``,
    ``vbscript:``, ``file:`` and non-image ``data:`` URLs. Here links keep only their
    text, and images their description, unless they are http(s) (or ``mailto:``, for a
    link), which every feed reader can follow.
    Absolute links work the same on the page and in a feed reader; the body's own
    ``#`` headings become ``h2`` since the page's title is the ``h1``. (markdown-it-py
    gave the same HTML on the benchmark corpus, twelve times slower: see
    docs/performance.md.)
    """
    # A control character in a body would make every feed that shows it malformed XML.
    if "\ufffe" in markdown or "\uffff" in markdown:  # one character: quicker found in text
        markdown = markdown.replace("\ufffe", "").replace("\uffff", "")
    data = markdown.encode("utf-8").translate(None, _XML_ILLEGAL)
    html_bytes = _gfm(data).translate(None, _NOT_IN_HTML)
    html_bytes = _URL_ATTR.sub(lambda m: _followable(m, base), html_bytes)
    html_bytes = _EMPTY_LINK.sub(rb"\1", html_bytes)
    html_bytes = _EMPTY_IMAGE.sub(rb"\1", html_bytes)
    if b"<h1>" in html_bytes:
        html_bytes = html_bytes.replace(b"<h1>", b"<h2>").replace(b"</h1>", b"</h2>")
    # cmark-gfm escapes text and omits raw HTML
    return Markup(html_bytes.decode("utf-8"))  # noqa: S704


_GFM_EXTENSIONS = ("table", "autolink", "tagfilter", "strikethrough", "tasklist")
_GFM_OPTIONS = cmark.Options.CMARK_OPT_GITHUB_PRE_LANG
# cmarkgfm's own bindings lack both functions: ctypes reaches them (a cffi declaration
# loads pycparser: 20 ms of every build that renders).
_CMARK = ctypes.CDLL(cmark._cmark.__file__)
_CMARK.cmark_node_free.argtypes = [ctypes.c_void_p]
_LIBC = ctypes.CDLL(None)
_LIBC.free.argtypes = [ctypes.c_void_p]


def _address(pointer: object) -> int:
    return int(cmark._cmark.ffi.cast("uintptr_t", pointer))


def _gfm(text: bytes) -> bytes:
    """cmarkgfm's github_flavored_markdown_to_html, without its leak.

    cmarkgfm 2025.10 frees neither the document tree nor the rendered string:
    about 26 kB per article, 2.6 GB over a 100,000-article build. Same parser,
    same extensions and options, same HTML; the two are freed here.
    """
    cmark.core_extensions_ensure_registered()
    parser = cmark.parser_new(_GFM_OPTIONS)
    try:
        for name in _GFM_EXTENSIONS:
            cmark.parser_attach_syntax_extension(parser, cmark.find_syntax_extension(name))
        cmark._cmark.lib.cmark_parser_feed(parser, text, len(text))  # parser_feed takes str
        root = cmark.parser_finish(parser)
        try:
            extensions = cmark.parser_get_syntax_extensions(parser)
            rendered = cmark._cmark.lib.cmark_render_html(root, _GFM_OPTIONS, extensions)
            try:
                return bytes(cmark._cmark.ffi.string(rendered))
            finally:
                _LIBC.free(_address(rendered))
        finally:
            _CMARK.cmark_node_free(_address(root))
    finally:
        cmark.parser_free(parser)


def _followable(match: re.Match[bytes], base: str) -> bytes:
    """An href or src made absolute against ``base``; empty unless it is one to follow."""
    name, value = match[1], match[2]
    if not value:  # emptied by cmark-gfm
        return match[0]
    url = html.unescape(value.decode("utf-8"))
    if value.startswith((b"https://", b"http://")):  # with brackets, or no host
        return match[0] if http_url(url) else b' %s=""' % name
    try:
        url = urljoin(base, url)
    except ValueError:  # unbalanced brackets where a host would be
        url = ""
    if not (http_url(url) or (name == b"href" and url[:7].lower() == "mailto:")):
        url = ""
    return b' %s="%s"' % (name, html.escape(url).encode("utf-8"))


@dataclass(frozen=True, slots=True)
class Pager:
    """One page of a paginated listing."""

    number: int
    count: int
    items: Sequence[Article]
    newer: str | None
    """Path of the previous (newer) page, site-relative, or None."""
    older: str | None


class Neighbours(NamedTuple):
    """Previous and next article in one listing (a topic, or all articles).

    A named tuple, like `Job`: a site has tens of thousands, made on every full plan.
    """

    label: str
    listing: str
    """Path of the listing's page."""
    newer: Article | None
    older: Article | None


_PATHS: list[tuple[tuple[tuple[str, str], ...], dict[str, str]]] = []
"""The last result of `article_paths`, with the (id, file) pairs it came from."""


def article_paths(articles: list[Article]) -> dict[str, str]:
    """Each article's page folder, URL-quoted; remembered while the articles' files stay."""
    files = tuple((a.id, a.path) for a in articles)
    if _PATHS and _PATHS[0][0] == files:
        return _PATHS[0][1]
    paths = {k: v if v.isascii() else quote(v) for k, v in _article_paths(articles).items()}
    _PATHS[:] = [(files, paths)]
    return paths


def _article_paths(articles: list[Article]) -> dict[str, str]:
    """Each article's page folder (``2022/09/slug/``), from its file's place in the archive.

    Every segment is slugified, so no title or file name can leave ``site/``;
    clashes get the id appended.
    """
    from slugify import slugify  # here: a resumed build names no page

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

    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(
            [jinja2.FileSystemLoader(config.templates), jinja2.FileSystemLoader(DEFAULT_THEME)]
        ),
        autoescape=jinja2.select_autoescape(["html", "xml"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,  # one environment per build: no need to stat templates per page
        # Compiled templates kept by their source's hash, so a short rebuild compiles none;
        # the names carry digest's version, since the hash does not cover these options.
        bytecode_cache=jinja2.FileSystemBytecodeCache(
            str(_cache_folder(config)), f"{__version__}-%s.cache"
        ),
    )
    env.filters["rfc822"] = _rfc822
    env.filters["isodate"] = lambda d: d.isoformat()
    zone = config.timezone

    def day(moment: datetime) -> str:
        """The day in the site's timezone, as '19 September 2022' (not locale-dependent)."""
        local = moment.astimezone(zone)
        return f"{local.day} {local:%B %Y}"

    env.filters["day"] = day
    env.filters["month"] = lambda moment: f"{moment.astimezone(zone):%B %Y}"
    env.filters["http_url"] = http_url
    return env


class Job(NamedTuple):
    """One output file: where it goes, a key for everything it depends on, how to make it.

    Two builds that give a file the same key give it the same bytes, so a file
    whose key is unchanged need not be rendered again.
    """

    path: str
    key: str
    make: Callable[[], bytes]


def _digest(*parts: object) -> str:
    """A short hash of the parts; text is hashed as it is (repr of a long body is slow)."""
    text = "".join(f"{p}\x1f" if isinstance(p, str) else f"{p!r}\x1f" for p in parts)
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


def listing_key(article: Article, path: str) -> str:
    """What a listing shows of an article: its title, dates, source, summary, place."""
    updated = article.updated.isoformat() if article.updated else ""
    return _digest(
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


_MEMO: dict[int, tuple[Article, str, Keys]] = {}
"""Keys of the articles of the last plan, by identity: a long-running process (digest
serve) keeps its unchanged Article records, so it need not hash 10,000 bodies again."""


_HTML: dict[tuple[str, str], Markup] = {}
"""Bodies' HTML by body key and base URL. Feed items recur across scopes and, in digest
serve, across rebuilds: only the edited article's body is rendered again."""
_HTML_LIMIT = 1024

_ENVIRONMENTS: dict[str, jinja2.Environment] = {}
"""Compiled templates by theme key: a rebuild in digest serve need not compile them again."""


def _environment(config: Config, theme: str) -> jinja2.Environment:
    env = _ENVIRONMENTS.get(theme)
    if env is None:  # keep only the current theme's: a template edit makes a new one
        _ENVIRONMENTS.clear()
        env = _ENVIRONMENTS[theme] = environment(config)
    return env


class Bodies(Protocol):
    """Where the plan gets articles' bodies (digest.archive.Bodies): read when rendered."""

    def text(self, article: Article) -> str: ...

    def key(self, article: Article) -> str:
        """A hash of the body."""
        ...


def keys_of(article: Article, path: str, config: Config, bodies: Bodies) -> Keys:
    """What the plan derives from one article alone; ``path`` is its page's folder."""
    return Keys(
        listing_key(article, path),
        _digest(bodies.key(article), article.image, dict(article.extra)),
        _month(article.published, config),
    )


def _article_keys(
    articles: list[Article], paths: dict[str, str], config: Config, bodies: Bodies
) -> dict[str, Keys]:
    """Each article's keys, remembered while its record and place stay the same."""
    global _MEMO
    keys: dict[str, Keys] = {}
    memo: dict[int, tuple[Article, str, Keys]] = {}
    zone = str(config.timezone)
    for article in articles:
        path = paths[article.id]
        hit = _MEMO.get(id(article))
        if hit and hit[0] is article and hit[1] == path + zone:
            found = hit[2]
        else:
            found = keys_of(article, path, config, bodies)
        keys[article.id] = found
        memo[id(article)] = (article, path + zone, found)
    _MEMO = memo
    return keys


class Spec(NamedTuple):
    """One output file, planned: plain data and article ids, no records.

    A page is rendered from ids looked up when it is made (`Site`), so a plan
    outlives the records it was made from: digest serve and digest.rebuild give
    it new keys when articles change, and the rebuild loads it from disk in
    milliseconds.
    """

    path: str
    key: str
    kind: str
    """``page``, ``feed``, or ``data`` (bytes as they are)."""
    args: tuple[Any, ...]
    shown: tuple[str, ...]
    """The articles (ids) the file lists: their `listing_key` is part of its key."""
    full: tuple[str, ...]
    """The articles whose body it shows as well."""
    static: object
    """The rest of what its key depends on."""


_PAGE_KEYS: dict[tuple[str, str, object], str] = {}
"""Files' keys by their inputs (digest serve plans again and again)."""
_PAGE_KEYS_LIMIT = 200_000


def _key(common: str, spec: Spec, keys: Mapping[str, Keys]) -> str:
    """A file's key, remembered by its inputs: most files' inputs do not change."""
    depends = (
        spec.args[0],
        spec.static,
        tuple(keys[i].shown if i else "" for i in spec.shown),
        tuple(keys[i].content for i in spec.full),
    )
    memo = (common, spec.path, depends)
    found = _PAGE_KEYS.get(memo)
    if found is None:
        if len(_PAGE_KEYS) > _PAGE_KEYS_LIMIT:
            _PAGE_KEYS.clear()
        found = _PAGE_KEYS[memo] = _digest(common, spec.path, depends)
    return found


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


_LAST: list[tuple[object, Plan]] = []
"""The last plan of this process, with its `_structure` (digest serve keeps it)."""


def plan(
    config: Config,
    articles: list[Article],
    topics: list[Topic],
    bodies: Bodies,
    health: list[tuple[Feed, FeedState]] | None = None,
) -> tuple[Plan, list[Job]]:
    """Every output file of the site: the plan, and a `Job` for each file.

    ``articles`` are newest first; topics come from `digest.group.group`;
    ``bodies`` gives their bodies, read only for the pages and feeds rendered;
    ``health`` is each feed's last success and error, for the Sources page.
    Keys follow what the default theme shows: an article's page depends on the
    article, its neighbours and the list of topics, not on every other article.

    When every listing holds the same articles in the same order as in the last
    plan of this process (digest serve, after an edit that moved nothing), that
    plan is reused with new keys for the files that show an edited article.
    """
    paths = article_paths(articles)
    keys = _article_keys(articles, paths, config, bodies)
    theme = _theme_key(config)
    common = _digest(theme, [(t.title, t.slug) for t in topics], bool(health))
    structure = (common, repr(health), [(a.id, a.path, a.topics, a.published) for a in articles])
    if _LAST and _LAST[0][0] == structure:
        made = rekey(_LAST[0][1], keys)
    else:
        _check_ids(config, articles)
        made = _plan(config, articles, topics, keys, paths, common, health)
    _LAST[:] = [(structure, made)]
    site = Site(config, paths, {a.id: a for a in articles}, topics, bodies, bool(health), theme)
    return made, bind(made.specs, site)


def rekey(last: Plan, keys: dict[str, Keys]) -> Plan:
    """The plan of the same files showing the same articles, some of which changed.

    Only the files that show an article whose keys changed get a new key: its
    page, its neighbours' pages, the listings and the feeds that carry it.
    """
    changed = [i for i, own in keys.items() if last.keys.get(i) != own]
    specs = list(last.specs)
    places = sorted({n for i in changed for n in last.uses.get(i, ())})
    fresh = rekey_specs(last.common, [specs[n] for n in places], keys)
    for index, spec in zip(places, fresh, strict=True):
        specs[index] = spec
    return last._replace(specs=specs, keys=keys)


def rekey_specs(common: str, specs: list[Spec], keys: Mapping[str, Keys]) -> list[Spec]:
    """The specs with their keys made again from the articles' ``keys``."""
    return [s if s.kind == "data" else s._replace(key=_key(common, s, keys)) for s in specs]


def bind(specs: list[Spec], site: Site) -> list[Job]:
    """A job for each spec, made by ``site``."""
    return [
        Job(
            s.path,
            s.key,
            functools.partial(bytes if s.kind == "data" else getattr(site, s.kind), *s.args),
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
) -> Plan:
    """Every file's spec, from scratch."""
    specs: list[Spec] = []

    def page(
        template: str,
        path: str,
        data: object,
        shown: Sequence[str] = (),
        static: object = (),
        feeds: Sequence[dict[str, str]] = (),
    ) -> None:
        args = (template, path, list(feeds), data)
        spec = Spec(path, "", "page", args, tuple(shown), (), static)
        specs.append(spec._replace(key=_key(common, spec, keys)))

    def feeds(folder: str, title: str, link: str, items: Sequence[Article]) -> None:
        chosen = ids(items[: config.feed_items])
        for name in ("feed.xml", "atom.xml", "feed.json"):
            args = (name, folder, title, link, chosen)
            spec = Spec(folder + name, "", "feed", args, chosen, chosen, (title, link))
            specs.append(spec._replace(key=_key(common, spec, keys)))

    def ids(items: Sequence[Article]) -> tuple[str, ...]:
        return tuple(a.id for a in items)

    untopiced = ids([a for a in articles if not a.topics])
    sections = [(t, ids(t.articles[:HOME_ITEMS])) for t in topics if t.articles]
    latest = ids(articles[: config.per_page])
    page(
        "index.html",
        "index.html",
        (tuple((t.title, s) for t, s in sections), untopiced[:HOME_ITEMS], latest),
        [*(i for _, s in sections for i in s), *untopiced[:HOME_ITEMS], *latest],
        (tuple((t.slug, len(t.articles), len(s)) for t, s in sections), len(articles)),
    )
    page("topics.html", "topics/index.html", (), (), tuple(len(t.articles) for t in topics))
    for topic in topics:
        base = f"topics/{topic.slug}/"
        title = f"{config.title}: {topic.title}"
        for path, pager in _paginate(topic.articles, config.per_page, base):
            items = ids(pager.items)
            page(
                "topic.html",
                f"{path}index.html",
                (topic.title, pager.number, pager.count, items, pager.newer, pager.older),
                items,
                (topic.description, len(topic.articles), pager.number, pager.count),
                _alternates(title, base),
            )
        feeds(base, title, base, topic.articles)

    months = [(k, ids(list(g))) for k, g in groupby(articles, key=lambda a: keys[a.id].month)]
    page("archive.html", "archive/index.html", months, (), tuple((k, len(m)) for k, m in months))
    for month, items in months:
        page("month.html", f"archive/{month}/index.html", (month, items), items)

    neighbours = _neighbours(articles, topics)
    for article in articles:
        near = neighbours[article.id]
        specs.append(article_spec(common, article.id, paths[article.id], near, keys))
    if health:
        page("sources.html", "sources/index.html", health, (), repr(health))
    page("404.html", "404.html", ())
    feeds("", config.title, "", articles)
    for path, content in _static(config).items():
        specs.append(Spec(path, _digest(content), "data", (content,), (), (), None))
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
) -> Spec:
    """An article's page: ``near`` holds its neighbours (ids) in each of its listings.

    Its key depends on the article, body and all, and on what the page shows of
    its neighbours: digest.rebuild makes this spec again from these alone.
    """
    path = f"{folder}index.html"
    data = (article_id, tuple(near), keys[article_id].month)
    shown = (article_id, *(i for n in near for i in n[2:]))
    args: tuple[Any, ...] = ("article.html", path, [], data)
    spec = Spec(path, "", "page", args, shown, (article_id,), tuple(n[:2] for n in near))
    return spec._replace(key=_key(common, spec, keys))


class Site:
    """What rendering needs beyond a plan: the records the ids stand for, the templates.

    ``articles`` maps ids to records: a dict in a full build, records loaded on
    demand in digest.rebuild.
    """

    def __init__(
        self,
        config: Config,
        paths: Mapping[str, str],
        articles: Mapping[str, Article],
        topics: Sequence[Topic],
        bodies: Bodies,
        has_sources: bool,
        theme: str | None = None,
    ) -> None:
        self.config, self.paths, self.by_id, self.topics = config, paths, articles, topics
        self.env = _environment(config, theme or _theme_key(config))  # the plan's, if it has one
        self.bodies, self.has_sources = bodies, has_sources
        self.topic_by_title = {t.title: t for t in topics}
        self.site_feeds = _alternates(config.title, "")
        self.scopes: dict[str, dict[str, Any]] = {}

    def body(self, article: Article) -> Markup:
        """An article's body as HTML, its links absolute."""
        article = self.by_id[article.id]
        base = http_url(article.url) or urljoin(self.config.base_url, self.paths[article.id])
        memo = (self.bodies.key(article), base)
        html = _HTML.get(memo)
        if html is None:
            html = _HTML[memo] = markdown_to_html(self.bodies.text(article), base)
            while len(_HTML) > _HTML_LIMIT:  # the oldest first: dicts keep their order
                del _HTML[next(iter(_HTML))]
        return html

    def url(self, root: str) -> Callable[..., str]:
        paths = self.paths

        def url_for(target: object, page: int = 1) -> str:
            if isinstance(target, Article):
                path = paths[target.id]
            elif isinstance(target, Topic):
                path = f"topics/{target.slug}/" + (f"page/{page}/" if page > 1 else "")
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
            case "article.html", (own, near, month):
                neighbours = [Neighbours(a, b, record(c), record(d)) for a, b, c, d in near]
                return {"article": self.by_id[own], "neighbours": neighbours, "month": month}
            case "topic.html", (title, number, count, items, newer, older):
                pager = Pager(number, count, records(items), newer, older)
                return {"topic": self.topic_by_title[title], "pager": pager}
            case "month.html", (_, items):
                first = self.by_id[items[0]].published.astimezone(self.config.timezone)
                return {"month": first, "items": records(items)}
            case "archive.html", months:
                return {"months": [(key, records(items)) for key, items in months]}
            case "index.html", (sections, other, latest):
                return {
                    "sections": [(self.topic_by_title[t], records(s)) for t, s in sections],
                    "other": records(other),
                    "latest": records(latest),
                }
            case "sources.html", health:
                return {"health": health}
        return {}

    def page(self, template: str, path: str, feeds: list[dict[str, str]], data: object) -> bytes:
        config = self.config
        # Relative links work on any host and under any base path; the 404 page is
        # served at arbitrary depths, so it links from the site's root path, on its own host.
        root = urlsplit(config.base_url).path if template == "404.html" else "../" * path.count("/")
        try:
            text = self.env.get_template(template).render(
                site=config,
                root=root or "./",
                url_for=self.url(root),
                canonical=urljoin(config.base_url, quote(path.removesuffix("index.html"))),
                feeds=[*self.site_feeds, *feeds],
                topics=self.topics,
                topic_by_title=self.topic_by_title,
                has_sources=self.has_sources,
                body=self.body,
                version=__version__,
                **self.context(template, data),
            )
        except jinja2.TemplateError as exc:
            raise _theme_error(exc, template) from None
        return text.encode("utf-8")

    def feed(self, name: str, folder: str, title: str, link: str, chosen: tuple[str, ...]) -> bytes:
        """One format of one feed scope, checked before it is written."""
        context = self.scopes.get(folder)
        if context is None:  # once for the three formats: the gate reads every item's links
            context = self.scopes[folder] = self._feed_context(folder, title, link, chosen)
        if name == "feed.json":
            return _json_feed(self.config, folder, context)
        try:
            xml = self.env.get_template(name).render(
                self_url=urljoin(self.config.base_url, quote(folder + name)), **context
            )
        except jinja2.TemplateError as exc:
            raise _theme_error(exc, name) from None
        _well_formed(xml, folder + name, name)
        return xml.encode("utf-8")

    def _feed_context(
        self, folder: str, title: str, link: str, chosen: tuple[str, ...]
    ) -> dict[str, Any]:
        config, paths = self.config, self.paths
        items = [self.by_id[i] for i in chosen]
        _gate(config, items)
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
            "body": self.body,
            "version": __version__,
        }


def _cache_folder(config: Config) -> Path:
    folder = config.state / "templates"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _rfc822(moment: datetime) -> str:
    from email.utils import format_datetime  # only feeds need it: a short rebuild may not

    return format_datetime(moment)


def _theme_key(config: Config) -> str:
    """Everything every page depends on: the templates, the settings, digest's version."""
    parts: list[object] = [__version__, _BODIES, repr(config)]
    for theme in (DEFAULT_THEME, config.templates):
        if theme.is_dir():
            for path in sorted(theme.rglob("*")):
                if path.is_file():
                    parts.append((str(path.relative_to(theme)), path.read_bytes()))
    return _digest(*parts)


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


def _alternates(title: str, folder: str) -> list[dict[str, str]]:
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
        if article.url:
            item["external_url"] = article.url
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


def _gate(config: Config, items: list[Article]) -> None:
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


def _check_ids(config: Config, articles: list[Article]) -> None:
    """Two articles with one id would be one item in every feed reader."""
    seen: dict[str, str] = {}
    where = config.articles.relative_to(config.root)
    problems = []
    for article in articles:
        owner = seen.setdefault(article.id, article.path)
        if owner != article.path:
            problems.append(
                Problem(
                    where / article.path,
                    f"id {article.id} is also used by {owner}",
                    "give it its own id",
                )
            )
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

"""digest.toml → a frozen `Config`; every unknown key and bad value reported at once."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from digest import atomic
from digest.errors import ConfigError, Problem

FILENAME = "digest.toml"
# An installed wheel carries the theme inside the package; a checkout has it at the top.
_PACKAGED = Path(__file__).with_name("templates")
DEFAULT_THEME = _PACKAGED if _PACKAGED.is_dir() else Path(__file__).parent.parent / "templates"


@dataclass(frozen=True, slots=True)
class TopicRule:
    """A topic and the readable rule that decides which articles belong to it."""

    title: str
    slug: str
    description: str = ""
    require: tuple[tuple[str, ...], ...] = ()
    """Term groups: at least one term of every group must appear (whole words)."""
    exclude: tuple[str, ...] = ()
    """Any of these terms keeps an article out."""
    threshold: int = 1
    """Minimum score: each hit counts 1 in the body and `TITLE_WEIGHT` in the title."""


@dataclass(frozen=True, slots=True)
class Feed:
    """A subscription: an RSS, Atom or JSON feed to pull articles from."""

    name: str
    """Recorded as each article's ``source``."""
    url: str
    topics: tuple[str, ...] = ()
    """Topics given to every article of this feed, besides those the rules give."""
    full_text: bool = False
    """Fetch each item's page and extract its main text (for summary-only feeds)."""
    include: tuple[str, ...] = ()
    """Keep only items whose title or body has one of these terms (whole words)."""
    exclude: tuple[str, ...] = ()
    """Drop items whose title or body has one of these terms."""


@dataclass(frozen=True, slots=True)
class Fetching:
    """Politeness and safety limits for HTTP."""

    timeout: float = 20.0
    """Seconds for a whole request, body included (a slow drip is cut off too)."""
    max_bytes: int = 10_000_000
    """Largest body accepted, after decompression."""
    concurrency: int = 8
    per_host: int = 2


@dataclass(frozen=True, slots=True)
class Stories:
    """Grouping the reports of one event (digest.stories); the defaults meet docs/stories.md."""

    enabled: bool = True
    window: int = 3
    """Days over which two reports' similarity fades to nothing."""
    threshold: float = 0.12
    """Least average similarity between two groups of reports for them to be one story."""


@dataclass(frozen=True, slots=True)
class Config:
    """The project's settings, with paths made absolute."""

    root: Path
    title: str
    description: str
    base_url: str
    """Absolute, ending with ``/``."""
    language: str
    timezone: ZoneInfo
    inbox: Path
    articles: Path
    output: Path
    templates: Path
    """The project's own templates, which override the default theme's."""
    per_page: int
    feed_items: int
    feed_content: str
    """``full`` (the whole article in each feed item) or ``summary``."""
    topics: tuple[TopicRule, ...]
    feeds: tuple[Feed, ...] = ()
    fetching: Fetching = Fetching()
    stories: Stories = Stories()
    editions: str = "daily"
    """``daily``, or ``weekly`` (ISO weeks): the span of one edition, in the site's timezone."""

    @property
    def state(self) -> Path:
        """Where digest keeps what it learns between builds (HTTP validators, feed health)."""
        return self.root / ".digest"


def load(root: Path, *, required: bool = True) -> Config:
    """Read ``root/digest.toml``; raise `ConfigError` listing every problem found.

    Without ``required``, a missing file gives the defaults (for ``digest clean``
    run outside a project).
    """
    path = root / FILENAME
    shown = Path(FILENAME)  # messages name files relative to the project folder
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if not required:
            text = 'base_url = "http://localhost/"\n'
        else:
            raise ConfigError(
                Problem(path, "no digest.toml here", "run digest in your project folder")
            ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(Problem(shown, f"cannot read: {exc}", "save it as UTF-8")) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"at line (\d+)", str(exc))
        what = re.sub(r" \(at line.*", "", str(exc))
        raise ConfigError(
            Problem(
                shown,
                f"not valid TOML: {what}",
                "fix the syntax (see https://toml.io)",
                int(match.group(1)) if match else None,
            )
        ) from None
    reader = _Reader(shown, text)
    config = reader.config(root.resolve(), data)
    if config is None:
        raise ConfigError(*reader.problems)
    return config


def _is_text(value: object) -> bool:
    return isinstance(value, str)


def _is_positive_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _is_terms(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(t, str) and t.strip() for t in value)


def _is_groups(value: object) -> bool:
    return isinstance(value, list) and bool(value) and all(_is_terms(g) and g for g in value)


# key: (check, what a good value looks like, default)
def _slug(text: str) -> str:
    from slugify import slugify  # loaded only for projects with topics

    return str(slugify(text))


_SITE: dict[str, tuple[Callable[[object], bool], str, object]] = {
    "title": (_is_text, "a string", "My digest"),
    "description": (_is_text, "a string", ""),
    "base_url": (_is_text, 'an absolute URL such as "https://example.org/digest/"', None),
    "language": (_is_text, 'a language tag such as "en"', "en"),
    "timezone": (_is_text, 'an IANA zone such as "Europe/Berlin"', "UTC"),
    "inbox": (_is_text, "a folder inside the project", "content/inbox"),
    "articles": (_is_text, "a folder inside the project", "content/articles"),
    "output": (_is_text, "a folder inside the project", "site"),
    "per_page": (_is_positive_int, "a whole number above 0", 20),
    "feed_items": (_is_positive_int, "a whole number above 0", 20),
    "feed_content": (lambda v: v in ("full", "summary"), '"full" or "summary"', "full"),
    "editions": (lambda v: v in ("daily", "weekly"), '"daily" or "weekly"', "daily"),
    "topics": (lambda v: isinstance(v, list), "[[topics]] tables", []),
    "feeds": (lambda v: isinstance(v, list), "[[feeds]] tables", []),
    "fetch": (lambda v: isinstance(v, dict), "a [fetch] table", {}),
    "stories": (lambda v: isinstance(v, dict), "a [stories] table", {}),
}
_FEED: dict[str, tuple[Callable[[object], bool], str, object]] = {
    "name": (lambda v: isinstance(v, str) and bool(v.strip()), "a non-empty string", None),
    "url": (_is_text, 'an http(s) URL such as "https://example.org/feed.xml"', None),
    "topics": (_is_terms, 'a list of topic titles, e.g. ["War in Ukraine"]', []),
    "full_text": (lambda v: isinstance(v, bool), "true or false", False),
    "include": (_is_terms, 'a list of terms, e.g. ["Russia", "China"]', []),
    "exclude": (_is_terms, 'a list of terms, e.g. ["sport"]', []),
}
_FETCH: dict[str, tuple[Callable[[object], bool], str, object]] = {
    "timeout": (
        lambda v: isinstance(v, int | float) and not isinstance(v, bool) and v > 0,
        "a number of seconds above 0",
        20.0,
    ),
    "max_bytes": (_is_positive_int, "a whole number of bytes above 0", 10_000_000),
    "concurrency": (_is_positive_int, "a whole number above 0", 8),
    "per_host": (_is_positive_int, "a whole number above 0", 2),
}
_STORIES: dict[str, tuple[Callable[[object], bool], str, object]] = {
    "enabled": (lambda v: isinstance(v, bool), "true or false", True),
    "window": (lambda v: _is_positive_int(v) or v == 0, "a whole number of days, 0 or more", 3),
    "threshold": (
        lambda v: isinstance(v, int | float) and not isinstance(v, bool) and 0 < v <= 1,
        "a number above 0 and at most 1",
        0.12,
    ),
}
_TOPIC: dict[str, tuple[Callable[[object], bool], str, object]] = {
    "title": (lambda v: isinstance(v, str) and bool(v.strip()), "a non-empty string", None),
    "slug": (lambda v: isinstance(v, str) and bool(_slug(v)), "a URL-safe name", None),
    "description": (_is_text, "a string", ""),
    "require": (_is_groups, 'a list of term lists, e.g. [["Russia", "Moscow"], ["China"]]', []),
    "exclude": (_is_terms, 'a list of terms, e.g. ["quiz"]', []),
    "threshold": (_is_positive_int, "a whole number above 0", 1),
}


class _Reader:
    """Validates the parsed TOML, collecting problems with their line numbers."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.lines = _key_lines(text)
        self.problems: list[Problem] = []

    def problem(self, where: tuple[str, ...], message: str, hint: str) -> None:
        line = self.lines.get(where) or self.lines.get(where[:-1])
        self.problems.append(Problem(self.path, message, hint, line))

    def table(
        self,
        data: dict[str, Any],
        schema: dict[str, tuple[Callable[[object], bool], str, object]],
        where: tuple[str, ...],
        label: str,
    ) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for key, value in data.items():
            if key not in schema:
                import difflib

                close = difflib.get_close_matches(key, list(schema), n=1)
                hint = (
                    f"did you mean '{close[0]}'?" if close else f"known keys: {', '.join(schema)}"
                )
                self.problem((*where, key), f"unknown key '{key}' in {label}", hint)
            elif not schema[key][0](value):
                self.problem((*where, key), f"'{key}' must be {schema[key][1]}", "fix its value")
            else:
                values[key] = value
        for key, (_, expected, default) in schema.items():
            if key not in data and default is None and key != "slug":
                self.problem(
                    where or ("",), f"missing '{key}' in {label}", f"add {key} = {expected}"
                )
            values.setdefault(key, default)
        return values

    def config(self, root: Path, data: dict[str, Any]) -> Config | None:
        site = self.table(data, _SITE, (), FILENAME)
        base_url = site["base_url"]
        if isinstance(base_url, str):
            parts = urlsplit(base_url)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                self.problem(
                    ("base_url",),
                    f"base_url '{base_url}' is not an absolute http(s) URL",
                    'write it like "https://example.org/digest/"',
                )
            base_url = base_url.rstrip("/") + "/"
        try:
            timezone = ZoneInfo(site["timezone"])
        except (ZoneInfoNotFoundError, ValueError):
            self.problem(
                ("timezone",),
                f"unknown timezone '{site['timezone']}'",
                'use an IANA name such as "UTC" or "Europe/Moscow"',
            )
            timezone = ZoneInfo("UTC")
        folders = {k: self.folder(root, k, site[k]) for k in ("inbox", "articles", "output")}
        output = folders["output"]
        for key in ("inbox", "articles"):
            if output == folders[key] or output in folders[key].parents:
                self.problem(
                    ("output",),
                    f"output folder would contain the {key} folder",
                    "build into a folder of its own, such as site",
                )
        topics = tuple(self.topics(site["topics"]))
        feeds = tuple(self.feeds(site["feeds"]))
        fetch = self.table(site["fetch"], _FETCH, ("fetch",), "[fetch]")
        stories = self.table(site["stories"], _STORIES, ("stories",), "[stories]")
        if self.problems:
            return None
        return Config(
            root=root,
            title=site["title"],
            description=site["description"],
            base_url=base_url,
            language=site["language"],
            timezone=timezone,
            inbox=folders["inbox"],
            articles=folders["articles"],
            output=output,
            templates=root / "templates",
            per_page=site["per_page"],
            feed_items=site["feed_items"],
            feed_content=site["feed_content"],
            topics=topics,
            feeds=feeds,
            fetching=Fetching(
                timeout=float(fetch["timeout"]),
                max_bytes=fetch["max_bytes"],
                concurrency=fetch["concurrency"],
                per_host=fetch["per_host"],
            ),
            stories=Stories(stories["enabled"], stories["window"], float(stories["threshold"])),
            editions=site["editions"],
        )

    def folder(self, root: Path, key: str, value: str) -> Path:
        path = (root / value).resolve()
        if path == root or root not in path.parents:
            self.problem(
                (key,), f"'{key}' must be a folder inside the project", "use a path such as site"
            )
        return path

    def feeds(self, tables: list[Any]) -> list[Feed]:
        feeds: list[Feed] = []
        urls: set[str] = set()
        for index, table in enumerate(tables):
            where = ("feeds", str(index))
            if not isinstance(table, dict):
                self.problem(where, "each feed must be a [[feeds]] table", "see the README")
                continue
            values = self.table(table, _FEED, where, "[[feeds]]")
            url = values["url"]
            if not isinstance(url, str) or not isinstance(values["name"], str):
                continue
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                self.problem((*where, "url"), f"feed url '{url}' is not an http(s) URL", "fix it")
                continue
            if url in urls:
                self.problem((*where, "url"), f"feed {url} is listed twice", "remove one")
            urls.add(url)
            feeds.append(
                Feed(
                    name=values["name"].strip(),
                    url=url,
                    topics=tuple(values["topics"]),
                    full_text=values["full_text"],
                    include=tuple(values["include"]),
                    exclude=tuple(values["exclude"]),
                )
            )
        return feeds

    def topics(self, tables: list[Any]) -> list[TopicRule]:
        rules: list[TopicRule] = []
        seen: dict[str, str] = {}
        for index, table in enumerate(tables):
            where = ("topics", str(index))
            if not isinstance(table, dict):
                self.problem(where, "each topic must be a [[topics]] table", "see the README")
                continue
            values = self.table(table, _TOPIC, where, "[[topics]]")
            if not isinstance(values["title"], str):
                continue
            slug = _slug(values["slug"] or values["title"]) or f"topic-{index + 1}"
            if slug in seen:
                self.problem(
                    (*where, "title"),
                    f"topic '{values['title']}' has the same slug '{slug}' as '{seen[slug]}'",
                    "give one of them its own slug",
                )
            seen[slug] = values["title"]
            rules.append(
                TopicRule(
                    title=values["title"].strip(),
                    slug=slug,
                    description=values["description"],
                    require=tuple(tuple(group) for group in values["require"]),
                    exclude=tuple(values["exclude"]),
                    threshold=values["threshold"],
                )
            )
        return rules


_HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.-]+)\s*\]\]?")
_KEY = re.compile(r"^\s*([A-Za-z0-9_-]+)\s*=")


def _key_lines(text: str) -> dict[tuple[str, ...], int]:
    """Map each key to the line it is on, for messages (tomllib gives no positions).

    Keys are addressed as ``("base_url",)``, ``("topics", "0")`` for a table's
    header and ``("topics", "0", "title")`` for a key in it.
    """
    lines: dict[tuple[str, ...], int] = {}
    table: tuple[str, ...] = ()
    counts: dict[str, int] = {}
    depth = 0  # inside a multi-line array, keys are values, not keys
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.split("#", 1)[0]
        if depth == 0 and (header := _HEADER.match(stripped)):
            name = header.group(2)
            if header.group(1) == "[[":
                counts[name] = counts.get(name, -1) + 1
                table = (name, str(counts[name]))
            else:
                table = (name,)
            lines.setdefault(table, number)
        elif depth == 0 and (key := _KEY.match(stripped)):
            lines.setdefault((*table, key.group(1)), number)
        depth = max(0, depth + stripped.count("[") - stripped.count("]"))
    return lines


def add_feeds(root: Path, feeds: list[tuple[str, str]]) -> None:
    """Append ``[[feeds]]`` tables to digest.toml, keeping its comments and layout.

    tomlkit writes any text as valid TOML (an emoji in a title included), and the
    file is replaced whole, so a crash never leaves a half-written settings file.
    """
    if not feeds:
        return
    import tomlkit

    path = root / FILENAME
    document = tomlkit.parse(path.read_text(encoding="utf-8"))
    tables = document.get("feeds")
    if tables is None:
        tables = document["feeds"] = tomlkit.aot()
    for name, url in feeds:
        table = tomlkit.table()
        table.add("name", name)
        table.add("url", url)
        tables.append(table)
    atomic.write_text(path, tomlkit.dumps(document))

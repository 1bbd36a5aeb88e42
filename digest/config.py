"""digest.toml → a frozen `Config`; every unknown key and bad value reported at once.

Each setting is declared once, as a field of the record it fills, with its default,
its check and what a good value looks like (`setting`); reading, validation and every
message are driven from those declarations.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
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
_REQUIRED = object()
"""The default of a setting that must be given."""


def _is_text(value: object) -> bool:
    return isinstance(value, str)


def _is_name(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _is_bool(value: object) -> bool:
    return isinstance(value, bool)


def _is_positive_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _is_positive_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 0


def _is_terms(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(t, str) and t.strip() for t in value)


def _is_groups(value: object) -> bool:
    return isinstance(value, list) and bool(value) and all(_is_terms(g) and g for g in value)


def _slug(text: str) -> str:
    from slugify import slugify  # loaded only for projects with topics

    return str(slugify(text))


def setting(
    default: object,
    check: Callable[[object], bool],
    expect: str,
    *,
    read: Callable[[Any], Any] | None = None,
    key: str = "",
    own: bool = True,
) -> Any:
    """Declare a setting: ``default`` as written in digest.toml (`_REQUIRED` for none),
    ``check`` for a value read, ``expect`` for the message when it fails, ``read`` to turn
    a good value into the field's type, ``key`` when the TOML key is not the field's name.
    With ``own``, the default is also the record's own (``Fetching()`` has the defaults);
    without, only the reader fills the field.
    """
    meta = {"check": check, "expect": expect, "read": read, "key": key, "default": default}
    if default is _REQUIRED or not own:
        return field(metadata=meta)
    if isinstance(default, list):
        return field(default=tuple(default), metadata=meta)
    return field(default=default, metadata=meta)


def _terms(value: list[str]) -> tuple[str, ...]:
    return tuple(value)


@dataclass(frozen=True, slots=True)
class TopicRule:
    """A topic and the readable rule that decides which articles belong to it."""

    title: str = setting(_REQUIRED, _is_name, "a non-empty string", read=str.strip)
    slug: str = setting("", lambda v: isinstance(v, str) and bool(_slug(v)), "a URL-safe name")
    """Made from the title when not given."""
    description: str = setting("", _is_text, "a string")
    require: tuple[tuple[str, ...], ...] = setting(
        [],
        _is_groups,
        'a list of term lists, e.g. [["Russia", "Moscow"], ["China"]]',
        read=lambda groups: tuple(tuple(g) for g in groups),
    )
    """Term groups: at least one term of every group must appear (whole words)."""
    exclude: tuple[str, ...] = setting([], _is_terms, 'a list of terms, e.g. ["quiz"]', read=_terms)
    """Any of these terms keeps an article out."""
    threshold: int = setting(1, _is_positive_int, "a whole number above 0")
    """Minimum score: each hit counts 1 in the body and `TITLE_WEIGHT` in the title."""


@dataclass(frozen=True, slots=True)
class Feed:
    """A subscription: an RSS, Atom or JSON feed to pull articles from."""

    name: str = setting(_REQUIRED, _is_name, "a non-empty string", read=str.strip)
    """Recorded as each article's ``source``."""
    url: str = setting(_REQUIRED, _is_text, 'an http(s) URL such as "https://example.org/feed.xml"')
    topics: tuple[str, ...] = setting(
        [], _is_terms, 'a list of topic titles, e.g. ["War in Ukraine"]', read=_terms
    )
    """Topics given to every article of this feed, besides those the rules give."""
    full_text: bool = setting(False, _is_bool, "true or false")
    """Fetch each item's page and extract its main text (for summary-only feeds)."""
    include: tuple[str, ...] = setting(
        [], _is_terms, 'a list of terms, e.g. ["Russia", "China"]', read=_terms
    )
    """Keep only items whose title or body has one of these terms (whole words)."""
    exclude: tuple[str, ...] = setting(
        [], _is_terms, 'a list of terms, e.g. ["sport"]', read=_terms
    )
    """Drop items whose title or body has one of these terms."""


@dataclass(frozen=True, slots=True)
class Fetching:
    """Politeness and safety limits for HTTP (``[fetch]``)."""

    timeout: float = setting(20.0, _is_positive_number, "a number of seconds above 0", read=float)
    """Seconds for a whole request, body included (a slow drip is cut off too)."""
    max_bytes: int = setting(10_000_000, _is_positive_int, "a whole number of bytes above 0")
    """Largest body accepted, after decompression."""
    concurrency: int = setting(8, _is_positive_int, "a whole number above 0")
    per_host: int = setting(2, _is_positive_int, "a whole number above 0")
    max_items: int = setting(100, _is_positive_int, "a whole number above 0")
    """New items read from one feed per build: its newest; the rest are reported skipped."""
    allow_private_networks: bool = setting(False, _is_bool, "true or false")
    """Let feeds and pages send digest to loopback and private addresses (SSRF)."""


@dataclass(frozen=True, slots=True)
class Stories:
    """Grouping the reports of one event (digest.stories); the defaults meet docs/stories.md."""

    enabled: bool = setting(True, _is_bool, "true or false")
    window: int = setting(
        3, lambda v: _is_positive_int(v) or v == 0, "a whole number of days, 0 or more"
    )
    """Days over which two reports' similarity fades to nothing."""
    threshold: float = setting(
        0.12,
        lambda v: _is_positive_number(v) and v <= 1,  # type: ignore[operator]
        "a number above 0 and at most 1",
        read=float,
    )
    """Least average similarity between two groups of reports for them to be one story."""


def _site(default: object, check: Callable[[object], bool], expect: str, key: str = "") -> Any:
    """A top-level setting: the reader turns it into the field's type (a zone, a path)."""
    return setting(default, check, expect, key=key, own=False)


def _site_folder(default: str) -> Any:
    return _site(default, _is_text, "a folder inside the project")


@dataclass(frozen=True, slots=True)
class Config:
    """The project's settings, with paths made absolute."""

    root: Path
    templates: Path
    """The project's own templates, which override the default theme's."""
    title: str = _site("My digest", _is_text, "a string")
    description: str = _site("", _is_text, "a string")
    base_url: str = _site(
        _REQUIRED, _is_text, 'an absolute URL such as "https://example.org/digest/"'
    )
    """Absolute, ending with ``/``."""
    language: str = _site("en", _is_text, 'a language tag such as "en"')
    timezone: ZoneInfo = _site("UTC", _is_text, 'an IANA zone such as "Europe/Berlin"')
    inbox: Path = _site_folder("content/inbox")
    articles: Path = _site_folder("content/articles")
    output: Path = _site_folder("site")
    per_page: int = _site(20, _is_positive_int, "a whole number above 0")
    feed_items: int = _site(20, _is_positive_int, "a whole number above 0")
    feed_content: str = _site("full", lambda v: v in ("full", "summary"), '"full" or "summary"')
    """``full`` (the whole article in each feed item) or ``summary``."""
    editions: str = _site("daily", lambda v: v in ("daily", "weekly"), '"daily" or "weekly"')
    """``daily``, or ``weekly`` (ISO weeks): the span of one edition, in the site's timezone."""
    topics: tuple[TopicRule, ...] = _site([], lambda v: isinstance(v, list), "[[topics]] tables")
    feeds: tuple[Feed, ...] = _site([], lambda v: isinstance(v, list), "[[feeds]] tables")
    fetching: Fetching = _site({}, lambda v: isinstance(v, dict), "a [fetch] table", "fetch")
    stories: Stories = _site({}, lambda v: isinstance(v, dict), "a [stories] table")

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


class _Reader:
    """Validates the parsed TOML against the declarations, collecting problems with lines."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.lines = _key_lines(text)
        self.problems: list[Problem] = []

    def problem(self, where: tuple[str, ...], message: str, hint: str) -> None:
        line = self.lines.get(where) or self.lines.get(where[:-1])
        self.problems.append(Problem(self.path, message, hint, line))

    def table(
        self, data: dict[str, Any], record: type, where: tuple[str, ...], label: str
    ) -> dict[str, Any]:
        """The settings of ``record`` found in ``data`` (defaults for the others), by field
        name, each checked and read; unknown keys and missing required ones are problems."""
        declared = {
            f.metadata["key"] or f.name: f for f in dataclasses.fields(record) if f.metadata
        }
        for key in data:
            if key not in declared:
                import difflib

                close = difflib.get_close_matches(key, list(declared), n=1)
                hint = (
                    f"did you mean '{close[0]}'?" if close else f"known keys: {', '.join(declared)}"
                )
                self.problem((*where, key), f"unknown key '{key}' in {label}", hint)
        values: dict[str, Any] = {}
        for key, declaration in declared.items():
            meta = declaration.metadata
            value = data.get(key, meta["default"])
            if value is _REQUIRED:
                self.problem(
                    where or ("",), f"missing '{key}' in {label}", f"add {key} = {meta['expect']}"
                )
            elif key in data and not meta["check"](value):
                self.problem((*where, key), f"'{key}' must be {meta['expect']}", "fix its value")
                value = _REQUIRED
            elif meta["read"] is not None:
                value = meta["read"](value)
            values[declaration.name] = value
        return values

    def config(self, root: Path, data: dict[str, Any]) -> Config | None:
        site = self.table(data, Config, (), FILENAME)
        base_url = site["base_url"]
        if isinstance(base_url, str):
            parts = urlsplit(base_url)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                self.problem(
                    ("base_url",),
                    f"base_url '{base_url}' is not an absolute http(s) URL",
                    'write it like "https://example.org/digest/"',
                )
            site["base_url"] = base_url.rstrip("/") + "/"
        if isinstance(site["timezone"], str):
            try:
                site["timezone"] = ZoneInfo(site["timezone"])
            except (ZoneInfoNotFoundError, ValueError):
                self.problem(
                    ("timezone",),
                    f"unknown timezone '{site['timezone']}'",
                    'use an IANA name such as "UTC" or "Europe/Moscow"',
                )
        for key in ("inbox", "articles", "output"):
            if isinstance(site[key], str):
                site[key] = self.folder(root, key, site[key])
        output = site["output"]
        # A build empties its output folder: none of the user's own folders may be it.
        mine = {k: site[k] for k in ("inbox", "articles")}
        mine |= {k: root / k for k in ("content", "templates", ".digest", ".git")}
        for key, folder in mine.items():
            if not isinstance(output, Path) or not isinstance(folder, Path):
                continue
            if output == folder or output in folder.parents:
                what = f"would contain the {key} folder"
            elif folder in output.parents:
                what = f"is inside the {key} folder"
            else:
                continue
            self.problem(
                ("output",), f"output folder {what}", "build into a folder of its own, such as site"
            )
            break
        site["topics"] = tuple(self.topics(site["topics"]))
        site["feeds"] = tuple(self.feeds(site["feeds"]))
        site["fetching"] = self.record(site["fetching"], Fetching, "fetch")
        site["stories"] = self.record(site["stories"], Stories, "stories")
        if self.problems:
            return None
        return Config(root=root, templates=root / "templates", **site)

    def record(self, data: object, record: type[Any], key: str) -> Any:
        if not isinstance(data, dict):
            return record()
        return record(**self.table(data, record, (key,), f"[{key}]"))

    def folder(self, root: Path, key: str, value: str) -> Path:
        path = (root / value).resolve()
        if path == root or root not in path.parents:
            self.problem(
                (key,), f"'{key}' must be a folder inside the project", "use a path such as site"
            )
        return path

    def tables(self, tables: object, key: str, record: type) -> list[tuple[int, dict[str, Any]]]:
        """Each ``[[key]]`` table's settings, with its place; bad tables are problems."""
        found = []
        for index, table in enumerate(tables if isinstance(tables, list) else []):
            where = (key, str(index))
            if not isinstance(table, dict):
                self.problem(where, f"each {key[:-1]} must be a [[{key}]] table", "see the README")
                continue
            before = len(self.problems)
            values = self.table(table, record, where, f"[[{key}]]")
            if len(self.problems) == before:
                found.append((index, values))
        return found

    def feeds(self, tables: object) -> list[Feed]:
        feeds: list[Feed] = []
        urls: set[str] = set()
        for index, values in self.tables(tables, "feeds", Feed):
            where = ("feeds", str(index))
            url = values["url"]
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                self.problem((*where, "url"), f"feed url '{url}' is not an http(s) URL", "fix it")
                continue
            if url in urls:
                self.problem((*where, "url"), f"feed {url} is listed twice", "remove one")
            urls.add(url)
            feeds.append(Feed(**values))
        return feeds

    def topics(self, tables: object) -> list[TopicRule]:
        rules: list[TopicRule] = []
        seen: dict[str, str] = {}
        for index, values in self.tables(tables, "topics", TopicRule):
            slug = _slug(values["slug"] or values["title"]) or f"topic-{index + 1}"
            if slug in seen:
                self.problem(
                    ("topics", str(index), "title"),
                    f"topic '{values['title']}' has the same slug '{slug}' as '{seen[slug]}'",
                    "give one of them its own slug",
                )
            seen[slug] = values["title"]
            rules.append(TopicRule(**(values | {"slug": slug})))
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

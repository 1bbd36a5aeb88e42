"""content/articles: the digest's archive and source of truth.

`load` reads every article file; `persist` stores imported articles, updating
an article in place (same id, same file) when its inbox file changed, and never
overwriting one a person has edited.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from slugify import slugify

from digest import frontmatter
from digest.config import Config
from digest.errors import ContentError, Problem
from digest.model import Article
from digest.sources.files import is_ignored


@dataclass(frozen=True, slots=True)
class Stored:
    """An article file as found on disk."""

    article: Article
    text: str
    untouched: bool
    """Written by digest and not edited since: digest may rewrite it."""


@dataclass(frozen=True, slots=True)
class Persisted:
    """What `persist` did."""

    articles: list[Article]
    """Every article of the archive afterwards, newest first."""
    status: dict[str, str]
    """For each import (by inbox path, or by id for a feed item): new, updated or unchanged."""
    notes: list[Problem]

    def count(self, keys: Iterable[str], status: str) -> int:
        return sum(1 for key in keys if self.status.get(key) == status)


def load(config: Config) -> tuple[list[Stored], list[Problem]]:
    """Read every ``.md`` file under the articles folder; bad ones become problems."""
    stored: list[Stored] = []
    problems: list[Problem] = []
    if not config.articles.is_dir():
        return stored, problems
    for path in sorted(config.articles.rglob("*.md")):
        rel = path.relative_to(config.articles)
        if is_ignored(rel) or any(part.startswith(".") for part in rel.parts):
            continue
        shown = path.relative_to(config.root)
        try:
            text = path.read_text(encoding="utf-8")
            article = frontmatter.parse(text, shown, rel.as_posix(), config.timezone)
        except UnicodeDecodeError:
            problems.append(Problem(shown, "not UTF-8 text", "save the file as UTF-8"))
            continue
        except OSError as exc:
            problems.append(Problem(shown, f"cannot read: {exc.strerror}", "check the file"))
            continue
        except ContentError as exc:
            problems.extend(exc.problems)
            continue
        stored.append(Stored(article, text, frontmatter.is_untouched(text)))
    return _unique_ids(stored, problems, config), problems


def _unique_ids(stored: list[Stored], problems: list[Problem], config: Config) -> list[Stored]:
    """Keep the first file of each id; a copied file would make two feed items one."""
    first: dict[str, str] = {}
    kept = []
    for item in stored:
        owner = first.setdefault(item.article.id, item.article.path)
        if owner == item.article.path:
            kept.append(item)
            continue
        problems.append(
            Problem(
                config.articles.relative_to(config.root) / item.article.path,
                f"id {item.article.id} is already used by {owner}",
                "remove the id line so digest mints a new one, or delete the copy",
            )
        )
    return kept


def key(article: Article) -> str:
    """How an import is known across builds: its inbox file, or a feed item's id."""
    return article.origin.path if article.origin and article.origin.path else article.id


def persist(
    config: Config, imported: Iterable[Article], stored: list[Stored], *, now: datetime
) -> Persisted:
    """Store imported articles; return every article of the archive afterwards.

    An inbox file's article is found again by the file's path, a feed item's by
    its id. The same article from a second feed (same canonical URL) is stored
    once, with the second source added to ``also``. A changed feed item keeps
    its id and publication date and gets ``updated`` bumped (to the feed's
    value, else ``now``). A file a person edited is never rewritten.
    """
    archive = _Index(config, stored)
    status: dict[str, str] = {}
    notes: list[Problem] = []
    for article in imported:
        origin = article.origin
        if origin is None:  # only imports come here; they always have one
            continue
        name = key(article)
        old = archive.by_origin.get(origin.path) if origin.path else archive.by_id.get(article.id)
        if old is None:
            twin = archive.by_id.get(article.id) or archive.by_url.get(article.url or "-")
            if twin is None:
                article = replace(article, path=_free_path(article, archive.by_path, config))
                archive.save(article, frontmatter.dump(article))
                status[name] = "new"
            elif article.feed and twin.article.feed:
                status[name] = "unchanged"
                also = (*twin.article.also, article.source)
                if twin.untouched and article.source not in (
                    twin.article.source,
                    *twin.article.also,
                ):
                    merged = replace(twin.article, also=also)
                    archive.save(merged, frontmatter.dump(merged))
                    status[name] = "updated"
            else:
                notes.append(
                    Problem(
                        origin.path or article.feed,
                        f"same article as {twin.article.path}; not imported",
                    )
                )
            continue
        article = replace(article, id=old.article.id, path=old.article.path)
        incoming = article.updated
        if article.feed:  # keep what was decided when the item was first seen
            article = replace(
                article,
                published=old.article.published,
                updated=old.article.updated,
                also=old.article.also,
            )
        text = frontmatter.dump(article)
        if text == old.text:
            status[name] = "unchanged"
            continue
        if not old.untouched:
            status[name] = "unchanged"
            if old.article.origin and old.article.origin.sha256 != origin.sha256:
                notes.append(
                    Problem(
                        config.articles.relative_to(config.root) / old.article.path,
                        "edited by hand, so not updated from the changed "
                        + (origin.path or article.feed),
                        "delete the article file to import the new version",
                    )
                )
            continue
        if article.feed:
            floor = old.article.updated or old.article.published
            article = replace(article, updated=incoming if incoming and incoming > floor else now)
            text = frontmatter.dump(article)
        archive.save(article, text)
        status[name] = "updated"
    articles = [s.article for s in archive.by_path.values()]
    articles.sort(key=lambda a: (a.published, a.id), reverse=True)
    return Persisted(articles, status, notes)


class _Index:
    """The stored articles by path, id, inbox file and URL, kept current as files are saved."""

    def __init__(self, config: Config, stored: list[Stored]) -> None:
        self.config = config
        self.by_path = {s.article.path: s for s in stored}
        self.by_id = {s.article.id: s for s in stored}
        self.by_origin = {
            s.article.origin.path: s for s in stored if s.article.origin and s.article.origin.path
        }
        self.by_url = {s.article.url: s for s in stored if s.article.url}

    def save(self, article: Article, text: str) -> None:
        _write(self.config.articles / article.path, text)
        item = Stored(article, text, True)
        self.by_path[article.path] = item
        self.by_id[article.id] = item
        if article.origin and article.origin.path:
            self.by_origin[article.origin.path] = item
        if article.url:
            self.by_url[article.url] = item


def _free_path(article: Article, taken: dict[str, Stored], config: Config) -> str:
    """``YYYY/MM/slug.md``, unique; the slug comes from the untrusted title, made safe."""
    stem = slugify(article.title, max_length=80, word_boundary=True) or article.id[:8]
    folder = f"{article.published:%Y/%m}"
    for candidate in (f"{folder}/{stem}.md", f"{folder}/{stem}-{article.id[:8]}.md"):
        if candidate not in taken and not (config.articles / candidate).exists():
            return candidate
    return f"{folder}/{article.id}.md"


def _write(path: Path, text: str) -> None:
    """Write atomically: a crash leaves the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise

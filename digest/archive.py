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
    new: int
    updated: int
    unchanged: int
    notes: list[Problem]
    settled: frozenset[str]
    """Inbox files whose article was already stored as is: nothing new to say about them."""


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


def persist(config: Config, imported: Iterable[Article], stored: list[Stored]) -> Persisted:
    """Store imported articles; return every article of the archive afterwards."""
    by_origin = {s.article.origin.path: s for s in stored if s.article.origin}
    by_path = {s.article.path: s for s in stored}
    ids = {s.article.id: s.article.path for s in stored}
    notes: list[Problem] = []
    settled: set[str] = set()
    new = updated = unchanged = 0
    for article in imported:
        origin = article.origin
        if origin is None:  # only imports come here; they always have one
            continue
        old = by_origin.get(origin.path)
        if old is None:
            if article.id in ids:
                notes.append(
                    Problem(origin.path, f"same article as {ids[article.id]}; not imported")
                )
                continue
            article = replace(article, path=_free_path(article, by_path, config))
            _write(config.articles / article.path, frontmatter.dump(article))
            by_path[article.path] = Stored(article, "", True)
            ids[article.id] = article.path
            new += 1
            continue
        article = replace(article, id=old.article.id, path=old.article.path)
        text = frontmatter.dump(article)
        if text == old.text:
            unchanged += 1
            settled.add(origin.path)
        elif not old.untouched:
            if old.article.origin and old.article.origin.sha256 != origin.sha256:
                notes.append(
                    Problem(
                        config.articles.relative_to(config.root) / old.article.path,
                        f"edited by hand, so not updated from the changed {origin.path}",
                        "delete the article file to import the new version",
                    )
                )
            unchanged += 1
            continue
        else:
            _write(config.articles / article.path, text)
            updated += 1
        by_path[article.path] = Stored(article, text, True)
    articles = [s.article for s in by_path.values()]
    articles.sort(key=lambda a: (a.published, a.id), reverse=True)
    return Persisted(articles, new, updated, unchanged, notes, frozenset(settled))


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

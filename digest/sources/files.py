"""Inbox files → `Article` records: text dumps, saved HTML pages and Markdown notes.

Inbox files are only read, never modified or deleted.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace
from datetime import date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING

from digest import frontmatter
from digest.config import Config
from digest.errors import ContentError, Problem
from digest.model import Article, Origin, http_url, mint_id, plain, renderable

if TYPE_CHECKING:
    from digest.clean.furniture import SiteFurniture

KINDS = {
    ".txt": "text",
    ".html": "html",
    ".htm": "html",
    ".md": "markdown",
    ".markdown": "markdown",
}


HIDDEN = (".", "~", "#")
"""How the names of hidden files and editors' lock files start."""


def is_ignored(path: Path | str) -> bool:
    """Hidden files and editors' swap, backup and temporary files."""
    name = path if isinstance(path, str) else path.name
    return name.startswith(HIDDEN) or name.endswith(("~", ".swp", ".tmp", ".part"))


def read_inbox(
    config: Config, furniture: SiteFurniture | None = None
) -> tuple[list[Article], list[Problem], list[Problem]]:
    """Import every inbox file; return articles, problems (files skipped) and notes.

    Every saved page is read once before any is cleaned, so ``furniture`` (made
    here when not given, and updated) knows the lines each site repeats on them.
    """
    from digest.clean.furniture import SiteFurniture

    articles: list[Article] = []
    problems: list[Problem] = []
    notes: list[Problem] = []
    if not config.inbox.is_dir():
        return articles, problems, notes
    paths = [
        path
        for path in sorted(config.inbox.rglob("*"))
        if path.is_file() and not is_ignored(path.relative_to(config.inbox))
    ]
    furniture = SiteFurniture() if furniture is None else furniture
    for path in paths:
        if KINDS.get(path.suffix.lower()) in ("text", "html"):
            _learn(path, furniture)
    for path in paths:
        if path.suffix.lower() not in KINDS:
            notes.append(Problem(_show(path, config), "ignored: not a .txt, .html or .md file"))
            continue
        try:
            article, said = import_file(path, config, furniture)
        except ContentError as exc:
            problems.extend(exc.problems)
            continue
        except Exception as exc:  # a stranger's page must not stop the build
            what = f"could not import it: {type(exc).__name__}: {exc}"
            problems.append(Problem(_show(path, config), what, "please report it"))
            continue
        articles.append(article)
        notes.extend(Problem(_show(path, config), note) for note in said)
    return articles, problems, notes


def _learn(path: Path, furniture: SiteFurniture) -> None:
    from digest.clean.furniture import page_lines, site_of

    kind = KINDS[path.suffix.lower()]
    try:
        text = _decode(path.read_bytes())
    except OSError:
        return  # import_file says why
    furniture.learn(site_of(text, kind), page_lines(text, kind))


def _show(path: Path, config: Config) -> str:
    return path.relative_to(config.root).as_posix() if config.root in path.parents else str(path)


UNSURE = "no block is clearly the article: the page's text is kept whole"


def import_file(
    path: Path, config: Config, furniture: SiteFurniture | None = None
) -> tuple[Article, tuple[str, ...]]:
    """Clean one file into an article (not yet stored), with notes for the user.

    When the cleaner cannot tell the article from the rest of the page, the
    article carries ``check:`` in its front matter and a note says so.
    """
    from digest import clean  # its rules take a while to compile; a build without imports skips it
    from digest.clean.furniture import site_of

    shown = _show(path, config)
    try:
        data = path.read_bytes()
        saved = datetime.fromtimestamp(path.stat().st_mtime, config.timezone).date()
    except OSError as exc:
        raise ContentError(
            Problem(shown, f"cannot read: {exc.strerror}", "check the file")
        ) from None
    digest = hashlib.sha256(data).hexdigest()
    origin = Origin(path=shown, sha256=digest)
    name_date = _date_in_name(path.name)
    kind = KINDS[path.suffix.lower()]
    if kind == "markdown":
        text = _decode(data)
        heading = re.match(r"(?:---\n.*?\n---\s*)?#[ \t]+([^\n]+)", text, re.DOTALL)
        defaults: dict[str, object] = {
            "title": heading.group(1).strip() if heading else _title_from_name(path),
            "date": name_date or saved,
        }
        article = frontmatter.parse(text, Path(shown), "", config.timezone, defaults)
        body = article.body
        first, _, rest = body.partition("\n")
        if first.startswith("# ") and first[2:].strip() == article.title.strip():
            body = rest
        url = http_url(article.url)
        key = f"url:{url}" if url else f"sha256:{digest}"
        meta, _, _ = frontmatter.split(text, Path(shown))
        article = replace(  # frontmatter.parse made the metadata plain text already
            article,
            url=url,
            id=str(meta["id"]) if meta.get("id") else mint_id(key),
            body=clean.safe_markdown(body, url).strip(),
            summary=article.summary or clean.summarize(_first_block(body)),
            origin=origin,
        )
        return article, ()
    text = _decode(data)
    known = furniture.lines(site_of(text, kind)) if furniture else frozenset()
    if kind == "html":
        extract = clean.clean_html(text, furniture=known)
    else:
        extract = clean.clean_text(text, name_date=name_date, saved=saved, furniture=known)
    if not extract.body.strip():
        raise ContentError(
            Problem(shown, "no article text found", "check that the file is a saved article page")
        )
    published = extract.published or name_date or saved
    if not isinstance(published, datetime):
        published = datetime.combine(published, time())
    if published.tzinfo is None:
        published = published.replace(tzinfo=config.timezone)
    if not renderable(published):  # a stray date in year 1 or 9999: when the file was saved
        published = datetime.combine(saved, time(), tzinfo=config.timezone)
    key = f"url:{extract.url}" if extract.url else f"sha256:{digest}"
    article = Article(
        id=mint_id(key),
        title=extract.title or _title_from_name(path),
        published=published,
        body=extract.body,
        source=extract.source,
        url=extract.url,
        authors=extract.authors,
        summary=extract.summary,
        image=extract.image,
        origin=origin,
        extra={"check": f"{UNSURE} — edit it down to the article"} if extract.unsure else {},
    )
    if extract.unsure:
        return article, (*extract.notes, f"{UNSURE}: check the article")
    return article, extract.notes


def _first_block(markdown: str) -> str:
    """The words of the first paragraph (or heading) of a Markdown body, markup dropped
    (markdown-it reads raw HTML as text, and a summary is plain text without tags)."""
    from digest.text import blocks  # here: markdown-it loads in 20 ms, and most builds import none

    return plain(next(iter(blocks(markdown)), ""))


def _decode(data: bytes) -> str:
    """Text in whatever encoding the page was saved in; UTF-8 first."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        from charset_normalizer import from_bytes

        best = from_bytes(data).best()
        return str(best) if best is not None else data.decode("utf-8", errors="replace")


def _date_in_name(name: str) -> date | None:
    match = re.search(r"(?<!\d)(\d{4})[-_.]?(\d{2})[-_.]?(\d{2})(?!\d)", name)
    if not match:
        return None
    try:
        return date(*(int(g) for g in match.groups()))
    except ValueError:
        return None


def _title_from_name(path: Path) -> str:
    stem = re.sub(r"^\d{4}[-_.]?\d{2}[-_.]?\d{2}[-_ ]*", "", path.stem)
    return " ".join(re.split(r"[-_\s]+", stem)).strip().capitalize() or path.stem

"""Saved HTML pages: trafilatura finds the article, then its leftover furniture goes."""

from __future__ import annotations

import re
from datetime import date, datetime

from digest.clean.extract import Extract
from digest.clean.lines import Kind, classify, word_count
from digest.clean.markdown import MD_LINK, safe_markdown, summarize
from digest.model import http_url, plain


def clean_html(page: str, url: str = "") -> Extract:
    """Extract the main text and metadata of a saved HTML page with trafilatura."""
    import trafilatura

    doc = trafilatura.extract_with_metadata(
        page,
        url=url or None,
        output_format="markdown",
        include_comments=False,
        include_tables=True,
        include_links=True,
        include_formatting=True,
    )
    if doc is None:
        title = plain(_html_title(page))
        return Extract(title=title, body="", notes=("no article text found in the page",))
    body = re.sub(r"\A---\n.*?\n---\n", "", doc.text or "", flags=re.DOTALL)
    page_url = url or (doc.url or "")
    body = _drop_furniture(safe_markdown(body, page_url).strip(), plain(doc.title or ""))
    published: date | datetime | None = None
    if doc.date:
        try:
            published = date.fromisoformat(doc.date)
        except ValueError:
            published = None
    published = _published_time(page, published) or published
    authors = tuple(a for a in (plain(a) for a in re.split(r";|\band\b", doc.author or "")) if a)
    first = next((p for p in body.split("\n\n") if len(p.split()) > 8), body)
    return Extract(
        title=plain(doc.title or ""),
        body=body,
        published=published,
        source=plain(doc.sitename or ""),
        url=http_url(page_url),
        authors=authors,
        summary=plain(doc.description or "") or summarize(plain(MD_LINK.sub(r"\2", first))),
    )


# <meta property="article:published_time" content="…">, JSON-LD "datePublished": "…".
_PUBLISHED_META = re.compile(
    r"""<meta\b[^>]*?\b(?:property|name|itemprop)=["']?(?:article:published_time|og:pubdate"""
    r"""|pubdate|datePublished)["'\s][^>]*>"""
    r'|"datePublished"\s*:\s*"(?P<ld>[^"]+)"',
    re.IGNORECASE,
)


def _published_time(page: str, day: date | None) -> datetime | None:
    """The publication moment a page's metadata states, with its time zone.

    trafilatura gives a day, sometimes the local day of a human-readable date;
    the machine-readable timestamp is more precise, and the day it states (in
    its own zone) is the one the page's metadata means. Only a moment within
    a day of trafilatura's day is taken, so a stray related item's date cannot
    displace it.
    """
    for match in _PUBLISHED_META.finditer(page):
        value = match["ld"] or next(
            iter(re.findall(r"""\bcontent=["']([^"']+)""", match.group(0))), ""
        )
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            continue
        if moment.tzinfo is not None and (day is None or abs((moment.date() - day).days) <= 1):
            return moment
    return None


def _drop_furniture(markdown: str, title: str) -> str:
    """Drop the blocks trafilatura keeps that are not the article.

    Each block's text goes through the text-dump line rules: the headline
    again, ads, share and newsletter prompts, captions and credits, dates,
    "Related:" teasers and author contact lines go, and so do lists of links
    (related headlines).
    """
    kept: list[str] = []
    after_stop = False
    for block in markdown.split("\n\n"):
        text = _block_text(block)
        if not text or text.casefold() == title.casefold():
            continue
        kind = classify(text)
        links = sum(len(m.group(2)) for m in MD_LINK.finditer(block)) >= 0.8 * len(text)
        if kind in (Kind.STOP, Kind.COMMENTS) or _RELATED.match(text):
            after_stop = True
            continue
        if (
            kind in (Kind.JUNK, Kind.CAPTION, Kind.DATE)
            or (links and (after_stop or kind is not Kind.PROSE or block.lstrip().startswith("-")))
            or (word_count(text) <= 40 and ("mailto:" in block or _CONTACT.search(text)))
        ):
            continue
        after_stop = after_stop and links
        kept.append(block)
    return "\n\n".join(kept) or markdown  # never empty a page that had text


_RELATED = re.compile(
    r"^(?:related(?: \w+)?|tags?|see also|read (?:more|also|next)|more from \w+|explore further"
    r"|you (?:may|might) (?:also )?like)\s*(?::|\.\.\.|…|$)",
    re.IGNORECASE,
)
_CONTACT = re.compile(
    r"^(?:e-?mail|write to|contact|follow)\b.*(?:@|\bat\b)|\b[\w.+-]+@[\w-]+\.[\w.]+\b",
    re.IGNORECASE,
)


def _block_text(block: str) -> str:
    """The plain text of a Markdown block: link text kept, markup dropped."""
    text = MD_LINK.sub(r"\2", block)
    text = re.sub(r"^\s*(?:#+|[-*+>]|\d+\.)\s+", "", text, flags=re.MULTILINE)
    return " ".join(re.sub(r"[*_`\\]", "", text).split())


def _html_title(page: str) -> str:
    match = re.search(r"<title[^>]*>(.*?)</title>", page, re.IGNORECASE | re.DOTALL)
    return match.group(1) if match else ""

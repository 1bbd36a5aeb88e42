"""Markdown hygiene shared by every input: safe links, escaped text, summaries."""

from __future__ import annotations

import html
import re
from urllib.parse import urljoin, urlsplit

from digest.model import http_url, strip_tags

SUMMARY_CHARS = 280

# [text](target "title"); text may hold one level of brackets, a target one level of
# parentheses: (javascript:alert(1)). Neither part may hold its own opening bracket
# unpaired, so each attempt stops at the next one: linear time on "[[[[…" or "![![…".
MD_LINK = re.compile(
    r"(!?)\[((?:[^\[\]\n]|\[[^\[\]\n]*\])*)\]\(\s*<?((?:[^()\s>]|\([^()\s]*\))*)>?(?:\s+\"[^\"\n]*\")?\s*\)"
)
_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")


def safe_markdown(markdown: str, base_url: str = "", *, images: bool = False) -> str:
    """Make converted Markdown safe to store and render anywhere.

    Link targets become absolute against ``base_url``; links that cannot be made
    absolute, or use a scheme other than http(s)/mailto, keep only their text;
    images are dropped unless ``images`` (then kept only with an absolute http(s)
    source); anything that looks like an HTML tag is escaped so no other Markdown
    tool can run it.
    """

    def link(match: re.Match[str]) -> str:
        bang, text, target = match.groups()
        target = html.unescape(target)
        try:
            scheme = urlsplit(target).scheme.lower()
            if base_url and not scheme and not target.startswith("#"):
                target = urljoin(base_url, target)
        except ValueError:  # "http://[x": unbalanced brackets where a host would be
            return "" if bang else text
        target = target.replace(" ", "%20").replace("(", "%28").replace(")", "%29")
        if bang:
            return f"![{text}]({target})" if images and http_url(target) else ""
        if http_url(target) or scheme == "mailto":
            return f"[{text}]({target})"
        return text

    return _TAG_START.sub("&lt;", strip_tags(MD_LINK.sub(link, markdown)))


_NOT_CONTENT = ["script", "style", "iframe", "object", "embed", "noscript", "form", "template"]


def html_to_markdown(fragment: str, base_url: str = "") -> str:
    """Convert a feed item's HTML to safe Markdown with markdownify.

    Tables become GFM tables whose first row is the header; lists stay lists.
    Scripts, styles, frames, forms and tracking pixels (images of 1×1 or less)
    are dropped first; links and images end absolute against ``base_url``.
    """
    from bs4 import BeautifulSoup
    from markdownify import MarkdownConverter

    soup = BeautifulSoup(fragment, "lxml")
    for element in soup(_NOT_CONTENT):
        element.decompose()
    for image in soup("img"):
        size = [str(image.get(a, "")).removesuffix("px") for a in ("width", "height")]
        # At most 1, without int(): "²".isdigit() is true, and 5,000 digits are too many for it.
        if any(v.isascii() and v.isdigit() and v.lstrip("0") in ("", "1") for v in size):
            image.decompose()
    converter = MarkdownConverter(heading_style="ATX", bullets="-", table_infer_header=True)
    markdown = converter.convert_soup(soup)
    markdown = re.sub(r"\n{3,}", "\n\n", markdown).strip()
    return safe_markdown(markdown, base_url, images=True)


_MARKDOWN_CHARS = str.maketrans({c: "\\" + c for c in "\\`*_[]<>|"})


def escape_text(text: str) -> str:
    """Escape plain text so Markdown shows it verbatim (one paragraph per call)."""
    text = text.translate(_MARKDOWN_CHARS)
    text = re.sub(r"^(\s*)([#+-]|\d+[.)])(\s)", r"\1\\\2\3", text)
    return text.replace("&", "&amp;") if re.search(r"&#?\w+;", text) else text


def summarize(paragraph: str) -> str:
    """The first paragraph, cut at a word boundary to about `SUMMARY_CHARS`.

    A ``<`` left at the cut goes too: before the ellipsis it would read as a tag's start,
    and the summary would no longer be plain text (`digest.model.plain`).
    """
    text = " ".join(paragraph.split())
    if len(text) <= SUMMARY_CHARS:
        return text
    cut = text[:SUMMARY_CHARS].rsplit(" ", 1)[0].rstrip(",;:—–-<")
    return cut + "…"

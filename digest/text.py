"""Plain text from Markdown, for wherever words are needed rather than HTML.

Summaries, search records and story vectors read an article's words. They come
from markdown-it-py's token stream, not from regexes over the Markdown: a parser
knows that ``*`` inside code is a character, where a table cell ends, and that
two paragraphs are two blocks — joined with a space, never glued into "itChina".
"""

from __future__ import annotations

import functools

from markdown_it import MarkdownIt
from markdown_it.token import Token


class _TextParser(MarkdownIt):
    """A parser whose links keep their targets as written: only a link's text is read here,
    and normalising every target (percent-encoding, punycode) was a fifth of the parse."""

    def normalizeLink(self, url: str) -> str:  # noqa: N802 - markdown-it's name
        return url


@functools.cache
def _parser() -> MarkdownIt:
    """CommonMark with GFM tables, raw HTML off: the same blocks cmark-gfm renders."""
    return _TextParser("commonmark", {"html": False}).enable(["table", "strikethrough"])


def _inline_text(token: Token) -> str:
    parts: list[str] = []
    for child in token.children or ():
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif child.type == "image":
            parts.append(child.content)  # its alt text
    return "".join(parts)


def blocks(markdown: str) -> list[str]:
    """The text of each block (heading, paragraph, table cell, code block), in order.

    Whitespace inside a block is folded to single spaces; empty blocks are left out.
    """
    found: list[str] = []
    for token in _parser().parse(markdown):
        if token.type == "inline":
            text = _inline_text(token)
        elif token.type in ("fence", "code_block"):
            text = token.content
        else:
            continue
        if folded := " ".join(text.split()):
            found.append(folded)
    return found


def markdown_text(markdown: str) -> str:
    """The words of a Markdown text as one line: blocks joined with a space."""
    return " ".join(blocks(markdown))

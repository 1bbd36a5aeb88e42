"""Markdown bodies → safe HTML, with cmark-gfm.

cmark-gfm's safe mode omits raw HTML; links keep only http(s) and mailto
targets, images only http(s) sources, and the characters XML forbids are
dropped, so the HTML is fit for a page and for every feed format.
"""

from __future__ import annotations

import ctypes
import html
import re
from urllib.parse import urljoin

from cmarkgfm import cmark
from markupsafe import Markup

from digest.model import http_url

# Characters XML does not allow. In UTF-8 each C0 control is one byte, never part of another
# character, so bytes.translate drops them (a regex over the text took a fifth of a body's time).
_XML_ILLEGAL = bytes([*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])
# cmark-gfm writes a character reference as the character: &#1; as a control, and &#xFFFE; and
# &#xFFFF; as the bytes FE and FF, which are never part of UTF-8.
_NOT_IN_HTML = _XML_ILLEGAL + b"\xfe\xff"
# The HTML is edited as UTF-8 bytes, before it is decoded once: quicker to scan than text.
# cmark-gfm writes each attribute after a space (matching a leading \b instead is slow);
# well-formed http(s) URLs (a host, no bracket) are left as they are, without a call each.
_URL_ATTR = re.compile(rb' (href|src)="(?!https?://[^/?#"\[\]][^"\[\]]*")([^"]*)"')
_EMPTY_LINK = re.compile(rb'<a href=""(?: title="[^"]*")?>(.*?)</a>', re.DOTALL)
_EMPTY_IMAGE = re.compile(rb'<img src="" alt="([^"]*)"(?: title="[^"]*")? />')


VERSION = 2
"""The body renderer's rules, in every page's key: bumped whenever the same Markdown renders
differently, so that no page keeps the old HTML."""


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
    return _safe_html(_gfm(_for_xml(markdown))[0], base)


def html_and_text(markdown: str, base: str) -> tuple[Markup, str]:
    """`markdown_to_html` and `plain_text` of one body, from one parse when both read the
    same bytes (a body without characters XML forbids, the usual case): an article's page
    and its search card need both."""
    data = _for_xml(markdown)
    if len(data) != len(markdown.encode("utf-8")):  # plain_text reads them as they are
        return _safe_html(_gfm(data)[0], base), plain_text(markdown)
    html_bytes, plain = _gfm(data, plain=True)
    return _safe_html(html_bytes, base), _one_line(plain)


def _for_xml(markdown: str) -> bytes:
    """The body as UTF-8 without the characters XML forbids: a control character in a body
    would make every feed that shows it malformed XML."""
    if "\ufffe" in markdown or "\uffff" in markdown:  # one character: quicker found in text
        markdown = markdown.replace("\ufffe", "").replace("\uffff", "")
    return markdown.encode("utf-8").translate(None, _XML_ILLEGAL)


def _safe_html(html_bytes: bytes, base: str) -> Markup:
    """cmark-gfm's HTML with only followable links and images, absolute against ``base``."""
    html_bytes = html_bytes.translate(None, _NOT_IN_HTML)
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
_CMARK.cmark_render_plaintext.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int]
_CMARK.cmark_render_plaintext.restype = ctypes.c_void_p
_LIBC = ctypes.CDLL(None)
_LIBC.free.argtypes = [ctypes.c_void_p]


def _address(pointer: object) -> int:
    return int(cmark._cmark.ffi.cast("uintptr_t", pointer))


def plain_text(markdown: str) -> str:
    """The words of a body as one line, by cmark-gfm's plain-text renderer: what the search
    index reads (seven times quicker than digest.text, whose blocks it keeps apart too)."""
    return _one_line(_gfm(markdown.encode("utf-8"), html=False, plain=True)[1])


def _one_line(plain: bytes) -> str:
    """cmark-gfm's plain text as one line; it writes U+FFFE and U+FFFF as bytes FE and FF,
    which are never UTF-8, so they are dropped."""
    return " ".join(plain.translate(None, b"\xfe\xff").decode("utf-8").split())


def _gfm(text: bytes, *, html: bool = True, plain: bool = False) -> tuple[bytes, bytes]:
    """The HTML (cmarkgfm's github_flavored_markdown_to_html, without its leak) and the plain
    text of one parse, b"" for what is not asked.

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
        html_bytes = plain_bytes = b""
        try:
            if html:
                extensions = cmark.parser_get_syntax_extensions(parser)
                rendered = cmark._cmark.lib.cmark_render_html(root, _GFM_OPTIONS, extensions)
                try:
                    html_bytes = bytes(cmark._cmark.ffi.string(rendered))
                finally:
                    _LIBC.free(_address(rendered))
            if plain:
                address = _CMARK.cmark_render_plaintext(_address(root), _GFM_OPTIONS, 0)
                try:
                    plain_bytes = ctypes.string_at(address)
                finally:
                    _LIBC.free(address)
            return html_bytes, plain_bytes
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

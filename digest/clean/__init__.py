"""Turn a saved page into clean Markdown and metadata.

Two inputs: a *text dump* (`textdump`) and a saved *HTML page* (`html`). Both
give an `Extract`; `digest.sources.files` turns it into an `Article`.
`markdown` makes any converted Markdown safe to store, feeds' HTML included.
"""

from digest.clean.extract import Extract
from digest.clean.html import clean_html
from digest.clean.markdown import escape_text, html_to_markdown, safe_markdown, summarize
from digest.clean.textdump import clean_text

__all__ = [
    "Extract",
    "clean_html",
    "clean_text",
    "escape_text",
    "html_to_markdown",
    "safe_markdown",
    "summarize",
]

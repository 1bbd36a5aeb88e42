"""What one build leaves for the next: the one object that holds it.

A build's result depends on its arguments and on this object, nothing else: no
module keeps state between calls. ``digest build`` makes a fresh one, which
reads and writes the caches in ``.digest/``; ``digest serve`` keeps one for its
life (``kept=True``), so a rebuild after an edit parses, keys and renders only
what the edit touched, and the disk caches are left alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from digest.archive import ParsedFiles
from digest.render import Rendered

if TYPE_CHECKING:
    from digest.stories.stage import Kept

Record = tuple[int, str, dict[str, str]]
"""The output's record of keys with its modification time and output folder."""


@dataclass
class Memory:
    """Everything a build remembers for the next one in the same process."""

    kept: bool = False
    """Kept by a long-running caller (``digest serve``), the only writer of the output while
    it runs: files are parsed into ``parsed`` rather than the disk cache, and the output is
    not checked for files deleted by hand."""
    parsed: ParsedFiles = field(default_factory=ParsedFiles)
    rendered: Rendered = field(default_factory=Rendered)
    published: dict[str, Record] = field(default_factory=dict)
    """The output's record of keys as last read or written, by record file."""
    stories: Kept | None = None
    """The stories' clustering state (digest.stories.stage); ``digest build`` reads and
    writes it in ``.digest/``, a kept memory holds it."""

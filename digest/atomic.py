"""Files written whole or not at all: to a temporary file beside, then renamed over.

A crash, a full disk or Ctrl-C leaves the old file or the new one, never half of
one. The data is flushed to disk before the rename, and the rename before the
function returns, so a file that counts as written survives a power cut.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO


def write_text(path: Path, text: str) -> os.stat_result:
    """Write ``text`` as UTF-8 with ``\\n`` line ends; the stat of what was written.

    The stat is taken before anyone else can change the file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(fd)
            stat = os.fstat(fd)
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _sync_folder(path.parent)
    return stat


def write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` as it is, whole or not at all."""
    with writing(path) as handle:
        handle.write(data)


@contextlib.contextmanager
def writing(path: Path) -> Iterator[BinaryIO]:
    """A file to write into, in place whole once the block ends without an error: what is
    written a piece at a time (a pickle dumped into it) is never held whole in memory."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(fd)
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _sync_folder(path.parent)


def _sync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable (where the system allows opening a folder)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

"""A long build shows its stages, counts and time left on a terminal, and nothing elsewhere."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from pathlib import Path

from tests.conftest import project, write

COMMAND = [sys.executable, "-m", "digest", "build"]


def archive(tmp_path: Path) -> Path:
    root = project(tmp_path)
    for n in range(300):
        write(
            root / f"content/articles/2024/{n % 3 + 1:02d}/a{n}.md",
            f"---\ntitle: Article {n}\ndate: 2024-0{n % 3 + 1}-10T10:00:00Z\n---\n\nText {n}.\n",
        )
    return root


def on_a_terminal(root: Path) -> str:
    """Run a build on a pseudo-terminal 120 columns wide; what the terminal received."""
    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    process = subprocess.Popen(COMMAND, cwd=root, stdin=terminal, stdout=terminal, stderr=terminal)
    os.close(terminal)
    received = b""
    while True:
        try:
            data = os.read(controller, 65536)
        except OSError:  # the terminal closed with the process
            break
        if not data:
            break
        received += data
    os.close(controller)
    assert process.wait(timeout=60) == 0
    return received.decode("utf-8", errors="replace").replace("\r", "\n")


def test_a_terminal_sees_each_stage_with_counts(tmp_path: Path) -> None:
    text = on_a_terminal(archive(tmp_path))
    lines = text.splitlines()
    reading = [line for line in lines if line.startswith("reading:")]
    rendering = [line for line in lines if line.startswith("rendering:")]
    summary = re.search(r"300 articles in \d+ topics; wrote (\d+) of \1 files", text)
    assert reading and rendering and summary, text
    assert re.search(r" \d+/300 \[", reading[-1])
    assert re.search(rf" \d+/{summary.group(1)} \[", rendering[-1])
    assert all(re.search(r"\[\d\d:\d\d<(\d\d:\d\d|\?)", line) for line in reading + rendering)


def test_output_that_is_not_a_terminal_gets_no_bars(tmp_path: Path) -> None:
    done = subprocess.run(
        COMMAND, cwd=archive(tmp_path), capture_output=True, text=True, check=True
    )
    assert done.stderr == ""
    assert done.stdout.splitlines()[-1].startswith("300 articles in")

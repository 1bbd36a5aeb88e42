"""The exceptions a user can act on.

Every problem digest reports to a person is a `Problem`: where (file and line
when known), what is wrong, and how to fix it. `DigestError` carries one or more
problems; the CLI prints them one per line and exits 1. Anything else that
escapes is a bug and gets a traceback (with ``--verbose``).

Tree: DigestError ─┬─ ConfigError   (digest.toml)
                   ├─ ContentError  (an article or inbox file)
                   ├─ ThemeError    (a template)
                   └─ OutputError   (the output folder or .digest/ cannot be written)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Problem:
    """One actionable message, printed as ``path:line: message — hint``."""

    path: Path | str
    message: str
    hint: str = ""
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else f"{self.path}"
        return f"{where}: {self.message}" + (f" — {self.hint}" if self.hint else "")


class DigestError(Exception):
    """A user error: one or more problems, no traceback."""

    def __init__(self, *problems: Problem) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems

    def __reduce__(self) -> tuple[type[DigestError], tuple[Problem, ...]]:
        # Rendering workers send errors back by pickling them: keep the problems.
        return (type(self), self.problems)


class ConfigError(DigestError):
    """digest.toml is missing, unreadable or holds unknown keys or bad values."""


class ContentError(DigestError):
    """An article or inbox file cannot be read or parsed."""


class ThemeError(DigestError):
    """A template cannot be loaded or fails while rendering."""


class OutputError(DigestError):
    """The output folder or ``.digest/`` cannot be written: not digest's, full, read-only."""

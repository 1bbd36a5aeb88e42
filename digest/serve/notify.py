"""Telling open pages: each change of the site or of its problems is a new `State`.

Pages hold a Server-Sent Events connection and wait here for a state newer than the
one they have; they reload, swap their stylesheets, or show the problems over the page.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass

from digest.errors import Problem


@dataclass(frozen=True, slots=True)
class State:
    """What open pages need to know; every change gets a new, larger ``epoch``."""

    epoch: int
    reload_epoch: int
    """The last epoch after which a page must reload (not only swap its stylesheets)."""
    problems: tuple[Problem, ...] = ()
    """Why the last rebuild failed, or which files it skipped; shown in the overlay."""

    def to_json(self) -> str:
        return json.dumps(
            {
                "epoch": self.epoch,
                "reload": self.reload_epoch,
                "problems": [
                    {
                        "where": f"{p.path}:{p.line}" if p.line else str(p.path),
                        "message": p.message,
                        "hint": p.hint,
                    }
                    for p in self.problems
                ],
            }
        )


def _now() -> int:
    """Milliseconds since the epoch: a page from an earlier run of serve sees a newer epoch."""
    return time.time_ns() // 1_000_000


class Pages:
    """The state open pages see, and the waiting room of their event streams."""

    def __init__(self) -> None:
        now = _now()
        self.state = State(epoch=now, reload_epoch=now)
        self._pending_reload = False
        self._closed = False
        self._published = threading.Condition()

    def publish(
        self, problems: tuple[Problem, ...], site_changed: bool, *, stylesheets_only: bool
    ) -> State:
        """The state after a build; a new one only when pages have something to do."""
        old = self.state
        if not site_changed and problems == old.problems:
            return old
        epoch = max(_now(), old.epoch + 1)
        reload_epoch = old.reload_epoch
        if (site_changed and not stylesheets_only) or self._pending_reload:
            # A rebuild that brings new problems leaves the page as it was under the
            # overlay; it reloads once those problems are gone.
            if set(problems) - set(old.problems):
                self._pending_reload = True
            else:
                self._pending_reload = False
                reload_epoch = epoch
        with self._published:
            self.state = State(epoch=epoch, reload_epoch=reload_epoch, problems=problems)
            self._published.notify_all()
        return self.state

    def wait(self, after: int, timeout: float) -> State:
        """The state once its epoch is past ``after``, or after ``timeout`` seconds, or closed."""
        with self._published:
            self._published.wait_for(
                lambda: self.state.epoch > after or self._closed, timeout=timeout
            )
            return self.state

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        with self._published:
            self._closed = True
            self._published.notify_all()

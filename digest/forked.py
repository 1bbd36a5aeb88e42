"""A stage's work done beside the build, in a forked child, while the parent goes on.

The stories stage and the search index each spend seconds on one core at 10,000
articles: run side by side, neither leaves the other core idle. A resumed build walks the
archive this way while it imports what a render needs (digest.rebuild). Under fork the
child starts with the parent's records, copied by nobody; its result comes back
through a pipe, pickled. Where there is no fork, the work runs when its result is
asked for.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable
from typing import Generic, NoReturn, ParamSpec, TypeVar

_T = TypeVar("_T")
_P = ParamSpec("_P")


class Forked(Generic[_T]):
    """``work(*args, **kwargs)``, started now in a child process if ``fork``; `result` waits
    for it. Not forked, it runs when its result is asked for: a caller whose other threads
    run (digest serve, once it serves) must not fork."""

    def __init__(
        self, fork: bool, work: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs
    ) -> None:
        self._run: Callable[[], _T] = lambda: work(*args, **kwargs)
        self._child, self._pipe = 0, None
        if not fork or not hasattr(os, "fork"):
            return
        try:
            reader, writer = os.pipe()
        except OSError:  # no descriptor to spare: the work is done when asked for
            return
        try:
            self._child = os.fork()
        except OSError:  # no process to spare: likewise
            os.close(reader)
            os.close(writer)
            return
        if self._child == 0:
            os.close(reader)
            self._send(writer)
        os.close(writer)
        self._pipe = os.fdopen(reader, "rb")

    def _send(self, writer: int) -> NoReturn:
        """In the child: the result, or the exception it raised; exit without the parent's hooks."""
        status = 1
        try:
            try:
                outcome: tuple[bool, object] = (True, self._run())
            except BaseException as exc:  # the parent raises it
                outcome = (False, exc)
            with os.fdopen(writer, "wb") as pipe:
                try:
                    pickle.dump(outcome, pipe, protocol=pickle.HIGHEST_PROTOCOL)
                except (pickle.PicklingError, TypeError, AttributeError):
                    pickle.dump((False, RuntimeError(repr(outcome[1]))), pipe)
            status = 0
        finally:
            os._exit(status)

    def __enter__(self) -> Forked[_T]:
        return self

    def __exit__(self, *_: object) -> None:
        """A result not asked for (the build failed): the child is stopped, and waited for."""
        if self._pipe is not None:
            self._pipe.close()  # its write fails, and it exits
            self._pipe = None
            os.waitpid(self._child, 0)

    def result(self) -> _T:
        """The work's result; what it raised is raised here."""
        if self._pipe is None:
            return self._run()
        with self._pipe:
            data = self._pipe.read()
        self._pipe = None
        status = os.waitstatus_to_exitcode(os.waitpid(self._child, 0)[1])
        if status != 0 or not data:
            raise RuntimeError(f"a forked stage of the build ended with status {status}")
        done, value = pickle.loads(data)  # noqa: S301 - from our own child
        if not done:
            raise value
        return value  # type: ignore[no-any-return]

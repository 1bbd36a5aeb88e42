"""A build stage run beside the parent in a forked child (digest.forked)."""

from __future__ import annotations

import os

import pytest

from digest.errors import ContentError, Problem
from digest.forked import Forked


def _pid_and(value: int) -> tuple[int, int]:
    return os.getpid(), value * 2


def test_the_work_runs_in_another_process_and_its_result_comes_back() -> None:
    with Forked(True, _pid_and, 21) as work:
        pid, value = work.result()
    assert value == 42
    assert pid != os.getpid()


def _fails() -> None:
    raise ContentError(Problem("a.md", "changed while the site was being built", "build again"))


def test_what_the_work_raises_is_raised_by_result() -> None:
    with Forked(True, _fails) as work, pytest.raises(ContentError) as raised:
        work.result()
    assert raised.value.problems[0].path == "a.md"


class _UnpicklableError(Exception):
    def __reduce__(self) -> str:
        raise TypeError("no")


def _fails_oddly() -> None:
    raise _UnpicklableError("odd")


def test_an_exception_that_cannot_travel_is_named_in_a_runtime_error() -> None:
    with Forked(True, _fails_oddly) as work, pytest.raises(RuntimeError, match="odd"):
        work.result()


def _big() -> bytes:
    return b"x" * 5_000_000  # more than a pipe holds: the child blocks until it is read


def test_a_result_not_asked_for_leaves_no_child_behind() -> None:
    with Forked(True, _big) as work:
        child = work._child
    with pytest.raises(ChildProcessError):
        os.waitpid(child, os.WNOHANG)  # already waited for


def test_not_forked_the_work_runs_here_when_its_result_is_asked_for() -> None:
    with Forked(False, _pid_and, 21) as work:
        pid, value = work.result()
    assert (pid, value) == (os.getpid(), 42)

"""Tasks in forked processes: results in order, failures back in the parent, no strays."""

from __future__ import annotations

import os
from functools import partial

import pytest

from ebook_builder.errors import BookError, Diagnostic
from ebook_builder.forked import run_beside


def _pid_and(value: int) -> tuple[int, int]:
    return os.getpid(), value * 2


def test_the_tasks_apart_run_in_processes_of_their_own_and_keep_their_order():
    here, apart = run_beside(partial(_pid_and, 9), [partial(_pid_and, n) for n in range(4)], 3)
    assert here == (os.getpid(), 18)
    assert [value for _, value in apart] == [0, 2, 4, 6]
    pids = {pid for pid, _ in apart}
    assert os.getpid() not in pids and len(pids) == 4


def test_with_one_core_everything_runs_here():
    assert run_beside(partial(_pid_and, 1), [partial(_pid_and, 2)], cores=1) == (
        (os.getpid(), 2),
        [(os.getpid(), 4)],
    )


def _fail(path: str) -> None:
    raise BookError("bad", [Diagnostic(path, "bad heading", 3)])


def test_a_failure_apart_comes_back_whole_after_every_task_has_ended(tmp_path):
    marker = tmp_path / "after"
    with pytest.raises(BookError) as caught:
        run_beside(partial(marker.write_text, "written"), [partial(_fail, "a.md")], cores=2)
    assert caught.value.diagnostics == [Diagnostic("a.md", "bad heading", 3)]
    assert marker.read_text() == "written"


def test_a_failure_here_waits_for_the_tasks_apart(tmp_path):
    marker = tmp_path / "apart"
    with pytest.raises(BookError):
        run_beside(partial(_fail, "b.md"), [partial(marker.write_text, "written")], cores=2)
    assert marker.read_text() == "written"


def _unpicklable() -> None:
    raise ValueError(lambda: None)


def test_an_exception_that_cannot_travel_comes_back_as_its_traceback():
    with pytest.raises(RuntimeError, match="ValueError"):
        run_beside(partial(_pid_and, 1), [_unpicklable], cores=2)


def test_a_process_that_dies_is_reported():
    with pytest.raises(RuntimeError, match="ended with status"):
        run_beside(partial(_pid_and, 1), [partial(os._exit, 3)], cores=2)


def test_a_large_result_does_not_block_the_pipe():
    _, apart = run_beside(partial(bytes, 3), [partial(bytes, 1 << 20), partial(bytes, 5)], 2)
    assert [len(r) for r in apart] == [1 << 20, 5]

"""Writers on every core: some of them in child processes forked from this one.

The writers are Python, and threads share one interpreter lock: two writers in threads
take as long as one after the other. A forked child starts with everything the parent
has (modules imported, the converted book) at the cost of copying its page tables, and
sends back only its result. What a child keeps dies with it, so work that reuses what
earlier builds kept (the Kindle writer's compressed records, Kobo's documents in `ebook
watch`) stays here, and only work that keeps nothing goes apart. Where `os.fork` does not
exist (Windows), or with a single core, everything runs here, one task after the other.
"""

from __future__ import annotations

import os
import pickle
import select
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")
U = TypeVar("U")


def run_beside(
    here: Callable[[], T], apart: Sequence[Callable[[], U]], cores: int | None = None
) -> tuple[T, list[U]]:
    """`here()` in this process while each of `apart` runs in a child (one per other core).

    Returns `here`'s result and the others' in order; raises the first failure (after every
    task has ended).
    """
    children = (cores or os.cpu_count() or 1) - 1
    if not apart or children < 1 or not hasattr(os, "fork"):
        result = _outcome(here)
        outcomes = [_outcome(task) for task in apart]
    else:
        outcomes_by_index: dict[int, tuple[bool, Any]] = {}
        running: dict[int, _Child] = {}  # by the read end of its pipe
        waiting = list(enumerate(apart))
        try:
            while waiting and len(running) < children:
                child = _start(*waiting.pop(0))
                running[child.pipe] = child
            result = _outcome(here)
            while waiting:
                _collect(running, outcomes_by_index)
                child = _start(*waiting.pop(0))
                running[child.pipe] = child
        finally:
            while running:
                _collect(running, outcomes_by_index)
        outcomes = [outcomes_by_index[index] for index in range(len(apart))]
    for succeeded, value in [result, *outcomes]:
        if not succeeded:
            raise value
    return result[1], [value for _, value in outcomes]


def _outcome(task: Callable[[], Any]) -> tuple[bool, Any]:
    try:
        return True, task()
    except Exception as exc:  # raised by `run_beside` once every task has ended
        return False, exc


@dataclass
class _Child:
    index: int  # of its task
    pid: int
    pipe: int  # the read end
    data: bytearray


def _start(index: int, task: Callable[[], Any]) -> _Child:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into the parent's code
        try:
            os.close(read)
            outcome = _outcome(task)
            try:
                data = pickle.dumps(outcome)
            except Exception as exc:  # what cannot travel goes as its traceback
                failure = outcome[1] if not outcome[0] else exc
                text = "".join(traceback.format_exception(failure))
                data = pickle.dumps((False, RuntimeError(text)))
            with os.fdopen(write, "wb") as pipe:
                pipe.write(data)
        finally:
            os._exit(0)
    os.close(write)
    return _Child(index, pid, read, bytearray())


def _collect(running: dict[int, _Child], outcomes: dict[int, tuple[bool, Any]]) -> None:
    """Read what the children sent until one of them has finished, and keep its outcome."""
    while True:
        ready, _, _ = select.select(list(running), [], [])
        for pipe in ready:
            child = running[pipe]
            chunk = os.read(pipe, 1 << 16)
            if chunk:
                child.data += chunk
                continue
            os.close(pipe)
            del running[pipe]
            _, status = os.waitpid(child.pid, 0)
            if child.data:
                outcomes[child.index] = pickle.loads(child.data)
            else:
                failure = RuntimeError(f"a writer process ended with status {status}")
                outcomes[child.index] = (False, failure)
            return

"""Run one function in several OS processes at once, as several store workers would.

Processes are spawned (a fresh interpreter each, no state inherited from the test), build their
own engines from a database URL, and start the racy part together behind a barrier."""

from __future__ import annotations

import multiprocessing
import traceback
from collections.abc import Callable
from typing import Any

_spawn = multiprocessing.get_context("spawn")


def _child(index: int, target: Callable, args: tuple, barrier, results) -> None:
    try:
        results.put((index, True, target(*args, barrier)))
    except BaseException:  # reported to the test, which fails with the child's traceback
        results.put((index, False, traceback.format_exc()))


def run_together(target: Callable[..., Any], args_per_process: list[tuple], timeout: float = 60) -> list[Any]:
    """Call ``target(*args, barrier)`` in one process per args; ``target`` calls ``barrier.wait()``
    just before the part that races. Returns the results in order; raises if any process failed."""
    barrier = _spawn.Barrier(len(args_per_process), timeout=timeout)
    results = _spawn.Queue()
    processes = [_spawn.Process(target=_child, args=(index, target, args, barrier, results))
                 for index, args in enumerate(args_per_process)]
    for process in processes:
        process.start()
    try:
        answers = dict((index, (ok, value)) for index, ok, value in
                       (results.get(timeout=timeout) for _ in processes))
    finally:
        for process in processes:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
    failures = [value for ok, value in answers.values() if not ok]
    if failures:
        raise AssertionError(f"{len(failures)} of {len(processes)} processes failed; the first:\n{failures[0]}")
    return [answers[index][1] for index in range(len(processes))]

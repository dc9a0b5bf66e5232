"""For tests: catch any database statement run on the event loop's thread.

A statement run there stalls every request and websocket of the process for as long as the
database takes, a lock held elsewhere included. The store runs its sessions in the database
threads (``Database.run``); this records every statement that did not, with the store's line
that ran it, so that a test can insist the list stays empty."""

from __future__ import annotations

import asyncio
import contextlib
import traceback
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine

ROOT = Path(__file__).resolve().parents[2]
_NOT_THE_CALLER = (str(Path(__file__).resolve()), str(ROOT / "shop" / "db.py"))


@contextlib.contextmanager
def database_calls_on_the_loop(engine: Engine) -> Iterator[list[str]]:
    """While active, every statement the engine runs from a thread with a running event loop,
    as "STATEMENT from file:line in function"."""
    found: list[str] = []

    def check(connection, cursor, statement, parameters, context, executemany) -> None:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return  # a database thread: as it should be
        found.append(f"{statement.split(None, 1)[0]} from {_caller()}")

    event.listen(engine, "before_cursor_execute", check)
    try:
        yield found
    finally:
        event.remove(engine, "before_cursor_execute", check)


def _caller() -> str:
    """The innermost line of the project's own code that led to the statement."""
    for frame in reversed(traceback.extract_stack()):
        ours = frame.filename.startswith(str(ROOT)) and "/.venv/" not in frame.filename
        if ours and frame.filename not in _NOT_THE_CALLER:
            return f"{Path(frame.filename).relative_to(ROOT)}:{frame.lineno} in {frame.name}"
    return "outside the project"

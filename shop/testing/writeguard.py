"""For tests: catch a plugin writing order or payment state itself.

The contract says a plugin observes and returns what it saw; orders and payments change only
through the core (the ledger, attempts, ``PluginServices``). While active, this records every
INSERT, UPDATE or DELETE on those tables whose nearest project code on the stack is a plugin's
(a module under ``plugins.``), so that a test can insist the list stays empty."""

from __future__ import annotations

import contextlib
import re
import sys
from collections.abc import Iterator

from sqlalchemy import event
from sqlalchemy.engine import Engine

# What only the core writes: orders and their lines, stock, numbering, payments and their refunds.
GUARDED_TABLES = frozenset({"order", "orderline", "ordernumbercounter", "product", "payment", "refund",
                            "instantpurchase"})
_WRITE = re.compile(r'^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)"?', re.IGNORECASE)
# The core's door for plugins (PluginServices): what runs under it is the core's own writing.
_SANCTIONED = "shop.payments.services"


@contextlib.contextmanager
def plugin_writes(engine: Engine) -> Iterator[list[str]]:
    """While active, every write to a guarded table made by plugin code, as "STATEMENT by module.function"."""
    found: list[str] = []

    def check(connection, cursor, statement, parameters, context, executemany) -> None:
        match = _WRITE.match(statement)
        if match is None or match.group(1).lower() not in GUARDED_TABLES:
            return
        writer = _writer()
        if writer.startswith("plugins."):
            found.append(f"{statement.split('(', 1)[0].strip()} by {writer}")

    event.listen(engine, "before_cursor_execute", check)
    try:
        yield found
    finally:
        event.remove(engine, "before_cursor_execute", check)


def _writer() -> str:
    """The plugin code on this thread's stack that led to the statement ("module.function"), or
    "" when there is none, or when it went through the core's services first. Database work
    runs in the database threads, so the stack is that of the function the thread was given:
    a plugin's own ``db.write(fn)`` shows, a plugin going through ``PluginServices`` does not."""
    frame = sys._getframe(2)
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if module.startswith(_SANCTIONED):
            return ""
        if module.startswith("plugins.") and ".tests" not in module:  # a plugin's tests set up the world
            return f"{module}.{frame.f_code.co_name}"
        frame = frame.f_back
    return ""

"""The database engine, sessions, and the one locked transaction the ledger needs.

Sessions are synchronous and short: the store's queries take well under a millisecond, and
no transaction is ever held open across an ``await`` (provider calls happen outside)."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

log = logging.getLogger(__name__)
_immediate = contextvars.ContextVar("immediate_transaction", default=False)


def make_engine(database_url: str) -> Engine:
    if database_url.startswith("sqlite"):
        path = database_url.removeprefix("sqlite:///")
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(database_url, connect_args={"check_same_thread": False, "timeout": 30})
        _make_sqlite_transactions_explicit(engine)
        return engine
    return create_engine(database_url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def _make_sqlite_transactions_explicit(engine: Engine) -> None:
    # pysqlite begins transactions lazily and never as IMMEDIATE; take that over so that a
    # ledger transaction takes the write lock before it reads (no lost updates between workers).
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # In WAL mode NORMAL keeps the database consistent and skips an fsync per commit; a power
        # cut may lose the last transactions, which a single-machine demo store accepts.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE" if _immediate.get() else "BEGIN")


@contextlib.contextmanager
def locked_session(engine: Engine) -> Iterator[Session]:
    """A session whose transaction holds the write lock from its start (SQLite) — on
    PostgreSQL rows are locked with SELECT ... FOR UPDATE by the caller instead."""
    token = _immediate.set(True)
    try:
        with Session(engine, expire_on_commit=False) as session:
            yield session
    finally:
        _immediate.reset(token)


def session(engine: Engine) -> Session:
    return Session(engine, expire_on_commit=False)


# --------------------------------------------------------------------------- SQLite's log

WAL_CHECKPOINT_SECONDS = 1.0


async def checkpoint_wal_every(engine: Engine, seconds: float = WAL_CHECKPOINT_SECONDS) -> None:
    """Fold SQLite's write-ahead log into the database file in a thread, every few seconds.

    Otherwise the commit that takes the log past 1,000 pages does it, fsync included, in the
    request that made it: 10-20 ms added to one payment callback in a hundred. PASSIVE never
    waits for readers or writers; SQLite's own automatic checkpoint stays as the backstop."""
    while True:
        await asyncio.sleep(seconds)
        try:
            await asyncio.to_thread(_checkpoint, engine)
        except Exception:  # a busy or vanished file: the next round or SQLite's own backstop copes
            log.warning("WAL checkpoint failed; retrying in %s s", seconds, exc_info=True)


def _checkpoint(engine: Engine) -> None:
    connection = engine.raw_connection()  # autocommit (isolation_level None): no BEGIN around the pragma
    try:
        connection.cursor().execute("PRAGMA wal_checkpoint(PASSIVE)").close()
    finally:
        connection.close()

"""The database engine, sessions, the threads they run in, and the one locked transaction the
ledger needs.

Sessions are synchronous and short, and they never run on the event loop: a handler gathers
its database work into a plain function and awaits ``db.run(fn, ...)`` (``db.write`` when it
writes), which runs it in one of the database's own threads. A lock held by another
connection then stalls only the requests that wait for it, never /health or the websockets. Threads rather than SQLAlchemy's asyncio
extension: the models, the ledger and the plugins' routes are synchronous SQLModel throughout,
SQLite's BEGIN IMMEDIATE rides on a context variable that the threads receive a copy of, and
PostgreSQL's SELECT ... FOR UPDATE works unchanged. No transaction is held across an ``await``
(provider calls happen between two database calls, never inside one)."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import logging
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import QueuePool
from sqlmodel import Session, create_engine

log = logging.getLogger(__name__)
T = TypeVar("T")
_immediate = contextvars.ContextVar("immediate_transaction", default=False)
CONNECT_TIMEOUT_SECONDS = 5
SQLITE_CONNECTIONS = 4


def make_engine(database_url: str) -> Engine:
    if database_url.startswith("sqlite"):
        path = database_url.removeprefix("sqlite:///")
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # SQLite writes one transaction at a time and reads in microseconds: more connections (and
        # so database threads) than this only contend for the GIL. At 16 concurrent cart views,
        # 15 threads cost 1.5 ms of CPU per page against 0.9 ms with 4.
        engine = create_engine(database_url, connect_args={"check_same_thread": False, "timeout": 30},
                               pool_size=SQLITE_CONNECTIONS, max_overflow=0)
        _make_sqlite_transactions_explicit(engine)
        return engine
    # A server that does not answer fails a connection in seconds rather than holding a thread
    # for the kernel's minutes: /ready says so, and requests fail instead of piling up.
    return create_engine(database_url, pool_pre_ping=True, pool_size=10, max_overflow=20,
                         connect_args={"connect_timeout": CONNECT_TIMEOUT_SECONDS})


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
        # On the driver's connection: through SQLAlchemy's execution this added a tenth to a short read.
        connection.connection.driver_connection.execute("BEGIN IMMEDIATE" if _immediate.get() else "BEGIN")


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


class Database:
    """The engine and the threads every database call runs in.

    Calling it gives a session, as ``session(engine)`` does: use it inside a function that
    ``run`` runs. One thread per connection the pool can hand out, so that a thread never waits
    for a connection, and the database's work never queues behind (or starves) other users of
    ``asyncio.to_thread``."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._threads = ThreadPoolExecutor(max_workers=connection_limit(engine), thread_name_prefix="db")

    def __call__(self) -> Session:
        return session(self.engine)

    async def run(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """``fn(*args, **kwargs)`` in a database thread, with a copy of the caller's context
        variables (the ledger's BEGIN IMMEDIATE flag, the recorder's current payment)."""
        call = functools.partial(contextvars.copy_context().run, fn, *args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(self._threads, call)

    async def write(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """As ``run``, for work that writes. On SQLite its transactions take the write lock as
        they begin (BEGIN IMMEDIATE) and so wait their turn behind another writer, in this
        process or another: a transaction that has read first cannot wait, SQLite refuses its
        first write at once ("database is locked")."""
        return await self.run(_writing, fn, *args, **kwargs)

    def close(self) -> None:
        self._threads.shutdown(wait=True, cancel_futures=True)
        self.engine.dispose()


def _writing(fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    _immediate.set(True)  # in this call's own copy of the context: nothing else sees it
    return fn(*args, **kwargs)


def connection_limit(engine: Engine) -> int:
    """How many connections the engine's pool hands out at once. A pool of another kind (an
    in-memory SQLite database's) keeps one connection per thread: there, one thread."""
    pool = engine.pool
    if isinstance(pool, QueuePool):
        return pool.size() + max(pool._max_overflow, 0)  # SQLAlchemy keeps the overflow limit private
    return 1


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

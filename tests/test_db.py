"""SQLite housekeeping: the write-ahead log is folded into the database off the request path."""

import asyncio
import contextlib
import shutil
import sqlite3

import pytest
from sqlmodel import SQLModel

from shop.db import checkpoint_wal_every, locked_session, make_engine
from shop.models import Product

pytestmark = pytest.mark.anyio


def products_in_database_file(path) -> int:
    """Products in the main file alone, as if the log were lost: only what was checkpointed."""
    copy = path.with_name("copy.db")
    shutil.copy(path, copy)
    with contextlib.closing(sqlite3.connect(copy)) as db:
        try:
            return db.execute("SELECT count(*) FROM product").fetchone()[0]
        except sqlite3.OperationalError:  # not even the table has been copied yet
            return 0


async def test_the_checkpointer_copies_committed_writes_into_the_database_file(tmp_path):
    path = tmp_path / "shop.db"
    engine = make_engine(f"sqlite:///{path}")
    SQLModel.metadata.create_all(engine)
    with locked_session(engine) as session:
        for n in range(50):
            session.add(Product(sku=f"SKU-{n}", name=f"Product {n}", price_cents=100 + n, stock=5))
        session.commit()
    assert products_in_database_file(path) == 0  # committed, but still only in the log

    task = asyncio.create_task(checkpoint_wal_every(engine, seconds=0.05))
    try:
        await asyncio.sleep(0.3)
        assert products_in_database_file(path) == 50
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        engine.dispose()

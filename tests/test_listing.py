"""The catalog's product list is read once a second per process, by one request at a time."""

from __future__ import annotations

import asyncio

from shop.catalog import Listing


class CountingDatabase:
    """Stands in for shop.db.Database: counts the reads, each taking a moment as a real one does."""

    engine = None

    def __init__(self) -> None:
        self.reads = 0
        self.stock = 5

    async def run(self, fn, *args):
        self.reads += 1
        await asyncio.sleep(0.01)
        return [("PEN-BLUE", self.stock)]


def test_views_within_the_lifetime_share_one_read_and_a_later_view_sees_the_change():
    async def scenario():
        db = CountingDatabase()
        listing = Listing(db, lifetime=0.2)
        first = await asyncio.gather(*(listing.products() for _ in range(20)))
        assert db.reads == 1 and all(rows == [("PEN-BLUE", 5)] for rows in first)
        db.stock = 0
        assert await listing.products() == [("PEN-BLUE", 5)] and db.reads == 1
        await asyncio.sleep(0.25)
        assert await listing.products() == [("PEN-BLUE", 0)] and db.reads == 2

    asyncio.run(scenario())


def test_forget_reads_again_at_the_next_view():
    async def scenario():
        db = CountingDatabase()
        listing = Listing(db, lifetime=60)
        await listing.products()
        db.stock = 1
        listing.forget()
        assert await listing.products() == [("PEN-BLUE", 1)] and db.reads == 2

    asyncio.run(scenario())

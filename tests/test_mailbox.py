"""A waiting page's mailbox on the status bus: it wakes its reader, keeps the latest statuses of a
page that stops reading, and never blocks the publisher."""

import asyncio

import pytest

from shop.payments.bus import _QUEUE_SIZE, MemoryBus

pytestmark = pytest.mark.anyio


async def test_a_reader_waiting_is_woken_by_the_next_message_and_only_its_topic_reaches_it():
    bus = MemoryBus()
    async with bus.subscribe("order-1") as mailbox, bus.subscribe("order-2") as other:
        reading = asyncio.create_task(mailbox.get())
        await asyncio.sleep(0)
        assert not reading.done()
        await bus.publish("order-1", {"status": "paid"})
        assert await asyncio.wait_for(reading, 1) == {"status": "paid"}
        assert mailbox.empty() and other.empty()


async def test_a_page_that_stops_reading_keeps_the_latest_statuses_and_the_publisher_never_waits():
    bus = MemoryBus()
    async with bus.subscribe("order-1") as mailbox:
        for n in range(_QUEUE_SIZE + 5):
            await asyncio.wait_for(bus.publish("order-1", {"n": n}), 0.1)
        kept = [mailbox.get_nowait() for _ in range(_QUEUE_SIZE)]
        assert kept == [{"n": n} for n in range(5, _QUEUE_SIZE + 5)]
        with pytest.raises(asyncio.QueueEmpty):
            mailbox.get_nowait()


async def test_a_reader_cancelled_while_waiting_leaves_the_mailbox_usable():
    bus = MemoryBus()
    async with bus.subscribe("order-1") as mailbox:
        reading = asyncio.create_task(mailbox.get())
        await asyncio.sleep(0)
        reading.cancel()
        with pytest.raises(asyncio.CancelledError):
            await reading
        await bus.publish("order-1", {"status": "paid"})
        assert await asyncio.wait_for(mailbox.get(), 1) == {"status": "paid"}
    assert bus.local.subscriber_count == 0

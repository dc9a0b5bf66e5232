"""The Redis status bus against a real redis-server that goes away, comes back and hangs.

Two buses on one Redis stand for two workers. Whatever Redis does, a publish must return at
once and start() must not fail; once Redis answers again, messages cross between them."""

import asyncio
import contextlib
import logging
import time
import uuid

import pytest

from shop.payments.bus import _OUTBOX_SIZE, RedisBus
from shop.testing.services import RedisServer

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

PUBLISH_BUDGET = 0.020  # seconds: a publish must never hold up the request that made it


@pytest.fixture
def redis_server():
    server = RedisServer()  # not started: each test says when Redis is up
    yield server
    server.stop()


@contextlib.asynccontextmanager
async def two_workers(url: str):
    buses = [RedisBus(url), RedisBus(url)]
    for bus in buses:
        await bus.start()
    try:
        yield buses
    finally:
        for bus in buses:
            await bus.stop()


async def publish_quickly(bus: RedisBus, topic: str, message: dict) -> None:
    started = time.perf_counter()
    await bus.publish(topic, message)
    assert time.perf_counter() - started < PUBLISH_BUDGET


async def eventually(condition, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"not true within {seconds} s"
        await asyncio.sleep(0.02)


async def crosses(sender: RedisBus, receiver: RedisBus) -> bool:
    """A message published on one bus reaches a subscriber of the other (through Redis)."""
    topic, message = uuid.uuid4().hex, {"status": "paid"}
    async with receiver.subscribe(topic) as queue:
        await sender.publish(topic, message)
        return await asyncio.wait_for(queue.get(), 5) == message


async def test_the_bus_starts_without_redis_and_connects_when_it_comes_up(redis_server, caplog):
    caplog.set_level(logging.INFO, logger="shop.payments.bus")
    started = time.perf_counter()
    async with two_workers(redis_server.url) as (a, b):
        assert time.perf_counter() - started < 1.0
        assert not a.connected and not b.connected
        async with a.subscribe("order-1") as queue:
            await publish_quickly(a, "order-1", {"status": "paid"})
            assert queue.get_nowait() == {"status": "paid"}  # this process's own pages hear it at once

        redis_server.start()
        await eventually(lambda: a.connected and b.connected, 10)
        assert await crosses(a, b) and await crosses(b, a)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and "no subscription" in r.message]
    assert len(warnings) == 2  # one per bus, however many attempts failed
    assert sum("Redis is back" in r.message for r in caplog.records) == 2


async def test_the_bus_subscribes_again_after_redis_restarts(redis_server):
    redis_server.start()
    async with two_workers(redis_server.url) as (a, b):
        assert a.connected and b.connected  # start() waited for the subscription
        assert await crosses(a, b)

        redis_server.stop()
        await eventually(lambda: not a.connected and not b.connected, 5)
        await publish_quickly(a, "order-1", {"status": "paid"})  # lost to b: the page's check makes up for it

        redis_server.start()
        await eventually(lambda: a.connected and b.connected, 15)
        assert await crosses(a, b) and await crosses(b, a)


async def test_a_hung_redis_costs_a_publish_nothing_and_the_bus_recovers(redis_server):
    redis_server.start()
    async with two_workers(redis_server.url) as (a, b):
        with redis_server.paused():
            async with a.subscribe("order-1") as queue:
                await publish_quickly(a, "order-1", {"status": "paid"})
                assert queue.get_nowait() == {"status": "paid"}
            for n in range(_OUTBOX_SIZE + 10):  # more than can wait for Redis: the rest are dropped, counted
                await publish_quickly(a, "order-2", {"n": n})
            assert a.dropped >= 10
            await eventually(lambda: not a.connected and not b.connected, 10)  # the silence is noticed
        await eventually(lambda: a.connected and b.connected, 15)
        assert await crosses(a, b) and await crosses(b, a)


async def test_a_worker_hears_its_own_message_once(redis_server):
    redis_server.start()
    async with two_workers(redis_server.url) as (a, b):
        async with a.subscribe("order-1") as on_a, b.subscribe("order-1") as on_b:
            await a.publish("order-1", {"n": 1})
            assert await asyncio.wait_for(on_b.get(), 5) == {"n": 1}
            # Published after Redis passed n=1 on, so a reads Redis's echo of n=1 before n=2.
            await b.publish("order-1", {"n": 2})
            heard = [await asyncio.wait_for(on_a.get(), 5)]
            while heard[-1] != {"n": 2}:
                heard.append(await asyncio.wait_for(on_a.get(), 5))
            assert heard == [{"n": 1}, {"n": 2}]

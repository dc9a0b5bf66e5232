"""Status publish/subscribe: in memory for one process, Redis pub/sub across workers.

Topics are order public ids; messages are small JSON-able dicts. Each worker holds one Redis
subscription (subscribed before it starts listening) and fans messages out to the queues of
its own websockets, so a callback received by one worker reaches a browser on another."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import defaultdict
from collections.abc import AsyncIterator

import redis.asyncio as redis

log = logging.getLogger(__name__)

_CHANNEL_PREFIX = "cartwheel:status:"
_QUEUE_SIZE = 16  # a browser that stops reading loses old statuses, never blocks the publisher


class LocalFanout:
    """The subscribers of this process, by topic."""

    def __init__(self) -> None:
        self._queues: dict[str, set[asyncio.Queue]] = defaultdict(set)

    def deliver(self, topic: str, message: dict) -> None:
        for queue in list(self._queues.get(topic, ())):
            if queue.full():
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
            queue.put_nowait(message)

    @contextlib.asynccontextmanager
    async def subscription(self, topic: str) -> AsyncIterator[asyncio.Queue]:
        queue: asyncio.Queue = asyncio.Queue(_QUEUE_SIZE)
        self._queues[topic].add(queue)
        try:
            yield queue
        finally:
            self._queues[topic].discard(queue)
            if not self._queues[topic]:
                del self._queues[topic]

    @property
    def subscriber_count(self) -> int:
        return sum(len(q) for q in self._queues.values())


class MemoryBus:
    def __init__(self) -> None:
        self.local = LocalFanout()

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass

    async def publish(self, topic: str, message: dict) -> None:
        self.local.deliver(topic, message)

    def subscribe(self, topic: str):
        return self.local.subscription(topic)


class RedisBus:
    def __init__(self, url: str) -> None:
        self.local = LocalFanout()
        self._redis = redis.from_url(url)
        self._pubsub = None
        self._reader: asyncio.Task | None = None

    async def start(self) -> None:
        self._pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        await self._pubsub.psubscribe(f"{_CHANNEL_PREFIX}*")  # subscribed before any listening
        self._reader = asyncio.create_task(self._read(), name="redis-bus-reader")

    async def _read(self) -> None:
        while True:
            try:
                message = await self._pubsub.get_message(timeout=1.0)
            except asyncio.CancelledError:
                raise
            except Exception:  # a dropped connection: say so, wait, and let redis-py reconnect
                log.exception("status bus: reading from Redis failed; retrying")
                await asyncio.sleep(0.5)
                continue
            if message is None:
                continue
            channel = message["channel"].decode()
            try:
                payload = json.loads(message["data"])
            except ValueError:
                log.warning("status bus: dropped a malformed message on %s", channel)
                continue
            self.local.deliver(channel.removeprefix(_CHANNEL_PREFIX), payload)

    async def stop(self) -> None:
        if self._reader:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        if self._pubsub is not None:
            await self._pubsub.aclose()
        await self._redis.aclose()

    async def publish(self, topic: str, message: dict) -> None:
        await self._redis.publish(f"{_CHANNEL_PREFIX}{topic}", json.dumps(message))

    def subscribe(self, topic: str):
        return self.local.subscription(topic)


def make_bus(redis_url: str) -> MemoryBus | RedisBus:
    return RedisBus(redis_url) if redis_url else MemoryBus()

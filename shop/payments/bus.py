"""Status publish/subscribe: in memory for one process, Redis pub/sub across workers.

Topics are order public ids; messages are small JSON-able dicts. Each worker holds one Redis
subscription (subscribed before it starts listening) and fans messages out to the queues of
its own websockets, so a callback received by one worker reaches a browser on another.

Redis is best effort, the store is not: it starts and serves while Redis is down or hung, and a
publish never waits on Redis. A message Redis misses is lost; the order page checks the status
now and then even while its socket is open, so it still turns paid."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections import defaultdict, deque
from collections.abc import AsyncIterator

import redis.asyncio as redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

log = logging.getLogger(__name__)

_CHANNEL_PREFIX = "cartwheel:status:"
_QUEUE_SIZE = 16  # a page that stops reading loses old statuses, never blocks the publisher
_OUTBOX_SIZE = 256  # messages waiting for Redis; past this (Redis hung) new ones are dropped
# A Redis command takes well under a millisecond: one that takes a second means Redis is hung.
_TIMEOUTS = {"socket_timeout": 1.0, "socket_connect_timeout": 1.0}
_HEALTH_CHECK_SECONDS = 5  # the publisher PINGs a connection idle this long before using it
_HEARTBEAT_SECONDS = 2.0  # the subscription PINGs Redis after this long without a word...
_SILENCE_LIMIT = _HEARTBEAT_SECONDS + _TIMEOUTS["socket_timeout"]  # ...and gives it up after this
_BACKOFF_FIRST, _BACKOFF_MAX = 0.5, 10.0  # between attempts to subscribe again, doubling
_START_WAIT_SECONDS = 2.0  # start() waits at most this long for the first subscription
_FLUSH_SECONDS = 0.5  # stop() gives queued messages this long to reach Redis


class Mailbox:
    """One subscriber's messages, the latest ``_QUEUE_SIZE`` of them (the oldest dropped first),
    for one reader. What asyncio.Queue does here, at a fifth of its memory (its three deques,
    event and waiters come to about 5 KB), which two thousand waiting pages each hold."""

    __slots__ = ("_messages", "_waiter")

    def __init__(self) -> None:
        self._messages: deque[dict] = deque(maxlen=_QUEUE_SIZE)
        self._waiter: asyncio.Future | None = None

    def put_nowait(self, message: dict) -> None:
        self._messages.append(message)
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def get_nowait(self) -> dict:
        if not self._messages:
            raise asyncio.QueueEmpty
        return self._messages.popleft()

    def empty(self) -> bool:
        return not self._messages

    async def get(self) -> dict:
        while not self._messages:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._messages.popleft()


class LocalFanout:
    """The subscribers of this process, by topic."""

    def __init__(self) -> None:
        self._mailboxes: dict[str, set[Mailbox]] = defaultdict(set)

    def deliver(self, topic: str, message: dict) -> None:
        for mailbox in list(self._mailboxes.get(topic, ())):
            mailbox.put_nowait(message)

    @contextlib.asynccontextmanager
    async def subscription(self, topic: str) -> AsyncIterator[Mailbox]:
        mailbox = Mailbox()
        self._mailboxes[topic].add(mailbox)
        try:
            yield mailbox
        finally:
            self._mailboxes[topic].discard(mailbox)
            if not self._mailboxes[topic]:
                del self._mailboxes[topic]

    @property
    def subscriber_count(self) -> int:
        return sum(len(boxes) for boxes in self._mailboxes.values())


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
    """One Redis subscription per process, fanned out locally; best effort, never in the way.

    A publish reaches this process's own websockets at once and is queued for Redis; a
    background task drains the queue, so a Redis that is down or hung costs the caller nothing.
    Another task holds the subscription and, when Redis is unreachable, hung or drops the
    connection, subscribes again with backoff. What is published meanwhile is lost to the other
    processes: the order page's periodic status check is what makes up for it."""

    def __init__(self, url: str) -> None:
        self.local = LocalFanout()
        self.dropped = 0  # messages that never reached Redis
        self._origin = uuid.uuid4().hex  # tells this bus's own messages apart when Redis echoes them back
        # A stale pooled connection (Redis restarted) gets one immediate retry on a fresh one.
        self._publisher = redis.from_url(url, retry=Retry(NoBackoff(), 1), health_check_interval=_HEALTH_CHECK_SECONDS,
                                         **_TIMEOUTS)
        # No retries inside redis-py: the reconnect loop below is the subscription's retry.
        self._subscriber = redis.from_url(url, retry=Retry(NoBackoff(), 0), **_TIMEOUTS)
        self._outbox: asyncio.Queue[tuple[str, str]] = asyncio.Queue(_OUTBOX_SIZE)
        self._subscribed = asyncio.Event()  # set while Redis has confirmed our subscription
        self._first_attempt = asyncio.Event()
        self._tasks: list[asyncio.Task] = []
        self._reported_down = False  # one warning per outage, then one line when it ends
        self._dropping = False

    @property
    def connected(self) -> bool:
        return self._subscribed.is_set()

    async def start(self) -> None:
        """Never raises: without Redis the store serves on and the bus keeps trying in the background."""
        self._tasks = [asyncio.create_task(self._subscribe_forever(), name="redis-bus-subscriber"),
                       asyncio.create_task(self._publish_forever(), name="redis-bus-publisher")]
        with contextlib.suppress(TimeoutError):  # a hung Redis: start anyway, the loop carries on
            await asyncio.wait_for(self._first_attempt.wait(), _START_WAIT_SECONDS)

    async def stop(self) -> None:
        if self.connected:  # a moment for what is queued to leave, never a wait on a hung Redis
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._outbox.join(), _FLUSH_SECONDS)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._publisher.aclose()
        await self._subscriber.aclose()

    async def publish(self, topic: str, message: dict) -> None:
        """Deliver to this process's websockets, then queue for the others: waits on nothing."""
        self.local.deliver(topic, message)
        envelope = json.dumps({"from": self._origin, "message": message})
        try:
            self._outbox.put_nowait((f"{_CHANNEL_PREFIX}{topic}", envelope))
        except asyncio.QueueFull:
            self._drop(topic, "too many messages are waiting for Redis")

    def subscribe(self, topic: str):
        return self.local.subscription(topic)

    # ------------------------------------------------------------------ publishing

    async def _publish_forever(self) -> None:
        while True:
            channel, envelope = await self._outbox.get()
            try:
                await self._publisher.publish(channel, envelope)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # down or hung (the socket timeout ends the wait): lose this one only
                self._drop(channel.removeprefix(_CHANNEL_PREFIX), f"Redis did not take it ({exc!r})")
            else:
                if self._dropping:
                    log.info("status bus: publishing to Redis again; %d messages dropped so far", self.dropped)
                    self._dropping = False
            finally:
                self._outbox.task_done()

    def _drop(self, topic: str, why: str) -> None:
        self.dropped += 1
        if not self._dropping:
            log.warning("status bus: the change of order %s reaches only this process: %s. Pages elsewhere see it "
                        "on their next status check; further drops are only counted", topic, why)
            self._dropping = True

    # ------------------------------------------------------------------ subscribing

    async def _subscribe_forever(self) -> None:
        backoff = _BACKOFF_FIRST
        while True:
            pubsub = self._subscriber.pubsub()
            try:
                await pubsub.psubscribe(f"{_CHANNEL_PREFIX}*")  # subscribed before any listening
                await self._listen(pubsub)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # unreachable, hung or dropped: the same way back
                if self.connected:
                    backoff = _BACKOFF_FIRST
                self._subscribed.clear()
                self._first_attempt.set()
                if not self._reported_down:
                    log.warning("status bus: no subscription on Redis (%r); status changes from other processes "
                                "do not reach this one until it is back. Reconnecting in the background", exc)
                    self._reported_down = True
            finally:
                await pubsub.aclose()
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, _BACKOFF_MAX)

    async def _listen(self, pubsub) -> None:
        """Deliver what Redis sends until the connection fails or Redis falls silent (hung)."""
        loop = asyncio.get_running_loop()
        heard = pinged = loop.time()
        while True:
            message = await pubsub.get_message(timeout=_HEARTBEAT_SECONDS / 2)
            now = loop.time()
            if message is not None:  # anything, a PONG included, shows Redis is alive
                heard = now
                self._handle(message)
            elif now - heard > _SILENCE_LIMIT:
                raise ConnectionError(f"Redis has not answered for {now - heard:.1f} s")
            elif now - heard > _HEARTBEAT_SECONDS and now - pinged > _HEARTBEAT_SECONDS:
                await pubsub.ping()
                pinged = now

    def _handle(self, message: dict) -> None:
        if message["type"] == "psubscribe":  # Redis confirms: from here on nothing published is missed
            self._subscribed.set()
            self._first_attempt.set()
            if self._reported_down:
                log.info("status bus: Redis is back; subscribed again")
                self._reported_down = False
        elif message["type"] == "pmessage":
            self._receive(message["channel"].decode(), message["data"])

    def _receive(self, channel: str, data: bytes) -> None:
        try:
            envelope = json.loads(data)
            origin, payload = envelope["from"], envelope["message"]
        except (ValueError, KeyError, TypeError):
            log.warning("status bus: dropped a malformed message on %s", channel)
            return
        if origin != self._origin:  # our own went to our websockets when it was published
            self.local.deliver(channel.removeprefix(_CHANNEL_PREFIX), payload)


def make_bus(redis_url: str) -> MemoryBus | RedisBus:
    return RedisBus(redis_url) if redis_url else MemoryBus()

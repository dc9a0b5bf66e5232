"""Pushes to url_push: sent from background tasks, retried until answered 200.

secuconnect retries for 24 hours; here the schedule is scaled down to seconds and bounded.
Scenario switches: lost (never sent), late (sent after a delay), repeated (sent twice),
reordered (each push waits for the next one and follows it)."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field

import httpx

from .ids import event_id, now

HEADERS = {"Content-Type": "application/json", "Accept": "*/*"}


@dataclass
class PushRecord:
    url: str
    body: dict
    stx_id: str
    state: str = "queued"  # queued | held | lost | sending | delivered | given up
    attempts: list[str] = field(default_factory=list)  # HTTP status or error per attempt

    @property
    def event(self) -> str:
        return self.body["id"]

    def content(self) -> bytes:
        return json.dumps(self.body).encode()


def push_body(pci_id: str, kind: str = "changed") -> dict:
    return {
        "object": "event.pushes",
        "id": event_id(),
        "created": now(),
        "target": "payment.transactions",
        "type": kind,
        "data": [{"object": "payment.transactions", "id": pci_id}],
    }


class Pusher:
    def __init__(self, outbound: httpx.AsyncClient | None, *, retry_delays: tuple[float, ...] = (0.5, 1, 2, 4, 8),
                 late_delay: float = 3.0, timeout: float = 30.0) -> None:
        self._outbound = outbound
        self.retry_delays = retry_delays
        self.late_delay = late_delay
        self.timeout = timeout  # secuconnect marks a push failed when the answer takes over 30 s
        self.log: list[PushRecord] = []
        self.held: list[PushRecord] = []  # kept back while a test driver decides delivery
        self.hold = False
        self._waiting: PushRecord | None = None  # reordered: the push that goes after the next
        self._tasks: set[asyncio.Task] = set()

    def send(self, record: PushRecord, scenario: str = "normal") -> None:
        self.log.append(record)
        if self.hold:
            record.state = "held"
            self.held.append(record)
            return
        if scenario == "lost":
            record.state = "lost"
            return
        if scenario == "reordered":
            if self._waiting is None:
                record.state = "waiting for the next push"
                self._waiting = record
                return
            earlier, self._waiting = self._waiting, None
            self._spawn(record, 0.0)
            self._spawn(earlier, 0.1)
            return
        self.flush()
        delay = self.late_delay if scenario == "late" else 0.0
        self._spawn(record, delay)
        if scenario == "repeated":
            self._spawn(record, delay + 0.2)

    def flush(self) -> None:
        """Send a push still waiting for a partner (reordered scenario switched off)."""
        if self._waiting is not None:
            waiting, self._waiting = self._waiting, None
            self._spawn(waiting, 0.0)

    def reset(self) -> None:
        """Forget every push and stop those under way: none reaches the shop after the demo's reset."""
        for task in self._tasks:
            task.cancel()
        self.log.clear()
        self.held.clear()
        self._waiting = None

    def resend(self, record: PushRecord) -> None:
        self._spawn(record, 0.0)

    def _spawn(self, record: PushRecord, delay: float) -> None:
        task = asyncio.get_running_loop().create_task(self._deliver(record, delay))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, record: PushRecord, delay: float) -> None:
        if delay:
            await asyncio.sleep(delay)
        client = self._outbound or httpx.AsyncClient()
        try:
            for wait in (*self.retry_delays, None):
                record.state = "sending"
                try:
                    response = await client.post(record.url, content=record.content(), headers=HEADERS,
                                                 timeout=self.timeout)
                    record.attempts.append(str(response.status_code))
                    if response.status_code == 200:
                        record.state = "delivered"
                        return
                except httpx.HTTPError as exc:
                    record.attempts.append(type(exc).__name__)
                if wait is None:
                    break
                record.state = "queued"
                await asyncio.sleep(wait)
            record.state = "given up"
        finally:
            if client is not self._outbound:
                await client.aclose()

    async def drain(self) -> None:
        """Wait for every push under way (tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)

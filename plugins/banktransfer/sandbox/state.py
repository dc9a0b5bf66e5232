"""The sandbox bank's books: expected credits, the credits booked against them, scenarios."""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx

from plugins.banktransfer.client import sign

log = logging.getLogger(__name__)
WEBHOOK_MODES = ("send", "lost", "repeat", "late", "hold")
READ_MODES = ("ok", "error", "slow")


@dataclass
class Credit:
    id: str
    amount: int
    payer: str
    booked_at: str


@dataclass
class ExpectedCredit:
    id: str
    reference: str
    amount: int
    currency: str
    iban: str
    notify_url: str
    status: str = "open"
    credits: list[Credit] = field(default_factory=list)
    created_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    @property
    def received(self) -> int:
        return sum(c.amount for c in self.credits)

    def as_json(self) -> dict:
        return {"id": self.id, "reference": self.reference, "amount": self.amount, "currency": self.currency,
                "iban": self.iban, "status": self.status, "received": self.received, "created_at": self.created_at,
                "credits": [c.__dict__ for c in self.credits]}


@dataclass(frozen=True)
class HeldWebhook:
    url: str
    body: bytes
    headers: dict


class Bank:
    # What the bank remembers across a restart of its process (shop.sandbox_host keeps it on disk).
    PERSISTED = ("expected", "webhook_mode", "read_mode", "held", "log", "_ids")

    def __init__(self, outbound: httpx.AsyncClient, *, api_key: str, webhook_secret: str, iban: str,
                 account_owner: str, late_seconds: float = 3.0) -> None:
        self.outbound = outbound
        self.api_key = api_key
        self.webhook_secret = webhook_secret
        self.iban = iban
        self.account_owner = account_owner
        self.late_seconds = late_seconds
        self.expected: dict[str, ExpectedCredit] = {}
        self.reset_scenario()
        self.held: list[HeldWebhook] = []
        self.log: list[str] = []
        self._ids = itertools.count(1)
        self._tasks: set[asyncio.Task] = set()

    def reset(self) -> None:
        """Back to a fresh account (the demo's reset): no requests, credits or scenarios. The id
        counter keeps counting, so that no id the shop saw before the reset is ever given again."""
        for task in self._tasks:
            task.cancel()  # a late webhook must not reach the shop after the reset
        self.expected.clear()
        self.held.clear()
        self.log.clear()
        self.reset_scenario()

    def reset_scenario(self) -> None:
        self.webhook_mode, self.read_mode = "send", "ok"  # the bank behaving well

    def set_scenario(self, webhook: object, read: object) -> None:
        """What the control page's form sets; a value the bank does not know leaves its switch alone."""
        if webhook in WEBHOOK_MODES:
            self.webhook_mode = str(webhook)
        if read in READ_MODES:
            self.read_mode = str(read)

    def next_id(self, prefix: str) -> str:
        return f"{prefix}_{next(self._ids):06d}"

    def by_reference(self, reference: str) -> ExpectedCredit | None:
        wanted = reference.strip().upper()
        return next((e for e in self.expected.values() if e.reference.upper() == wanted), None)

    def book(self, expected: ExpectedCredit, amount: int, payer: str) -> Credit:
        """Money arrives. It is booked even on a cancelled request: a bank never refuses a credit."""
        credit = Credit(self.next_id("crd"), amount, payer, datetime.now(UTC).isoformat(timespec="seconds"))
        expected.credits.append(credit)
        if expected.received >= expected.amount:
            expected.status = "credited"
        elif expected.status == "open":
            expected.status = "partially_credited"
        self.notify(expected, "credit.booked", credit.id)
        return credit

    def notify(self, expected: ExpectedCredit, event: str, credit_id: str = "") -> None:
        body = json.dumps({"id": self.next_id("evt"), "event": event, "expected_credit": expected.id,
                           "credit": credit_id}).encode()
        headers = {"content-type": "application/json", "x-bank-signature": sign(self.webhook_secret, body)}
        mode = self.webhook_mode
        self.log.append(f"webhook {event} for {expected.id}: {mode}")
        if mode == "lost":
            return
        if mode == "hold":
            self.held.append(HeldWebhook(expected.notify_url, body, headers))
            return
        copies = 2 if mode == "repeat" else 1
        delay = self.late_seconds if mode == "late" else 0
        task = asyncio.get_running_loop().create_task(self._deliver(expected.notify_url, body, headers, copies, delay))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, url: str, body: bytes, headers: dict, copies: int, delay: float) -> None:
        if delay:
            await asyncio.sleep(delay)
        for _ in range(copies):
            try:
                response = await self.outbound.post(url, content=body, headers=headers)
                self.log.append(f"webhook to {url} answered {response.status_code}")
            except httpx.HTTPError as exc:
                self.log.append(f"webhook to {url} failed: {type(exc).__name__}")

"""What the sandbox provider knows: its payments, its scenarios, the notifications it sends."""

from __future__ import annotations

import asyncio
import itertools
import json
from dataclasses import dataclass, field
from typing import Any

import httpx

from ..client import SIGNATURE_HEADER, sign

# What happens to a notification: sent, held for someone to release (the contract kit), or lost.
NOTIFY_MODES = ("send", "hold", "lose")


@dataclass
class Notification:
    url: str
    body: bytes
    headers: dict[str, str]


@dataclass
class Payment:
    id: str
    amount: int
    currency: str
    reference: str
    return_url: str
    notify_url: str
    status: str = "open"
    refunds: list[dict[str, Any]] = field(default_factory=list)

    @property
    def refunded(self) -> int:
        return sum(r["amount"] for r in self.refunds)

    def as_json(self, pay_url: str) -> dict[str, Any]:
        return {"id": self.id, "amount": self.amount, "currency": self.currency, "reference": self.reference,
                "status": self.status, "refunds": self.refunds, "pay_url": pay_url}


class Sandbox:
    PERSISTED = ("payments", "notify_mode", "api_down")  # what the sandbox host keeps across restarts

    def __init__(self, outbound: httpx.AsyncClient | None, api_key: str, webhook_secret: str) -> None:
        self.outbound = outbound
        self.api_key = api_key
        self.webhook_secret = webhook_secret
        self.payments: dict[str, Payment] = {}
        self.notify_mode = "send"
        self.api_down = False  # the scenario "the API answers 503"
        self.held: list[Notification] = []
        self._ids = itertools.count(1)
        self._tasks: set[asyncio.Task] = set()

    def reset(self) -> None:
        """The control API's reset ("Reset the demo"): no payments, no scenario; ids keep counting,
        so an id the shop saw before is never handed out again."""
        for task in self._tasks:
            task.cancel()
        self.payments.clear()
        self.held.clear()
        self.reset_scenario()

    def reset_scenario(self) -> None:
        self.notify_mode = "send"
        self.api_down = False

    def new_id(self, prefix: str) -> str:
        return f"{prefix}_{len(self.payments) + 1:04d}{next(self._ids):04d}"

    # ------------------------------------------------------------------ what the payer does

    def settle(self, payment: Payment, status: str) -> None:
        """The payer paid or declined on the hosted page, or the merchant cancelled."""
        payment.status = status
        self.notify(payment)

    def refund(self, payment: Payment, amount: int) -> dict[str, Any]:
        refund = {"id": self.new_id("ref"), "amount": amount}
        payment.refunds.append(refund)
        self.notify(payment)
        return refund

    # ------------------------------------------------------------------ notifications

    def notification_for(self, payment: Payment) -> Notification:
        body = json.dumps({"event": "payment.changed", "payment": payment.id}).encode()
        return Notification(payment.notify_url, body, {"content-type": "application/json",
                                                       SIGNATURE_HEADER: sign(self.webhook_secret, body)})

    def notify(self, payment: Payment) -> None:
        note = self.notification_for(payment)
        if self.notify_mode == "hold":
            self.held.append(note)
        elif self.notify_mode == "send" and self.outbound is not None:
            task = asyncio.get_running_loop().create_task(self._send(note))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _send(self, note: Notification) -> None:
        try:
            await self.outbound.post(note.url, content=note.body, headers=note.headers)
        except httpx.HTTPError:
            pass  # lost: the shop's reconciler reads the payment back

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

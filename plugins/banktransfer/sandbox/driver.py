"""The contract kit's hand on the sandbox bank."""

from __future__ import annotations

import json

from plugins.banktransfer.client import sign
from plugins.banktransfer.sandbox.state import Bank
from shop.payments.contract import PaymentAttempt, Started
from shop.testing.driver import CallbackRequest, SandboxDriver


class Driver(SandboxDriver):
    sandbox: Bank

    def _take_held(self) -> CallbackRequest:
        held = self.sandbox.held.pop()
        return CallbackRequest("POST", held.url, held.headers, held.body)

    async def pay(self, payment: PaymentAttempt, started: Started) -> CallbackRequest:
        self.sandbox.webhook_mode = "hold"
        expected = self.sandbox.expected[started.reference]
        self.sandbox.book(expected, expected.amount - expected.received, "Contract Kit")
        return self._take_held()

    async def pay_other_amount(self, payment: PaymentAttempt, started: Started) -> CallbackRequest:
        # A payer who transfers a cent more than asked: the bank reports what arrived.
        self.sandbox.webhook_mode = "hold"
        expected = self.sandbox.expected[started.reference]
        self.sandbox.book(expected, expected.amount - expected.received + 1, "Contract Kit")
        return self._take_held()

    async def forge_paid_claim(self, payment: PaymentAttempt, started: Started) -> CallbackRequest:
        # Correctly signed (a leaked secret, a confused bank), but no money was booked.
        expected = self.sandbox.expected[started.reference]
        body = json.dumps({"id": "evt_forged", "event": "credit.booked", "expected_credit": expected.id,
                           "credit": "crd_none"}).encode()
        headers = {"content-type": "application/json",
                   "x-bank-signature": sign(self.sandbox.webhook_secret, body)}
        return CallbackRequest("POST", expected.notify_url, headers, body)

    def break_read_back(self, broken: bool) -> None:
        self.sandbox.read_mode = "error" if broken else "ok"

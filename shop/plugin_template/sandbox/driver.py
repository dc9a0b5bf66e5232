"""The contract kit's hand on the sandbox: the payer on the hosted page, the network, an outage."""

from __future__ import annotations

from shop.payments.contract import PaymentAttempt, Started
from shop.testing.driver import CallbackRequest, SandboxDriver

from .state import Sandbox


class Driver(SandboxDriver):
    sandbox: Sandbox

    def __init__(self, sandbox: Sandbox) -> None:
        super().__init__(sandbox)
        sandbox.notify_mode = "hold"  # the kit alone decides when notifications arrive

    def _take(self) -> CallbackRequest:
        note = self.sandbox.held.pop()
        return CallbackRequest("POST", note.url, dict(note.headers), note.body)

    async def pay(self, payment: PaymentAttempt, started: Started) -> CallbackRequest:
        self.sandbox.settle(self.sandbox.payments[started.reference], "paid")
        return self._take()

    async def forge_paid_claim(self, payment: PaymentAttempt, started: Started) -> CallbackRequest:
        # Correctly signed (a leaked secret), but the payment is still open at the provider.
        note = self.sandbox.notification_for(self.sandbox.payments[started.reference])
        return CallbackRequest("POST", note.url, dict(note.headers), note.body)

    async def pay_other_amount(self, payment: PaymentAttempt, started: Started) -> CallbackRequest:
        # The provider's records hold a cent more than the shop asked for.
        self.sandbox.payments[started.reference].amount += 1
        return await self.pay(payment, started)

    def break_read_back(self, broken: bool) -> None:
        self.sandbox.api_down = broken

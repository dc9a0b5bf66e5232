"""The contract kit's hands at the SEQR sandbox: the payer in the app, the network, SEQR's outage."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import urlencode

from shop.payments.contract import PaymentAttempt, Started
from shop.testing.driver import CallbackRequest, SandboxDriver

from .state import TEST_PIN, SeqrSandbox


class Driver(SandboxDriver):
    def __init__(self, sandbox: SeqrSandbox) -> None:
        super().__init__(sandbox)
        sandbox.scenarios.hold_callbacks = True  # the kit decides when notifications arrive

    async def pay(self, payment: PaymentAttempt, started: Started) -> CallbackRequest:
        reference = started.reference or payment.reference
        self.sandbox.scan(reference)
        outcome = self.sandbox.confirm(reference, TEST_PIN)
        if outcome != "paid":
            raise AssertionError(f"the SEQR sandbox did not take the payment: {outcome}")
        note = next(n for n in reversed(self.sandbox.held) if n.reference == reference)
        self.sandbox.held.remove(note)
        return CallbackRequest("POST", note.url, dict(note.headers), note.body)

    async def forge_paid_claim(self, payment: PaymentAttempt, started: Started) -> CallbackRequest:
        # SEQR signs nothing: a forged notification looks exactly like a real one, while the
        # invoice is still ISSUED. Only the read-back can tell.
        reference = started.reference or payment.reference
        body = urlencode({"invoiceReference": reference, "clientInvoiceId": payment.order.number}).encode()
        return CallbackRequest("POST", payment.urls.callback,
                               {"content-type": "application/x-www-form-urlencoded"}, body)

    async def pay_other_amount(self, payment: PaymentAttempt, started: Started) -> CallbackRequest:
        # The payer pays; SEQR's receipt then says a cent more than the shop's invoice asked.
        callback = await self.pay(payment, started)
        invoice = self.sandbox.invoices[started.reference or payment.reference]
        invoice.data = {**invoice.data, "total": invoice.total + Decimal("0.01")}
        return callback

    def break_read_back(self, broken: bool) -> None:
        self.sandbox.read_back_broken = broken

    # Beyond the kit's interface: the other payer outcomes and time, for the plugin's own tests.

    def payer_cancels(self, started: Started) -> None:
        self.sandbox.payer_cancel(started.reference)

    def bank_declines(self, started: Started) -> str:
        self.sandbox.scenarios.bank = "decline"
        try:
            self.sandbox.scan(started.reference)
            return self.sandbox.confirm(started.reference, TEST_PIN)
        finally:
            self.sandbox.scenarios.bank = "approve"

    def advance(self, seconds: float) -> None:
        """Move SEQR's clock (the commit window, reservations, report delays)."""
        self.sandbox.clock.advance(seconds)

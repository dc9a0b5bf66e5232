"""The contract kit's hand on the SeQura sandbox: the shopper, the network and SeQura's side."""

from __future__ import annotations

from shop.payments.contract import PaymentAttempt, Started
from shop.testing.driver import CallbackRequest, SandboxDriver

from . import flow
from .state import SandboxState


class Driver(SandboxDriver):
    sandbox: SandboxState

    def __init__(self, sandbox: SandboxState) -> None:
        super().__init__(sandbox)
        sandbox.hold_callbacks = True  # the kit alone decides when, and how often, callbacks arrive

    def _order(self, started: Started):
        order = self.sandbox.orders.get(started.reference or "")
        if order is None:
            raise LookupError(f"the sandbox has no order {started.reference!r}")
        return order

    async def pay(self, payment: PaymentAttempt, started: Started) -> CallbackRequest:
        """The shopper passes identification (and the down payment) and SeQura approves."""
        order = self._order(started)
        order.product = order.product or payment.option.partition(":")[0]
        order.shopper.update(given_names="Fulano", surnames="De Tal", date_of_birth="2000-01-01",
                             mobile_phone="666666666")
        order.state, order.step = "approved", "wait_for_confirmation"
        order.note("decision: approved (driver)")
        return flow.ipn_request(order, "approved")

    async def forge_paid_claim(self, payment: PaymentAttempt, started: Started) -> CallbackRequest:
        """An IPN with the shop's own signature (echoed parameters) for an order SeQura never
        approved: the confirm PUT must get 409 and nothing may be paid."""
        order = self._order(started)
        order.product = order.product or payment.option.partition(":")[0]
        return flow.ipn_request(order, "approved")

    async def pay_other_amount(self, payment: PaymentAttempt, started: Started) -> CallbackRequest:
        """SeQura reports no amount: the shopper approves an order whose total at SeQura is a
        cent more than the shop's, and SeQura refuses the shop's confirmation of its own (409)."""
        callback = await self.pay(payment, started)
        order = self._order(started)
        order.payload["cart"]["order_total_with_tax"] += 1
        return callback

    def break_read_back(self, broken: bool) -> None:
        """SeQura has no read-back; the confirm PUT is its stand-in, so that is what breaks."""
        self.sandbox.break_confirm = broken

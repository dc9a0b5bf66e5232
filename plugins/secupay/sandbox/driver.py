"""The contract kit's hand at the sandbox: the payer, secupay's back office, the network."""

from __future__ import annotations

from shop.payments.contract import PaymentAttempt, Started
from shop.testing.driver import CallbackRequest, SandboxDriver

from . import ids
from .push import HEADERS, PushRecord, push_body
from .state import Sandbox


class Driver(SandboxDriver):
    sandbox: Sandbox

    def __init__(self, sandbox: Sandbox) -> None:
        super().__init__(sandbox)
        sandbox.pusher.hold = True  # the kit alone decides when pushes arrive

    async def pay(self, payment: PaymentAttempt, started: Started) -> CallbackRequest:
        stx = self.sandbox.get_stx(started.reference)
        method = payment.option if payment.option in stx.methods else "creditcard"
        if method == "creditcard":
            card = {"owner": "Max Mustermann", "pan": "411111XXXXXX1111", "expiration_date": "12/30", "brand": "visa"}
            self.sandbox.pay(stx, method, container={"type": "credit_card", "private": card},
                             payment_data={"pan": card["pan"], "owner": card["owner"]})
        else:
            self.sandbox.pay(stx, method)
        pci = self.sandbox.pci[stx.pci_id]
        # "Paid in full" means the money was collected: the transfer arrived, or secupay captured
        # what was only authorised (invoice, auto_capture off).
        if method == "prepaid":
            self.sandbox.receive_transfer(stx)
        elif pci.simple in (2, 14):
            self.sandbox.capture(pci, None, {})
        return self._take(stx.id, payment)

    async def pay_other_amount(self, payment: PaymentAttempt, started: Started) -> CallbackRequest:
        # Paid in full, but secupay's transaction records a cent more than the shop asked for.
        callback = await self.pay(payment, started)
        stx = self.sandbox.get_stx(started.reference)
        self.sandbox.pci[stx.pci_id].amount += 1
        return callback

    async def authorize(self, payment: PaymentAttempt, started: Started) -> CallbackRequest:
        # With SECUPAY_AUTO_CAPTURE=false a card payment stays authorised until the shop captures it.
        stx = self.sandbox.get_stx(started.reference)
        card = {"owner": "Max Mustermann", "pan": "411111XXXXXX1111", "expiration_date": "12/30", "brand": "visa"}
        self.sandbox.pay(stx, "creditcard", container={"type": "credit_card", "private": card},
                         payment_data={"pan": card["pan"], "owner": card["owner"]})
        return self._take(stx.id, payment)

    async def forge_paid_claim(self, payment: PaymentAttempt, started: Started) -> CallbackRequest:
        # Well-formed (pushes carry no signature) but secupay's records show nothing paid.
        stx = self.sandbox.get_stx(started.reference)
        record = PushRecord(url=stx.return_urls.get("url_push") or payment.urls.callback,
                            body=push_body(ids.object_id("PCI")), stx_id=stx.id)
        return _request(record)

    def break_read_back(self, broken: bool) -> None:
        self.sandbox.read_back_broken = broken

    def _take(self, stx_id: str, payment: PaymentAttempt) -> CallbackRequest:
        held = self.sandbox.pusher.held
        mine = [r for r in held if r.stx_id == stx_id]
        for record in mine:
            held.remove(record)
        if not mine:  # no push URL was given: announce it the way secupay would have
            pci_id = self.sandbox.stx[stx_id].pci_id
            return _request(PushRecord(url=payment.urls.callback, body=push_body(pci_id), stx_id=stx_id))
        return _request(mine[-1])


def _request(record: PushRecord) -> CallbackRequest:
    return CallbackRequest(method="POST", url=record.url, headers=dict(HEADERS), body=record.content())

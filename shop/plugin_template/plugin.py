"""The Templatepay plugin: the shopper pays on the provider's hosted page.

The plugin observes its provider and returns what it saw; the core's ledger decides what it
means for the payment and the order. See shop/payments/contract.py for every hook."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request

from shop.i18n import N_
from shop.i18n import gettext as _
from shop.money import Money
from shop.payments.contract import (
    CallbackClaim,
    CallbackRejected,
    Capability,
    CheckoutPlugin,
    DemoFlow,
    Observation,
    OrderSnapshot,
    PaymentAttempt,
    PaymentOption,
    PaymentStatus,
    PluginRuntime,
    ProviderError,
    Redirect,
    RefundSeen,
    StartContext,
    Started,
)

from .client import SIGNATURE_HEADER, TemplatepayClient, signature_valid
from .settings import TemplatepaySettings

# The provider's words for a payment's state, in the shop's.
STATUS = {"open": PaymentStatus.PENDING, "paid": PaymentStatus.PAID, "declined": PaymentStatus.FAILED,
          "cancelled": PaymentStatus.CANCELLED, "expired": PaymentStatus.EXPIRED}


class TemplatepayPlugin(CheckoutPlugin):
    id = "templatepay"
    name = "Templatepay"
    capabilities = frozenset({Capability.REFUND, Capability.PARTIAL_REFUND, Capability.CANCEL,
                              Capability.STATUS_PUSH})
    settings_model = TemplatepaySettings
    # What the shopper or the presenter reads is marked for translation: _() where it is said,
    # N_() where it is defined and said later. `make messages` then asks for its es, de and sv.
    # The demo guide's flows: "Try it" fills the cart and checkout as the persona (shop/personas.py)
    # and sets the sandbox's scenario (the fields of its control page's form).
    demo_flows = (
        DemoFlow(N_("Pay on the hosted page"),
                 N_("Check out with Templatepay and press Pay on its page: the order is paid."), persona="max"),
        DemoFlow(N_("A declined payment"),
                 N_("On the hosted page press Decline: the shopper can choose another way to pay."), persona="max"),
        DemoFlow(N_("A lost notification"),
                 N_("Pay on the hosted page: no notification comes (scenario 'lose'); the reconciler reads the "
                    "payment back."), persona="max", scenario={"notify_mode": "lose"}),
    )

    def __init__(self, settings: TemplatepaySettings, runtime: PluginRuntime) -> None:
        super().__init__(settings, runtime)
        self.client = TemplatepayClient(runtime.http, settings.base_url, settings.api_key, settings.timeout)
        self._sandbox = None

    # ------------------------------------------------------------------ checkout

    async def options(self, order: OrderSnapshot) -> list[PaymentOption]:
        return [PaymentOption(self.id, self.id, self.name, detail=_("You pay on Templatepay's secure page."))]

    async def start(self, payment: PaymentAttempt, ctx: StartContext) -> Started:
        created = await self.client.create_payment(
            amount=payment.amount, reference=payment.order.number,
            return_url=self._absolute(payment.urls.return_url("done")), notify_url=self._absolute(payment.urls.callback))
        return Started(Redirect(created["pay_url"]), self._observe(created), reference=created["id"])

    def _absolute(self, url: str) -> str:
        """The provider calls these from outside: a path alone would mean nothing to it."""
        return f"{self.runtime.public_url.rstrip('/')}{url}" if url.startswith("/") else url

    # ------------------------------------------------------------------ callbacks and read-back

    async def verify_callback(self, request: Request, body: bytes, payment: PaymentAttempt) -> CallbackClaim:
        if not signature_valid(self.settings.webhook_secret, body, request.headers.get(SIGNATURE_HEADER, "")):
            raise CallbackRejected("bad or missing signature")
        try:
            event = json.loads(body)
            payment_id, kind = str(event["payment"]), str(event["event"])
        except (ValueError, KeyError, TypeError):
            raise CallbackRejected("not a Templatepay notification") from None
        if payment_id != payment.reference:
            raise CallbackRejected("the notification names another payment")
        return CallbackClaim(kind, payment_id)  # a trigger to read back, never the truth

    async def fetch(self, payment: PaymentAttempt, claim: CallbackClaim | None = None) -> Observation:
        return self._observe(await self.client.payment(payment.reference or ""))

    def _observe(self, seen: dict[str, Any]) -> Observation:
        status = STATUS.get(seen.get("status", ""))
        if status is None:
            raise ProviderError(f"Templatepay reported an unknown status {seen.get('status')!r}")
        # The amount as the provider reports it: the ledger checks it against the payment's.
        amount = Money(seen["amount"], seen["currency"]) if isinstance(seen.get("amount"), int) else None
        refunds = tuple(RefundSeen(r["id"], Money(r["amount"], seen["currency"])) for r in seen.get("refunds", ()))
        return Observation(status, seen["status"], f"{seen['id']}:{seen['status']}", reference=seen["id"],
                           amount=amount, refunds=refunds, detail=seen.get("detail", ""))

    # ------------------------------------------------------------------ after-sales

    async def refund(self, payment: PaymentAttempt, amount: Money, reason: str) -> RefundSeen:
        done = await self.client.refund(payment.reference or "", amount)
        return RefundSeen(done["id"], Money(done["amount"], amount.currency))

    async def cancel(self, payment: PaymentAttempt) -> Observation:
        return self._observe(await self.client.cancel(payment.reference or ""))

    # ------------------------------------------------------------------ demo

    def sandbox(self):
        from .sandbox import create_sandbox

        self._sandbox = create_sandbox(self.runtime.sandbox_http, api_key=self.settings.api_key,
                                       webhook_secret=self.settings.webhook_secret)
        return self._sandbox

    async def aclose(self) -> None:
        # A mounted app's lifespan does not run: stop the sandbox's pending notifications here.
        if self._sandbox is not None:
            await self._sandbox.state.sandbox.aclose()

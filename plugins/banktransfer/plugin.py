"""The bank transfer plugin: instructions and a GiroCode; the bank or the merchant confirms."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import timedelta

from starlette.requests import Request

from plugins.banktransfer.client import BankClient, signature_valid
from plugins.banktransfer.settings import BankTransferSettings
from plugins.banktransfer.status import to_status
from shop.i18n import N_, format_date, ngettext
from shop.i18n import gettext as _
from shop.money import Money
from shop.payments.contract import (
    AdminAction,
    CallbackClaim,
    CallbackRejected,
    Capability,
    CheckoutPlugin,
    DemoFlow,
    Instructions,
    Observation,
    OrderSnapshot,
    PaymentAttempt,
    PaymentOption,
    PaymentStatus,
    PluginRuntime,
    StartContext,
    Started,
)
from shop.qr import girocode_payload

SIGNATURE_HEADER = "x-bank-signature"


class BankTransferPlugin(CheckoutPlugin):
    id = "banktransfer"
    name = N_("Bank transfer")  # translated where shown: the shop calls it by a name in each language
    capabilities = frozenset({Capability.CANCEL, Capability.STATUS_PUSH})
    settings_model = BankTransferSettings
    has_read_back = True
    demo_flows = (
        DemoFlow(N_("Prepayment by transfer"),
                 N_("Place the order: its page shows IBAN, reference and a GiroCode."),
                 persona="max"),
        DemoFlow(N_("The transfer arrives"),
                 N_("Place the order, then book the transfer on the sandbox bank's control page (or send it from its "
                    "online banking): the order page turns paid live."),
                 persona="max"),
        DemoFlow(N_("The bank's webhook is lost"),
                 N_("Place the order and book the transfer: no webhook comes (scenario 'lost'); about a minute later "
                    "the reconciler reads the bank back and the order turns paid."),
                 persona="max", scenario={"webhook": "lost"}),
        DemoFlow(N_("Merchant confirms by hand"),
                 N_("Back office, the order, 'Mark transfer received'.")),
        DemoFlow(N_("Unpaid orders expire"),
                 N_("Orders not paid within the expiry time expire and give their stock back.")),
    )

    def __init__(self, settings: BankTransferSettings, runtime: PluginRuntime) -> None:
        super().__init__(settings, runtime)
        self.bank = BankClient(runtime.http, settings.base_url, settings.api_key)

    async def options(self, order: OrderSnapshot) -> Sequence[PaymentOption]:
        days = self.settings.pay_within_days
        # A SEPA credit transfer (and its GiroCode) moves euro only.
        unavailable = "" if order.currency == "EUR" else _("Bank transfer takes payments in euro only.")
        return [PaymentOption(self.id, self.id, _(self.name), ngettext(
            "Transfer the amount within %(days)s day; we ship when it arrives.",
            "Transfer the amount within %(days)s days; we ship when it arrives.", days) % {"days": days},
            unavailable=unavailable)]

    @staticmethod
    def transfer_reference(payment: PaymentAttempt) -> str:
        return f"{payment.order.number}-{payment.id}"

    async def start(self, payment: PaymentAttempt, ctx: StartContext) -> Started:
        s = self.settings
        reference = self.transfer_reference(payment)
        credit = await self.bank.expect_credit(reference=reference, amount=payment.amount,
                                               notify_url=payment.urls.callback, iban=s.iban)
        # Kept with the attempt and shown on the order page: in the language the shopper paid in.
        fields = ((_("Account owner"), s.account_owner), ("IBAN", s.iban), ("BIC", s.bic), (_("Bank"), s.bank_name),
                  (_("Amount"), payment.amount.display()), (_("Reference"), reference))
        qr = girocode_payload(bic=s.bic, name=s.account_owner, iban=s.iban, amount_cents=payment.amount.minor,
                              currency=payment.amount.currency, purpose=reference)
        due = payment.order.created_at + timedelta(days=s.pay_within_days)
        return Started(
            next_step=Instructions(fields, qr_payload=qr, note=(
                _("Please transfer the amount with the reference by %(date)s. We ship as soon as it arrives.")
                % {"date": format_date(due, "long")})),
            observation=Observation(PaymentStatus.PENDING, credit.status, f"credit:{credit.id}:open",
                                    reference=credit.id),
            reference=credit.id, data={"transfer_reference": reference})

    async def fetch(self, payment: PaymentAttempt, claim: CallbackClaim | None = None) -> Observation:
        credit = await self.bank.expected_credit(payment.reference)
        status = to_status(credit.status)
        received = Money(credit.received, credit.currency or payment.amount.currency)
        detail = ""
        if credit.status == "partially_credited":
            detail = _("%(received)s of %(amount)s has arrived so far.") % {
                "received": received.display(), "amount": payment.amount.display()}
        return Observation(status, credit.status, f"credit:{credit.id}:{credit.status}:{received.minor}",
                           reference=credit.id, amount=received if status == PaymentStatus.PAID else None,
                           detail=detail)

    async def verify_callback(self, request: Request, body: bytes, payment: PaymentAttempt) -> CallbackClaim:
        if not signature_valid(self.settings.webhook_secret, body, request.headers.get(SIGNATURE_HEADER, "")):
            raise CallbackRejected("bad or missing bank signature")
        try:
            event = json.loads(body)
            credit_id, kind = str(event["expected_credit"]), str(event["event"])
        except (ValueError, KeyError, TypeError):
            raise CallbackRejected("malformed bank webhook") from None
        if credit_id != payment.reference:
            raise CallbackRejected("the webhook names another expected credit")
        return CallbackClaim(kind, reference=credit_id, dedupe_key=str(event.get("id", "")))

    async def cancel(self, payment: PaymentAttempt) -> Observation:
        credit = await self.bank.cancel(payment.reference)
        return Observation(to_status(credit.status), credit.status, f"credit:{credit.id}:{credit.status}",
                           reference=credit.id)

    def admin_actions(self, payment: PaymentAttempt) -> Sequence[AdminAction]:
        # Awaited, or arrived late after the order expired (money is never dropped); a payment
        # the merchant cancelled expects no money, and its order is given up.
        if payment.status in (PaymentStatus.PENDING, PaymentStatus.EXPIRED):
            return [AdminAction("mark_received", "Mark transfer received",
                                confirm="Has the full amount arrived on the account?")]
        return []

    async def admin_action(self, name: str, payment: PaymentAttempt, form: dict[str, str]) -> Observation:
        if name != "mark_received":
            raise NotImplementedError(name)
        # The merchant read the bank statement: the merchant is the authority here.
        return Observation(PaymentStatus.PAID, "marked received by the merchant", f"manual-receipt:{payment.id}",
                           reference=payment.reference, amount=payment.amount)

    def sandbox(self):
        from plugins.banktransfer.sandbox import create_sandbox

        return create_sandbox(self.runtime.sandbox_http, api_key=self.settings.api_key,
                              webhook_secret=self.settings.webhook_secret, iban=self.settings.iban,
                              account_owner=self.settings.account_owner)

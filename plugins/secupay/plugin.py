"""secupay Smart Checkout: create a Smart Transaction, send the shopper to its hosted page,
and believe only what a read-back of the Smart and Payment Transactions says."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from shop.countries import addresses_outside, codes_of, country_list
from shop.i18n import N_
from shop.i18n import gettext as _
from shop.money import Money
from shop.payments.answers import UnexpectedAnswer, parse
from shop.payments.contract import (
    PLAIN_REPLIES,
    CallbackClaim,
    CallbackOutcome,
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
    ProviderError,
    Redirect,
    RefundSeen,
    StartContext,
    Started,
)
from shop.qr import girocode_payload

from .answers import BasketInfo, CreatedTransaction
from .basket import create_body
from .client import SecupayClient
from .methods import ContractMethods
from .settings import SecupaySettings
from .status import SIMPLE_TEXT, payment_status

METHOD_LABELS = {
    "creditcard": N_("Credit card"),
    "debit": N_("SEPA direct debit"),
    "paypal": "PayPal",
    "prepaid": N_("Prepayment (bank transfer)"),
    "invoice": N_("Invoice"),
    "sofort": "Sofort",
    "easycredit": N_("easyCredit instalments"),
}
CURRENCIES = {"EUR"}  # what secupay contracts settle in

# secuconnect repeats a push until it gets 200: only a failed read-back should make it retry.
_REPLIES = {**PLAIN_REPLIES, CallbackOutcome.IGNORED: (200, "ok"), CallbackOutcome.UNSUPPORTED: (200, "ok"),
            CallbackOutcome.REJECTED: (400, "malformed push")}


def _money(minor: Any, currency: Any) -> Money | None:
    if isinstance(minor, int) and not isinstance(minor, bool) and isinstance(currency, str):
        try:
            return Money(minor, currency)
        except ValueError:
            return None
    return None


def _simple(pci: dict | None) -> int | None:
    if not pci:
        return None
    value = (pci.get("details") or {}).get("status_simple")
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def epc_payload(transfer: dict, amount: Money) -> str | None:
    """An EPC GiroCode (version 002, UTF-8) for the transfer the shopper has to make; None when
    a banking app could not use one (not euros, or secupay gave no IBAN)."""
    if amount.currency != "EUR" or not transfer.get("iban") or amount.minor <= 0:
        return None
    return girocode_payload(bic=str(transfer.get("bic") or ""), name=str(transfer.get("owner") or ""),
                            iban=str(transfer["iban"]), amount_cents=amount.minor, currency=amount.currency,
                            purpose=str(transfer.get("purpose") or ""))


def grouped_iban(iban: str) -> str:
    """DE81 8504 0061 ...: how an IBAN is printed for people to type."""
    compact = iban.replace(" ", "")
    return " ".join(compact[i:i + 4] for i in range(0, len(compact), 4))


def transfer_step(transfer: dict, amount: Money, method: str) -> Instructions:
    """The order page's next step once the shopper is back from secupay with prepaid or invoice."""
    fields = ((_("Account holder"), str(transfer.get("owner") or "")),
              ("IBAN", grouped_iban(str(transfer.get("iban") or ""))), ("BIC", str(transfer.get("bic") or "")),
              (_("Bank"), str(transfer.get("bank") or "")),
              (_("Purpose"), str(transfer.get("purpose") or "")), (_("Amount"), amount.display()))
    if method == "invoice":
        note = _("Please transfer the amount once your goods have arrived, with the purpose exactly as shown: "
                 "secupay collects the invoice for us.")
    else:
        note = _("Please transfer the amount with the purpose exactly as shown: it is how secupay finds your "
                 "payment. We ship as soon as the money arrives.")
    return Instructions(fields=tuple((label, value) for label, value in fields if value),
                        qr_payload=epc_payload(transfer, amount), note=note)


class SecupayPlugin(CheckoutPlugin):
    id = "secupay"
    name = "secupay"
    capabilities = frozenset({Capability.REFUND, Capability.PARTIAL_REFUND, Capability.CANCEL,
                              Capability.CAPTURE, Capability.STATUS_PUSH})
    settings_model = SecupaySettings
    has_read_back = True
    replies = _REPLIES
    demo_flows = (
        DemoFlow(N_("Card"),
                 N_("Place the order; on secupay's page pay with 4111 1111 1111 1111: back on the receipt."),
                 persona="max", option="creditcard"),
        DemoFlow(N_("Declined, then paid"),
                 N_("Card 4000 0000 0000 0002 is declined on secupay's page; another card pays."),
                 persona="max", option="creditcard"),
        DemoFlow(N_("3-D Secure"),
                 N_("Card 4000 0000 0000 3220 asks for the bank's code (1234)."),
                 persona="max", option="creditcard"),
        DemoFlow(N_("SEPA direct debit"),
                 N_("IBAN DE37 5032 4000 1000 0005 24, tick the mandate."),
                 persona="max", option="debit"),
        DemoFlow(N_("Prepayment"),
                 N_("The order page shows secupay's account and a GiroCode; 'transfer received' on the sandbox's page "
                    "turns it paid live."),
                 persona="max", option="prepaid"),
        DemoFlow(N_("Rejected by secupay"),
                 N_("Whatever is paid with, secupay refuses (scenario 'reject'): the shopper is back in the shop, "
                    "free to choose another way."),
                 persona="max", option="creditcard", scenario={"outcome": "reject"}),
        DemoFlow(N_("Capture later"),
                 N_("With SECUPAY_AUTO_CAPTURE=false the back office captures the authorised card payment.")),
    )

    def __init__(self, settings: SecupaySettings, runtime: PluginRuntime) -> None:
        super().__init__(settings, runtime)
        self.client = SecupayClient(
            runtime.http, base_url=settings.base_url, token_url=settings.token_url,
            client_id=settings.client_id, client_secret=settings.client_secret,
            timeout=settings.timeout, token_margin=settings.token_margin,
        )
        self.contract_methods = ContractMethods(settings.methods_lifetime, self._probe_methods)

    # ------------------------------------------------------------------ checkout

    async def options(self, order: OrderSnapshot) -> Sequence[PaymentOption]:
        """The merchant's methods that its contract offers (learnt from secupay's payment links),
        each disabled with the reason when the contract's currency or countries do not cover this order."""
        if not order.total.minor > 0:
            return []
        reason = self.unavailable_for(order)
        try:
            contract = await self.contract_methods.current()
        except UnexpectedAnswer as exc:
            return [PaymentOption(self.id, "general", "secupay", unavailable=exc.reason)]
        except ProviderError:
            # Unknown for now: the general page alone, which offers whatever the contract has.
            return [PaymentOption(self.id, "general", "secupay", unavailable=reason)]
        # The merchant's choice and order, of what the contract offers: never a method without a link.
        methods = [m for m in self.settings.method_list if m in METHOD_LABELS and m in contract]
        general = PaymentOption(self.id, "general", "secupay",
                                detail=", ".join(_(METHOD_LABELS[m]) for m in methods), unavailable=reason)
        return [general, *(PaymentOption(self.id, m, _(METHOD_LABELS[m]), detail=_("via secupay"), unavailable=reason)
                           for m in methods)]

    def unavailable_for(self, order: OrderSnapshot) -> str:
        if order.currency not in CURRENCIES:
            return _("secupay takes payments in euro only.")
        countries = codes_of(self.settings.countries)
        if addresses_outside(order, countries):
            return _("Only for addresses in %(countries)s.") % {"countries": country_list(countries)}
        return ""

    async def _create(self, body: dict) -> CreatedTransaction:
        answer = await self.client.create_smart_transaction(body)
        stx = parse(CreatedTransaction, answer, provider="secupay", what="the new payment")
        self.contract_methods.learn(stx.methods())
        return stx

    async def _probe_methods(self) -> tuple[str, ...]:
        """A Smart Transaction no one pays, only for the links of the contract's methods."""
        body = {"is_demo": self.settings.is_demo, "intent": "sale", "contract": {"id": self.settings.contract_id},
                "basket_info": {"sum": 100, "currency": "EUR"},
                "transactionRef": f"{self.settings.shop_name}: which methods the contract offers"[:100],
                "application_context": {"checkout_template": self.settings.checkout_template}}
        return (await self._create(body)).methods()

    async def start(self, payment: PaymentAttempt, ctx: StartContext) -> Started:
        stx = await self._create(create_body(payment, self.settings))
        stx_id = stx.id
        links = stx.payment_links
        # A missing link means the contract does not offer that method: say so rather than send the
        # shopper to a page where it is missing (the checkout no longer lists it either).
        if payment.option != "general" and payment.option not in links:
            label = METHOD_LABELS.get(payment.option, payment.option)
            raise ProviderError(f"{label} cannot be paid with secupay for this shop. Please choose another way.")
        url = links.get(payment.option) or links.get("general")
        if not url:
            raise ProviderError("secupay offered no payment page for this order")
        info = stx.basket_info or BasketInfo()
        observation = Observation(
            status=PaymentStatus.PENDING,
            raw_status=stx.status or "created",
            dedupe_key=_key(stx_id, stx.status or "created"),
            reference=stx_id,
            amount=_money(info.sum, info.currency or payment.amount.currency),
            detail="Sent to secupay's payment page",
        )
        return Started(Redirect(url), observation, reference=stx_id,
                       data={"stx_id": stx_id, "method": payment.option})

    # ------------------------------------------------------------------ read-back

    def _stx_id(self, payment: PaymentAttempt) -> str:
        stx_id = payment.reference or payment.data.get("stx_id")
        if not stx_id:
            raise ProviderError("this payment was never started at secupay")
        return str(stx_id)

    async def _read(self, payment: PaymentAttempt) -> tuple[dict, dict | None]:
        stx = await self.client.get_smart_transaction(self._stx_id(payment))
        refs = [t for t in (stx.get("transactions") or []) if isinstance(t, dict) and t.get("id")]
        pci = await self.client.get_payment_transaction(refs[0]["id"]) if refs else None
        return stx, pci

    async def _refunds(self, pci: dict, currency: str) -> tuple[RefundSeen, ...]:
        seen: dict[str, RefundSeen] = {}
        for rel in pci.get("related_transactions") or []:
            if not isinstance(rel, dict) or rel.get("hierarchy") != "child" or not rel.get("id"):
                continue
            if rel["id"] in seen:
                continue
            child = await self.client.get_payment_transaction(rel["id"])
            amount = _money(abs(child.get("amount") or 0), child.get("currency") or currency)
            if amount is None:
                continue
            seen[rel["id"]] = RefundSeen(rel["id"], amount, done=_simple(child) in (1, 6, 9))
        return tuple(seen.values())

    async def fetch(self, payment: PaymentAttempt, claim: CallbackClaim | None = None) -> Observation:
        # The push only says "look"; what secupay's API answers now is the truth.
        stx, pci = await self._read(payment)
        return await self._observe(payment, stx, pci)

    async def _observe(self, payment: PaymentAttempt, stx: dict, pci: dict | None) -> Observation:
        stx_id = str(stx.get("id") or self._stx_id(payment))
        stx_word = str(stx.get("status") or "")
        method = stx.get("payment_method")
        simple = _simple(pci)
        info = stx.get("basket_info") or {}
        currency = (pci or {}).get("currency") or info.get("currency") or payment.amount.currency
        refunds = await self._refunds(pci, currency) if pci else ()
        status = payment_status(stx_word, simple, method, refunded=bool(refunds))
        amount = _money((pci or {}).get("amount", info.get("sum")), currency)
        data: dict[str, Any] = {"stx_id": stx_id, "stx_status": stx_word}
        if method:
            data["payment_method"] = method
        if pci:
            data.update(pci_id=pci.get("id"), trans_id=pci.get("trans_id"), status_simple=simple,
                        status_text=pci.get("status_text"))
            if pci.get("trans_id"):
                data["receipt"] = str(pci["trans_id"])  # secupay's transaction number, on its mails too
        instructions = stx.get("payment_instructions")
        step = None
        if isinstance(instructions, dict) and method in ("prepaid", "invoice") and amount:
            # What is left to transfer: lowered when the merchant took something off before the money came.
            due = _money(((pci or {}).get("details") or {}).get("amount"), currency) or amount
            transfer = {
                "owner": instructions.get("owner"), "iban": instructions.get("iban"),
                "bic": instructions.get("bic"), "bank": instructions.get("bankname"),
                "purpose": instructions.get("purpose"), "amount": str(due), "currency": due.currency,
                "girocode_url": instructions.get("girocode_url"),
            }
            data["transfer"] = transfer
            if status in (PaymentStatus.PENDING, PaymentStatus.AUTHORIZED):
                # The order page shows these, with the GiroCode, until the money has arrived.
                step = transfer_step(transfer, due, method)
        raw = stx_word if simple is None else f"{stx_word} / {SIMPLE_TEXT.get(simple, simple)} ({simple})"
        left = ((pci or {}).get("details") or {}).get("amount")
        key = _key(stx_id, stx_word, (pci or {}).get("id"), simple, refunds, left if isinstance(left, int) else None)
        # Before secupay records a method (a card that failed outright), the one picked in the shop says it.
        picked = payment.option if payment.option in METHOD_LABELS else None
        detail = _sentence(status, method or (picked if status == PaymentStatus.FAILED else None), simple)
        if step is not None and status == PaymentStatus.PENDING:
            # Shown above the bank details on the order page, and in the merchant's timeline.
            detail = _("Prepayment by bank transfer to secupay: %(amount)s, purpose %(purpose)s") % {
                "amount": due.display(), "purpose": transfer["purpose"]}
        return Observation(status=status, raw_status=raw, dedupe_key=key, reference=stx_id, amount=amount,
                           detail=detail, data=data, refunds=refunds, next_step=step)

    # ------------------------------------------------------------------ pushes

    async def verify_callback(self, request, body: bytes, payment: PaymentAttempt) -> CallbackClaim:
        # secuconnect signs nothing: the unguessable token in url_push is the only secret.
        try:
            push = json.loads(body)
        except ValueError as exc:
            raise CallbackRejected("the push is not JSON") from exc
        if not isinstance(push, dict) or push.get("object") != "event.pushes":
            raise CallbackRejected("the push is not an event.pushes object")
        if not isinstance(push.get("id"), str) or not push["id"]:
            raise CallbackRejected("the push has no event id")
        items = push.get("data")
        if not isinstance(items, list) or not items or not all(
                isinstance(i, dict) and isinstance(i.get("id"), str) and i["id"] for i in items):
            raise CallbackRejected("the push names no objects")
        return CallbackClaim(
            event=str(push.get("type") or "changed"),
            reference=payment.reference,
            dedupe_key=push["id"],
            data={"target": push.get("target"), "ids": [i["id"] for i in items]},
        )

    # ------------------------------------------------------------------ back office

    async def _pci(self, payment: PaymentAttempt) -> tuple[dict, dict]:
        stx, pci = await self._read(payment)
        if pci is None:
            raise ProviderError("the shopper has not paid at secupay yet: there is no payment transaction")
        return stx, pci

    async def capture(self, payment: PaymentAttempt, amount: Money) -> Observation:
        stx, pci = await self._pci(payment)
        shipping = None
        if stx.get("payment_method") == "invoice":
            # Capturing an invoice marks it shipped; the due date runs from here.
            shipping = {"order_id": payment.order.number, "invoice_number": payment.order.number,
                        "shipped_at": datetime.now(UTC).isoformat(timespec="seconds")}
        authorised = (pci.get("details") or {}).get("amount", pci.get("amount"))
        partial = amount.minor if isinstance(authorised, int) and amount.minor < authorised else None
        await self.client.capture(pci["id"], amount=partial, shipping_information=shipping)
        return await self.fetch(payment)

    async def refund(self, payment: PaymentAttempt, amount: Money, reason: str) -> RefundSeen:
        _, pci = await self._pci(payment)
        answer = await self.client.cancel_payment_transaction(
            pci["id"], reduce_amount_by=amount.minor, reason=reason or f"Refund {payment.order.number}")
        refund = next((p for p in answer if p.get("id") and p.get("id") != pci["id"]), None)
        if refund is not None:
            seen = _money(abs(refund.get("amount") or amount.minor), refund.get("currency") or amount.currency)
            return RefundSeen(refund["id"], seen or amount, done=_simple(refund) in (1, 6, 9, None))
        # Before execution secupay lowers the amount instead of making a refund transaction.
        original = next((p for p in answer if p.get("id") == pci["id"]), pci)
        left = (original.get("details") or {}).get("amount")
        return RefundSeen(f"{pci['id']}:reduced-to:{left}", amount, done=True)

    async def cancel(self, payment: PaymentAttempt) -> Observation:
        stx = await self.client.cancel_smart_transaction(self._stx_id(payment))
        refs = [t for t in (stx.get("transactions") or []) if isinstance(t, dict) and t.get("id")]
        pci = await self.client.get_payment_transaction(refs[0]["id"]) if refs else None
        return await self._observe(payment, stx, pci)

    def sandbox(self):
        from .sandbox import create_sandbox

        return create_sandbox(self.runtime.sandbox_http)

    async def aclose(self) -> None:
        return None


def _key(stx_id: str, word: str, pci_id: str | None = None, simple: int | None = None,
         refunds: tuple[RefundSeen, ...] = (), left: int | None = None) -> str:
    """One provider fact, one key: the same read-back twice is applied once. ``left`` is the
    amount secupay still holds: lowering a prepayment before it is paid is a new fact."""
    refund_ids = ",".join(sorted(r.provider_id for r in refunds))
    key = f"{stx_id}:{word}:{pci_id or '-'}:{simple if simple is not None else '-'}:{refund_ids}"
    return key if left is None else f"{key}:{left}"


# The method inside a sentence: "Paid by card", "secupay declined the card payment".
METHOD_WORDS = {"creditcard": N_("card"), "prepaid": N_("prepayment"), "invoice": N_("invoice"),
                "easycredit": "easyCredit"}


def _sentence(status: PaymentStatus, method: str | None, simple: int | None) -> str:
    """What the shopper (and the merchant's timeline) reads about the payment, in the order's language."""
    label = _(METHOD_LABELS.get(method or "", method or "secupay"))
    word = _(METHOD_WORDS[method]) if method in METHOD_WORDS else label
    if status == PaymentStatus.PAID:
        if simple == 4:
            return _("Paid by %(method)s (the bank reports an issue)") % {"method": word}
        return _("Paid by %(method)s") % {"method": word}
    if status == PaymentStatus.AUTHORIZED:
        if simple == 14:
            return _("Invoice accepted by secupay: capture it when the goods are shipped")
        return _("%(method)s authorised: capture to collect the money") % {"method": label}
    if status == PaymentStatus.PENDING:
        if method == "prepaid":
            return _("Waiting for the bank transfer to arrive at secupay")
        if method:
            return _("%(method)s: secupay is still checking the payment") % {"method": label}
        return _("secupay's payment page has not been completed yet")
    if status == PaymentStatus.FAILED:
        if method:
            return _("secupay declined the %(method)s payment. No money was taken: please try again, with another "
                     "card or another way to pay.") % {"method": word}
        return _("The payment failed at secupay. No money was taken: please try again, with another card or another "
                 "way to pay.")
    if status == PaymentStatus.CANCELLED:
        return _("The payment was cancelled at secupay")
    return label

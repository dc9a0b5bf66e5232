"""SeQura checkout plugin: options, solicitation and form, IPN confirmation, after-sale updates.

SeQura has no read-back. An IPN is believed only when it brings back the shop's own HMAC in
its notification parameters; then ``fetch`` makes the confirm PUT, and SeQura's answer to
that PUT is the authority (2xx: confirmed or on hold; 409: nothing is confirmed).

SeQura never sends an IPN twice, so a confirmation the shop could not finish (a crash after
SeQura's answer, a PUT that failed, an IPN that never came) is the shop's to finish: the core
keeps the plugin's ``confirm_intent`` before the PUT and the reconciler calls ``settle`` when
it is due (``settling.py``)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from shop.countries import addresses_outside, codes_of, country_list
from shop.i18n import N_
from shop.i18n import gettext as _
from shop.money import Money
from shop.payments.answers import UnexpectedAnswer
from shop.payments.attempts import ActionRefused
from shop.payments.contract import (
    AdminAction,
    CallbackClaim,
    CallbackOutcome,
    CallbackRejected,
    Capability,
    Channel,
    CheckoutPlugin,
    DemoFlow,
    Embed,
    Instructions,
    LineKind,
    Observation,
    OrderSnapshot,
    PaymentAttempt,
    PaymentOption,
    PaymentStatus,
    ProviderError,
    ProviderUnavailable,
    ReadBackUnavailable,
    RefundSeen,
    StartContext,
    Started,
    UnsupportedCallback,
)

from . import csp, delivery_report
from .client import SequraClient
from .offers import payment_options
from .payload import (
    Merchant,
    Platform,
    Shopper,
    language_code,
    order_payload,
    sign,
    signature_ok,
    split_cart,
    update_payload,
)
from .promotion import Promotion
from .settings import SequraSettings
from .settling import APPROVED_NOTE, ATTENTION, KEY, PROBE_NOTE, Intent, backoff, checking_step, confirming_step
from .status import CONFIRM_STATE, EVENTS, IPN_STATES, STATUS
from .teasers import Teasers
from .terms import Terms

HOLD_NOTE = {"on_hold": "SeQura is reviewing your order; you will get an e-mail within minutes."}
# What the order page shows while SeQura reviews: no form any more (it would open again), a sentence.
REVIEW_STEP = Embed('<p class="sequra-review" id="sequra-review">This page updates by itself as soon as SeQura '
                    'has decided. You can also close it: the e-mail tells you the outcome.</p>')
_REFERENCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._/#-]{0,63}$")


def split_option(option: str) -> tuple[str, str | None]:
    """Option ids are the product code, or ``code:campaign`` for campaign products."""
    product, _sep, campaign = option.partition(":")
    return product, campaign or None


class SequraPlugin(CheckoutPlugin):
    id = "sequra"
    name = "SeQura"
    capabilities = frozenset({Capability.REFUND, Capability.PARTIAL_REFUND, Capability.CANCEL})
    settings_model = SequraSettings
    has_read_back = False
    # SeQura's answers never say an amount: it checks the one the shop sends with the confirming
    # PUT against the order the shopper approved, and answers 409 when they differ.
    reports_amount = False
    confirms_on_callback = True  # the IPN is where the sale is confirmed: the core checks the cart first
    templates_dir = Path(__file__).parent / "templates"
    admin_links = (("/phone-order", N_("SeQura phone order")), ("/delivery-report", N_("SeQura delivery report")))
    # What the sandbox plays from SeQura's test data (sandbox/flow.py, form.py): it sells to Spanish
    # addresses with a Spanish mobile, texts a code that is the mobile's last five digits, and
    # decides by the shopper's name unless its control page sets a decision.
    demo_flows = (
        DemoFlow(N_("Pay later, approved"),
                 N_("Place the order; SeQura's form asks name, date of birth and mobile (all filled in), then the SMS "
                    "code: the mobile's last five digits (55444 for +34 666 555 444). SeQura approves; the order page "
                    "turns paid. SeQura sells to Spanish addresses with a Spanish mobile (6xx or 7xx) only."),
                 persona="lucia", option="i1"),
        DemoFlow(N_("Part payment, first instalment by card"),
                 N_("Place the order; in SeQura's form the SMS code is the mobile's last five digits (55444), then "
                    "the first instalment is paid with SeQura's test card 4716 7730 7733 9777, 12/30, CVV 123."),
                 persona="lucia", option="pp3"),
        DemoFlow(N_("Rejected"),
                 N_("The surname 'Reject Test' (or a birth date under 18) is always rejected: after the SMS code "
                    "(55444) SeQura says no, and 'Elegir otro método de pago' brings the shopper back to the "
                    "checkout, cart as it was. The control page's decision 'reject' does the same for any name."),
                 persona="lucia-rejected", option="i1"),
        DemoFlow(N_("Asks for more: review, then approved"),
                 N_("The name 'Review Test Approve' puts the order on hold for SeQura's review; about 10 s later "
                    "SeQura approves and the order page follows live. 'Review Test Cancel' is cancelled instead."),
                 persona="lucia-reviewed", option="i1"),
    )

    def __init__(self, settings: SequraSettings, runtime) -> None:
        super().__init__(settings, runtime)
        self.client = SequraClient(
            runtime.http, base_url=settings.base_url.replace("{sandbox_url}", runtime.sandbox_url),
            account_key=settings.account_key, secret=settings.secret, merchant_ref=settings.merchant_ref,
            timeout=settings.timeout, connect_timeout=settings.connect_timeout)
        self.platform = Platform(settings.platform_name, settings.platform_version)
        self.terms = Terms(lambda: self.client, settings.terms_lifetime)
        self.teasers = Teasers(settings.teaser_product, settings.teaser_lifetime, self.client.merchant_payment_methods,
                               self.client.credit_agreements)
        secret = runtime.services.secret_key if runtime.services is not None else settings.secret
        self.promotion = Promotion(self.teasers, settings.teaser_place_list, secret, settings.teaser_wait)
        # Like SeQura's own plugins, fall back on the API secret: private, and already set.
        self.hmac_key = settings.hmac_secret or settings.secret

    # ------------------------------------------------------------------ teasers on the shop's pages

    async def product_extra(self, product, request=None) -> str:
        return self.promotion.product_block(product, request)

    async def listing_extra(self, product, request=None) -> str:
        return self.promotion.snippet(Money(product.price_cents, "EUR"), "listing", product.sku, request)

    async def cart_extra(self, total: Money, request=None) -> str:
        return self.promotion.snippet(total, "cart", "cart", request) if total.currency == "EUR" else ""

    async def run_in_background(self) -> None:
        """Warm the teasers for the catalog's prices (product pages and listings show them at once),
        then send SeQura's delivery report once a day."""
        if self.runtime.services is None:
            return
        if self.promotion.places:
            await self.warm_teasers()
        await delivery_report.every_day(self)

    async def warm_teasers(self) -> None:
        prices = await self.runtime.services.catalog_prices()
        await self.teasers.warm([Money(cents, "EUR") for cents in prices])

    def routes(self):
        return self.promotion.routes()

    # ------------------------------------------------------------------ checkout

    async def options(self, order: OrderSnapshot) -> Sequence[PaymentOption]:
        if order.total.minor <= 0:
            return []
        try:
            methods = await self.terms.payment_methods()
        except UnexpectedAnswer as exc:  # said, not hidden: the merchant finds it in the log
            return [PaymentOption(self.id, self.id, self.name, unavailable=exc.reason)]
        except ProviderError:
            return []  # SeQura unreachable or refusing: do not offer it rather than fail the checkout
        unavailable = self.unavailable_for(order)
        countries = codes_of(self.settings.countries)
        country = order.delivery_address.country_code.upper()
        # Asked for the shopper's country where SeQura sells there, else for one it sells to: the
        # options then show what the shopper would get on moving the delivery there.
        country = country if country in countries or not countries else countries[0]
        agreements, unreadable = None, False
        try:
            if order.currency == "EUR":
                agreements = await self.terms.credit_agreements(order.total, locale=_locale(order), country=country)
        except UnexpectedAnswer:
            unreadable = True  # credit is not offered without its terms
        except ProviderError:
            pass  # the products can still be sold; only the instalment detail is missing
        return payment_options(self.id, self.name, order.total, methods, agreements, _now(), unreadable, unavailable)

    def unavailable_for(self, order: OrderSnapshot) -> str:
        """Why SeQura refuses this order whatever the product (its currency, an address's
        country), in the shopper's words; "" when it may accept it. A country not known yet
        (a draft without addresses) does not count against it."""
        if order.currency != "EUR":
            return _("SeQura takes payments in euro only.")
        countries = codes_of(self.settings.countries)
        if addresses_outside(order, countries):
            return (_("Only for delivery and invoice addresses in %(countries)s.")
                    % {"countries": country_list(countries)})
        return ""

    def _merchant(self, payment: PaymentAttempt, isolated: bool) -> Merchant:
        if isolated:
            return Merchant(self.settings.merchant_ref)  # no notify, return or approved URL at a till
        number = payment.order.number
        params = {"order": number, "payment": str(payment.id)}
        callback = self._absolute(payment.urls.callback)
        return Merchant(
            self.settings.merchant_ref,
            notify_url=callback,
            return_url=_with_query(self._absolute(payment.urls.return_url("success")), "sq_product=SQ_PRODUCT_CODE"),
            abort_url=self._absolute(payment.urls.return_url("abort")),
            events_url=callback,  # one endpoint: verify_callback tells an IPN from an event by its fields
            notification_parameters={**params, "signature": sign(self.hmac_key, "ipn", payment.id, number)},
            events_parameters={**params, "signature": sign(self.hmac_key, "events", payment.id, number)})

    def _payload(self, payment: PaymentAttempt, *, state: str = "", order_ref_1: str | None = None) -> dict:
        """One builder for POST and every PUT: the same order gives the same payload."""
        data = payment.data or {}
        isolated = bool(data.get("isolated", self._isolated(payment)))
        return order_payload(payment.order, merchant=self._merchant(payment, isolated),
                             shopper=Shopper.from_data(data.get("shopper")), platform=self.platform,
                             state=state, amount=payment.amount, order_ref_1=order_ref_1,
                             order_ref_2=str(payment.id) if order_ref_1 else None)

    def _absolute(self, url: str) -> str:
        """SeQura calls these from outside: a path alone would mean nothing to it."""
        return f"{self.runtime.public_url.rstrip('/')}{url}" if url.startswith("/") else url

    def _isolated(self, payment: PaymentAttempt) -> bool:
        return self.settings.isolated_till or payment.channel is Channel.TILL

    async def start(self, payment: PaymentAttempt, ctx: StartContext) -> Started:
        product, campaign = split_option(payment.option)
        shopper = Shopper(ctx.ip_address, ctx.user_agent, ctx.is_mobile)
        isolated = self._isolated(payment)
        data = {"product": product, "campaign": campaign, "shopper": shopper.as_data(), "isolated": isolated}
        body = self._payload(replace(payment, data=data))
        order_uri = await self.client.start_solicitation(body)
        uuid = order_uri.rstrip("/").rsplit("/", 1)[-1]
        data["order_uri"] = order_uri
        observation = Observation(PaymentStatus.PENDING, "solicited", f"sequra:{uuid}:solicited",
                                  reference=uuid)
        if payment.channel is Channel.ONLINE and not isolated:
            snippet = await self.client.identification_form(order_uri, product, campaign, ajax=True)
            html = snippet + _opener(self._absolute(payment.urls.return_url("abort")))
            step = Embed(html, csp.needs(html, order_uri))
        else:
            # Phone and till: the customer fills the form on their own phone, never the operator.
            await self.client.send_form(order_uri, product, campaign)
            step = Instructions(
                (("Sent by SMS to", _phone(payment.order)), ("Product", product), ("Amount", payment.amount.display())),
                note=("The customer completes the SeQura form on their phone. "
                      + ("Confirm the sale here once the phone shows approval." if isolated
                         else "The order confirms itself when SeQura approves it.")))
        return Started(step, observation, reference=uuid, data=data)

    # ------------------------------------------------------------------ callbacks

    async def verify_callback(self, request: Request, body: bytes, payment: PaymentAttempt) -> CallbackClaim:
        try:
            pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(body))
        except (UnicodeDecodeError, ValueError) as exc:
            raise CallbackRejected("not a form-encoded body") from exc
        raw = dict(pairs)
        # Events prefix the shop's parameters with m_; some senders prefix IPN ones too.
        fields = {**{k[2:]: v for k, v in raw.items() if k.startswith("m_")}, **raw}
        if "event" in raw:
            kind, word = "events", raw["event"]
        elif "sq_state" in raw:
            kind, word = "ipn", raw["sq_state"]
        else:
            raise CallbackRejected("neither sq_state nor event")
        given = fields.get("signature", "")
        number = payment.order.number
        if not given or not signature_ok(self.hmac_key, kind, payment.id, number, given):
            raise CallbackRejected("signature does not match")
        if fields.get("payment") != str(payment.id) or fields.get("order") != number:
            raise CallbackRejected("parameters name another payment")
        order_ref = raw.get("order_ref", "")
        if payment.reference and order_ref != payment.reference:
            raise CallbackRejected("order_ref is not this payment's SeQura order")
        if kind == "ipn" and word not in IPN_STATES:
            raise CallbackRejected(f"unknown sq_state {word!r}")
        if kind == "events" and word not in EVENTS:
            raise UnsupportedCallback(f"Unknown event '{word}'")  # answered 501, as SeQura expects
        data = {"kind": kind, "order_ref": order_ref, "order_ref_1": raw.get("order_ref_1", ""),
                "product_code": raw.get("product_code", ""), "sq_state" if kind == "ipn" else "event": word}
        if "risk_level" in raw:
            data["risk_level"] = raw["risk_level"]
        return CallbackClaim(word, order_ref or payment.reference, f"sequra:{order_ref}:{kind}:{word}", data)

    async def fetch(self, payment: PaymentAttempt, claim: CallbackClaim | None = None) -> Observation:
        if claim is None:
            raise ReadBackUnavailable("SeQura offers no read-back; only an IPN or event tells its state")
        uuid = claim.reference or payment.reference or ""
        if claim.data.get("kind") == "ipn" and claim.event in CONFIRM_STATE:
            # Also after the shop expired or cancelled the payment: an approval is never dropped;
            # the core marks it a late payment for the merchant to decide (ship or refund).
            target = CONFIRM_STATE[claim.event]
            if payment.status in (PaymentStatus.PAID, PaymentStatus.REFUNDED):
                # Confirmed before: a repeated IPN is answered from what the shop knows. Asking
                # SeQura again could get a 409 once the order has shipped, and a 409 cancels it.
                # A late needs_review must never put a confirmed order back on hold either.
                return self._seen(payment, uuid, target, claim.data.get("product_code"))
            try:
                return await self.confirm(payment, target, product_code=claim.data.get("product_code"))
            except ProviderUnavailable as exc:
                # SeQura will not send this IPN again: the shop owes the PUT and retries it itself
                # (the reconciler, from the intent the core kept). The IPN is answered 200.
                return self._not_yet(payment, self._owed(payment, target, _now()), exc.message, _now())
        if claim.event == "cancel":
            try:  # SeQura asks; the shop empties both carts
                await self._update(payment, shipped=None, unshipped=None)
            except ProviderError as exc:
                if exc.status != 404:  # 404: not confirmed yet, nothing to empty
                    raise
            return self._seen(payment, uuid, "cancelled", detail="cancelled at SeQura's request")
        if claim.event == "risk_assessment":
            level = claim.data.get("risk_level", "unknown_risk")
            return Observation(payment.status, f"risk_assessment:{level}", f"sequra:{uuid}:risk:{level}",
                               reference=uuid, detail=f"SeQura risk assessment: {level}")
        return self._seen(payment, uuid, claim.event)  # cancelled (review failed, or by SeQura)

    def _seen(self, payment: PaymentAttempt, uuid: str, word: str, product: str | None = None,
              detail: str = "", data: dict | None = None) -> Observation:
        detail = detail or HOLD_NOTE.get(word, "")
        return Observation(STATUS[word] or payment.status, word, f"sequra:{uuid}:{word}", reference=uuid,
                           detail=detail,
                           data={**({"product_code": product} if product else {}), **(data or {})},
                           next_step=REVIEW_STEP if word == "on_hold" else None)

    async def confirm(self, payment: PaymentAttempt, state: str = "confirmed", *,
                      product_code: str | None = None) -> Observation:
        """PUT the full payload with ``confirmed``/``on_hold``, then register the order reference.

        A 409 means SeQura confirms nothing. It stays a plain ProviderError, not CartChanged: the
        core has already found the cart unchanged, the PUT repeats the frozen order, and SeQura
        also answers 409 for an order it never approved (a forged IPN), which must change nothing
        in the shop. The core answers REJECTED, which SeQura gets as 409: the form shows the
        conflict, SeQura drops its order, the shopper checks out again."""
        order_uri = payment.data["order_uri"]
        await self.client.put_order(order_uri, self._payload(payment, state=state))
        data: dict[str, Any] = {KEY: None}  # owed no more
        if state == "on_hold":
            # SeQura reviews, then sends a second IPN; if that one never comes, ask.
            now = _now()
            data = Intent.new(payment.data, "confirmed", "review", now, due=now + self._bound).as_data()
        detail = ""
        if self.settings.register_reference_on_confirm:
            try:
                await self.register_reference(payment, payment.order.number)
                data["order_ref_1"] = payment.order.number
            except ProviderError as exc:  # confirmed all the same; the back office can retry it
                detail = f"Confirmed, but the order reference was not registered: {exc.message}"
        uuid = order_uri.rstrip("/").rsplit("/", 1)[-1]
        return self._seen(payment, uuid, state, product_code or (payment.data or {}).get("product"), detail, data)

    # ------------------------------------------------------------------ confirmations the shop owes

    @property
    def _bound(self) -> timedelta:
        return timedelta(seconds=self.settings.checking_after_seconds)

    @staticmethod
    def _ipn_target(payment: PaymentAttempt, claim: CallbackClaim) -> str | None:
        """The PUT ``fetch`` makes for this callback, if any."""
        if claim.data.get("kind") != "ipn" or claim.event not in CONFIRM_STATE:
            return None
        if payment.status in (PaymentStatus.PAID, PaymentStatus.REFUNDED):
            return None  # answered from what the shop knows, without a PUT
        return CONFIRM_STATE[claim.event]

    def confirm_intent(self, payment: PaymentAttempt, claim: CallbackClaim) -> Observation | None:
        """What ``fetch`` is about to PUT for this IPN, for the core to keep before the call:
        a crash after SeQura's answer then leaves a confirmation the reconciler finishes."""
        target = self._ipn_target(payment, claim)
        kept = Intent.of(payment.data)
        if target is None or (kept is not None and kept.state == target and kept.seen == "ipn" and kept.scheduled):
            return None
        now = _now()
        # Due after the first back-off: a reconciler that still races a slow PUT repeats it, harmlessly.
        intent = self._owed(payment, target, now, due=now + backoff(1))
        return self._kept(payment, intent, f"{target}: owed to SeQura")

    def _owed(self, payment: PaymentAttempt, target: str, now: datetime, due: datetime | None = None) -> Intent:
        kept = Intent.of(payment.data)
        if kept is not None and kept.state == target and kept.seen == "ipn" and kept.scheduled:
            return kept
        return Intent.new(payment.data, target, "ipn", now, due=due or now)

    def _kept(self, payment: PaymentAttempt, intent: Intent, word: str, detail: str = "",
              step: Embed | None = None) -> Observation:
        """The record as an observation: no status change, one dedupe key per record and attempt."""
        uuid = payment.reference or ""
        return Observation(payment.status, word, f"sequra:{uuid}:intent:{intent.number}:{intent.tries}",
                           reference=uuid or None, detail=detail, data=intent.as_data(), next_step=step)

    def _not_yet(self, payment: PaymentAttempt, intent: Intent, error: str, now: datetime) -> Observation:
        """An attempt that settled nothing: the record, backed off (a probe gives up after its
        window), and what the shopper reads meanwhile."""
        word = f"{intent.state}: not yet ({error})"
        if intent.seen != "ipn":
            give_up = intent.since + timedelta(seconds=self.settings.probe_for_seconds)
            return self._kept(payment, intent.failed(now, error, give_up), word,
                              detail=PROBE_NOTE if intent.seen == "probe" else "")
        if intent.state == "on_hold":  # what the shopper reads while SeQura reviews holds meanwhile too
            return self._kept(payment, intent.failed(now, error), word, detail=HOLD_NOTE["on_hold"], step=REVIEW_STEP)
        left = (intent.since + self._bound - now).total_seconds()
        step = confirming_step(left) if left > 0 else checking_step()
        return self._kept(payment, intent.failed(now, error), word, detail=APPROVED_NOTE, step=step)

    def settle_due(self, data: Mapping[str, Any], created_at: datetime, now: datetime) -> bool:
        """Whether the reconciler should call ``settle`` for this pending payment now: its record
        is due, or it has none and no IPN came within the bounded time."""
        if data.get("isolated") or not data.get("order_uri"):
            return False  # a till: the operator confirms; or never solicited
        intent = Intent.of(data)
        if intent is not None:
            return intent.scheduled and intent.due <= now
        return created_at + self._bound <= now

    async def settle(self, payment: PaymentAttempt, cart_problem: str = "", now: datetime | None = None) -> Observation:
        """Finish the confirmation the shop owes SeQura, or ask SeQura where no IPN came.

        The confirm PUT is repeated as it is (SeQura answers a repeated confirm with the same
        payload 200, as the reference PUT after every confirm shows); where the cart no longer
        holds what SeQura approved, the shop does not confirm, and cancels at SeQura what a
        crash may have left confirmed there. A probe (no IPN) never cancels: the IPN, if it
        comes, meets the core's cart check."""
        now = now or _now()
        intent = Intent.of(payment.data) or Intent.new(payment.data, "confirmed", "probe", now, due=now)
        if cart_problem:
            if intent.seen != "ipn":
                return self._not_yet(payment, intent, f"not asked: {cart_problem}", now)
            return await self._undo(payment, intent, cart_problem, now)
        try:
            return await self.confirm(payment, intent.state)
        except ProviderUnavailable as exc:
            return self._not_yet(payment, intent, exc.message, now)
        except ProviderError as exc:
            if intent.seen == "ipn" and exc.status == 409:  # SeQura refuses what it approved: it cancels it
                return self._seen(payment, payment.reference or "", "cancelled", data={KEY: None},
                                  detail=f"SeQura did not accept the order ({exc.message}). Please check out again.")
            return self._not_yet(payment, intent, exc.message, now)  # a probe's 409: not approved (yet)

    async def _undo(self, payment: PaymentAttempt, intent: Intent, problem: str, now: datetime) -> Observation:
        try:
            await self._cancel_at_sequra(payment)
        except ProviderUnavailable as exc:
            return self._not_yet(payment, intent, exc.message, now)
        except ProviderError as exc:
            if exc.status not in (404, 409):  # 404: SeQura had not confirmed it; 409: it will not have it
                return self._not_yet(payment, intent, exc.message, now)
        return self._seen(payment, payment.reference or "", "cancelled", data={KEY: None},
                          detail=f"Your order changed while SeQura was confirming it ({problem}), so the shop "
                                 "cancelled it at SeQura. Please check out again.")

    async def _cancel_at_sequra(self, payment: PaymentAttempt) -> None:
        """Both carts empty. The reference first: a crash may have come between the confirm PUT
        and the reference PUT, and the Order Update API finds an order by its reference only."""
        try:
            await self.register_reference(payment, self._order_ref(payment))
        except ProviderUnavailable:
            raise
        except ProviderError:
            pass  # not approved, or refused: the Order Update says whether SeQura holds it confirmed
        await self._update(payment, shipped=None, unshipped=None, what="cancellation")

    def needs_merchant(self, data: Mapping[str, Any], now: datetime) -> str:
        """Why the merchant should look at this payment now, or "": SeQura approved the order
        and the shop's confirmation is still not through after the bounded time."""
        intent = Intent.of(data)
        if intent is not None and intent.seen == "ipn" and intent.scheduled and intent.since + self._bound <= now:
            return ATTENTION[intent.state]
        return ""

    def callback_reply(self, outcome: CallbackOutcome) -> Response:
        """SeQura reads status codes only: 2xx accepted; 409 and 410 both mean "the shop does
        not take this order" (the form shows the conflict). REJECTED (forged, or SeQura refused
        the confirm PUT) is 409: for a genuine IPN that is what the spec asks, for a forged one
        any refusal will do. IGNORED (nothing the shop tracks) is 410."""
        if outcome is CallbackOutcome.UNSUPPORTED:
            return JSONResponse({"error": "Unknown event"}, status_code=501)
        status = {CallbackOutcome.ACCEPTED: 200, CallbackOutcome.IGNORED: 410, CallbackOutcome.CONFLICT: 409,
                  CallbackOutcome.RETRY: 503, CallbackOutcome.REJECTED: 409,
                  CallbackOutcome.UNKNOWN: 404}[outcome]
        return Response(status_code=status)

    # ------------------------------------------------------------------ back office

    def admin_actions(self, payment: PaymentAttempt) -> Sequence[AdminAction]:
        """Buttons on the back office's order page for a SeQura payment."""
        data = payment.data or {}
        if not data.get("order_uri"):
            return []
        actions: list[AdminAction] = []
        if payment.status is PaymentStatus.PENDING:
            if data.get("isolated"):
                actions.append(AdminAction("confirm_sale", "Confirm sale"))
            elif Intent.of(data) is not None or (payment.created_at and payment.created_at + self._bound <= _now()):
                actions.append(AdminAction("check_again", "Check again with SeQura"))
            if payment.channel is not Channel.ONLINE:
                actions.append(AdminAction("resend_sms", "Send the form again by SMS"))
        if payment.status is PaymentStatus.PAID:
            if not data.get("order_ref_1"):
                actions.append(AdminAction("register_reference", "Register ERP reference",
                                           (("reference", "ERP reference", "text"),)))
            left = self._left_to_ship(payment)
            if left and data.get("order_ref_1"):  # the Order Update API finds orders by that reference
                actions.append(AdminAction("ship_all", "Ship everything",
                                           confirm="Report every remaining item as shipped to SeQura?"))
                if sum(left.values()) > 1:
                    actions.append(AdminAction("ship_some", "Ship these", tuple(
                        (f"ship:{line.reference}", f"{line.name} (of {left[line.reference]})", "number")
                        for line in payment.order.lines_of(LineKind.PRODUCT) if left.get(line.reference))))
        return actions

    async def admin_action(self, name: str, payment: PaymentAttempt, form: dict[str, str]):
        if name not in {a.name for a in self.admin_actions(payment)}:
            raise ActionRefused("That action is not available for this payment now.")
        if name == "confirm_sale":
            return await self.confirm_at_till(payment)
        if name == "check_again":
            return await self.check_again(payment)
        if name == "resend_sms":
            await self.send_form_by_sms(payment)
            return f"SeQura sent the form again by SMS to {self.phone_of(payment)}."
        if name == "register_reference":
            reference = (form.get("reference") or "").strip()
            if not _REFERENCE.match(reference):
                raise ActionRefused("Enter the ERP reference: letters, digits and . _ / # - (at most 64).")
            await self.register_reference(payment, reference)
            return Observation(payment.status, f"order reference {reference}",
                               f"sequra:{payment.reference}:ref:{reference}", reference=payment.reference,
                               detail=f"Order reference {reference} registered at SeQura",
                               data={"order_ref_1": reference})
        if name == "ship_all":
            return await self.ship(payment)
        if name == "ship_some":
            parcel = {}
            for line in payment.order.lines_of(LineKind.PRODUCT):
                raw = (form.get(f"ship:{line.reference}") or "").strip() or "0"
                if not raw.isdigit():
                    raise ActionRefused(f"Enter how many of {line.name} are in the parcel, as a whole number.")
                if int(raw):
                    parcel[line.reference] = int(raw)
            left = self._left_to_ship(payment)
            too_many = [line.name for line in payment.order.lines_of(LineKind.PRODUCT)
                        if parcel.get(line.reference, 0) > left.get(line.reference, 0)]
            if too_many:
                raise ActionRefused(f"That is more than is left to ship of {', '.join(too_many)}.")
            if not parcel:
                raise ActionRefused("Enter how many of each item are in the parcel.")
            return await self.ship(payment, parcel)
        raise ActionRefused("That action is not available for this payment now.")

    def admin_routes(self):
        from .admin import routes

        return routes(self)

    def phone_of(self, payment: PaymentAttempt) -> str:
        return _phone(payment.order)

    def _left_to_ship(self, payment: PaymentAttempt) -> dict[str, int]:
        shipped = self._shipped(payment)
        return {line.reference: line.quantity - shipped.get(line.reference, 0)
                for line in payment.order.lines_of(LineKind.PRODUCT)
                if line.quantity > shipped.get(line.reference, 0)}

    async def register_reference(self, payment: PaymentAttempt, order_ref_1: str) -> None:
        """Step 4: the same full PUT, now with ``merchant_reference`` (e.g. an ERP number)."""
        await self.client.put_order(payment.data["order_uri"], self._payload(payment, order_ref_1=order_ref_1))

    async def check_again(self, payment: PaymentAttempt) -> Observation:
        """The merchant's "Check again": settle now, whatever the back-off said (a parked probe
        gets a new window). The record stays kept meanwhile, so a crash loses nothing here either."""
        now = _now()
        kept = Intent.of(payment.data)
        if kept is not None:
            since = now if kept.seen != "ipn" else kept.since
            fresh = Intent.new(payment.data, kept.state, kept.seen, since, due=now)
            payment = replace(payment, data={**payment.data, **fresh.as_data()})
        return await self.settle(payment, await self.runtime.services.order_problem(payment.order.number), now)

    async def confirm_at_till(self, payment: PaymentAttempt) -> Observation:
        """Isolated till: the operator saw approval on the customer's phone and confirms."""
        try:
            return await self.confirm(payment, "confirmed")
        except ProviderError as exc:
            if exc.status == 409:
                raise ProviderError(f"SeQura has not approved this sale (yet): {exc.message}. Wait until the "
                                    "customer's phone shows the approval.", status=409, code=exc.code) from exc
            raise

    async def send_form_by_sms(self, payment: PaymentAttempt, product: str | None = None) -> None:
        code, campaign = split_option(product or payment.option)
        await self.client.send_form(payment.data["order_uri"], code, campaign)

    async def ship(self, payment: PaymentAttempt, quantities: Mapping[str, int] | None = None) -> Observation:
        """Report a parcel: ``quantities`` is product reference -> quantity in it (None: all the
        rest). The shipped and unshipped carts are rebuilt from everything shipped so far."""
        shipped = self._shipped(payment)
        for line in payment.order.lines_of(LineKind.PRODUCT):
            add = line.quantity if quantities is None else quantities.get(line.reference, 0)
            shipped[line.reference] = min(line.quantity, shipped.get(line.reference, 0) + add)
        sent, kept = split_cart(payment.order, payment.amount, shipped, payment.refunded)
        await self._update(payment, shipped=sent, unshipped=kept, what="shipment")
        everything = not any(i["type"] == "product" for i in kept)
        parcel = ",".join(f"{ref}={qty}" for ref, qty in sorted(shipped.items()))
        return Observation(PaymentStatus.PAID, "shipped" if everything else "partially shipped",
                           f"sequra:{payment.reference}:shipped:{parcel}", reference=payment.reference,
                           data={"shipped": shipped})

    async def refund(self, payment: PaymentAttempt, amount: Money, reason: str) -> RefundSeen:
        """Partial: the items stay, with one ``other_payment`` for all refunds so far.
        Full: both carts empty (SeQura cancels the order)."""
        done = (payment.refunded or Money.zero(amount.currency)) + amount
        if done.minor >= payment.amount.minor:
            await self._update(payment, shipped=None, unshipped=None, what="refund")
        else:
            sent, kept = split_cart(payment.order, payment.amount, self._shipped(payment), done)
            await self._update(payment, shipped=sent, unshipped=kept, what="refund")
        return RefundSeen(f"{self._order_ref(payment)}:refunded:{done.minor}", amount)

    def _shipped(self, payment: PaymentAttempt) -> dict[str, int]:
        shipped = (payment.data or {}).get("shipped") or {}
        return {str(ref): int(qty) for ref, qty in shipped.items()} if isinstance(shipped, Mapping) else {}

    async def cancel(self, payment: PaymentAttempt) -> Observation:
        """Both carts empty. SeQura knows no order under this reference until it is confirmed
        (404, also while on hold): then the shop cancels on its side alone, like SeQura's own
        integration-core, and an approval that still comes is the core's late payment."""
        owed = Intent.of(payment.data)
        try:
            if owed is not None and owed.seen == "ipn":  # SeQura may hold it confirmed after a crash
                await self._cancel_at_sequra(payment)
            else:
                await self._update(payment, shipped=None, unshipped=None, what="cancellation")
        except ProviderError as exc:
            if exc.status != 404:
                raise
            return self._seen(payment, payment.reference or "", "cancelled", data={KEY: None},
                              detail="Cancelled in the shop; SeQura had not confirmed the order")
        return self._seen(payment, payment.reference or "", "cancelled", data={KEY: None})

    def _order_ref(self, payment: PaymentAttempt) -> str:
        return str((payment.data or {}).get("order_ref_1") or payment.order.number)

    async def _update(self, payment: PaymentAttempt, *, shipped: list | None, unshipped: list | None,
                      what: str = "update") -> None:
        """Order Update API. Its refusals reach the merchant with SeQura's reason and what was tried."""
        ref = self._order_ref(payment)
        body = update_payload(payment.order, merchant_ref=self.settings.merchant_ref, order_ref_1=ref,
                              platform=self.platform, shipped=shipped, unshipped=unshipped)
        try:
            await self.client.update_order(ref, body)
        except ProviderUnavailable:
            raise
        except ProviderError as exc:
            if exc.status == 404:
                message = (f"SeQura refused the {what}: it has no confirmed order with reference {ref}"
                           + ("" if (payment.data or {}).get("order_ref_1") else
                              " (register the ERP reference first)") + ".")
            else:
                message = f"SeQura refused the {what}: {exc.message}"
            raise ProviderError(message, status=exc.status, code=exc.code, fields=exc.fields) from exc

    def sandbox(self):
        from .sandbox import create_sandbox

        self._sandbox = create_sandbox(self.runtime.sandbox_http or httpx.AsyncClient())
        return self._sandbox

    async def aclose(self) -> None:
        # A mounted app's lifespan does not run: stop the sandbox's pending callbacks here.
        sandbox = getattr(self, "_sandbox", None)
        if sandbox is not None:
            await sandbox.state.sandbox.aclose()


# ---------------------------------------------------------------------- small helpers


def _now() -> datetime:
    return datetime.now(UTC)




def _with_query(url: str, query: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}{query}"


def _locale(order: OrderSnapshot) -> str:
    return language_code(order.customer.language, order.delivery_address.country_code)


def _phone(order: OrderSnapshot) -> str:
    return order.delivery_address.phone or order.customer.phone or order.invoice_address.phone


def _opener(abort_url: str) -> str:
    """Open the form as SeQura asks: wait for SequraFormInstance, move its iframe to <body> (the
    payment panel it came in is replaced when the payment moves on, and the form must stay until
    it sends the shopper back), set the close callback, show."""
    target = json.dumps(abort_url)
    return ("<script>(function open(){if(!window.SequraFormInstance){return setTimeout(open,100);}"
            "var frame=document.getElementById(window.SequraFormElement);"
            "if(frame&&frame.parentNode!==document.body){document.body.appendChild(frame);}"
            f"window.SequraFormInstance.setCloseCallback(function(){{window.location.href={target};}});"
            "window.SequraFormInstance.show();})();</script>\n")

"""SEQR: the shopper pays an invoice by scanning a QR code (or following a link) in the SEQR app.

start() sends the frozen order as an invoice; the page shows its QR code and waits. SEQR POSTs
the payment's notificationUrl when the payer has paid, and the core then calls fetch(), whose
getPaymentStatus is also what commits the payment at SEQR: an unread PAID is reversed after 20 s.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import hashlib
import html
import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import jinja2
from markupsafe import Markup
from starlette.requests import Request
from starlette.routing import BaseRoute
from starlette.types import ASGIApp

from shop.countries import codes_of, or_list
from shop.i18n import N_, install_in, use_locale
from shop.i18n import gettext as _
from shop.money import Money
from shop.payments.contract import (
    AdminAction,
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
    ReadBackUnavailable,
    RefundSeen,
    ShowCode,
    StartContext,
    Started,
)
from shop.payments.recorder import ZeepOperationPlugin
from shop.security import allow_in_csp

from . import codes
from .client import (
    RESELLER,
    Invoice,
    InvoiceRow,
    PaymentState,
    Principal,
    Report,
    ReportNotReady,
    SeqrClient,
    SeqrError,
)
from .instant import PURCHASE_CHARACTERS, issue_token
from .settings import SeqrSettings
from .status import to_payment_status

_templates = jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
                                autoescape=True, trim_blocks=True, lstrip_blocks=True)
install_in(_templates)


class SeqrPlugin(CheckoutPlugin):
    id = "seqr"
    name = "SEQR"
    capabilities = frozenset({Capability.REFUND, Capability.PARTIAL_REFUND, Capability.CANCEL,
                              Capability.STATUS_PUSH, Capability.INSTANT_CHECKOUT})
    settings_model = SeqrSettings
    has_read_back = True
    templates_dir = Path(__file__).parent / "templates"
    admin_links = (("/", N_("SEQR end of day")),)
    demo_flows = (
        DemoFlow(N_("Pay by scanning"),
                 N_("Place the order; open the sandbox app (link under the code, or the sandbox control page), "
                    "confirm, PIN 1234. The order page turns paid by itself."),
                 persona="sven"),
        DemoFlow(N_("Pay on a phone"),
                 N_("On a phone-sized window, tap Pay with SEQR; after paying, the app's OK button follows the "
                    "backURL to the receipt."),
                 persona="sven"),
        DemoFlow(N_("Payer's bank declines"),
                 N_("Place the order and pay in the app with PIN 1234: the payer's bank declines (scenario 'decline') "
                    "and the order page offers another try."),
                 persona="sven", scenario={"bank": "decline"}),
        DemoFlow(N_("Payer cancels"),
                 N_("Place the order and cancel in the app: the order page offers another try."),
                 persona="sven"),
        DemoFlow(N_("Notification lost"),
                 N_("Place the order and pay: no notification comes (scenario 'lost'); the payment is reversed after "
                    "20 s unless the shop reads it, and the sandbox shows the SMS sent to the payer."),
                 persona="sven", scenario={"notification": "lost"}),
        DemoFlow(N_("Refund"),
                 N_("In the back office, refund part of a paid SEQR order, then the rest.")),
        DemoFlow(N_("End of day"),
                 N_("Back office, SEQR end of day: close the period, then run a report.")),
        DemoFlow(N_("Instant Checkout"),
                 N_("On a product page, scan the SEQR Instant Checkout code (or open the sandbox app from the link "
                    "under it), confirm the stored address, then PIN 1234: the order is made, paid and confirmed "
                    "without visiting the cart.")),
    )

    def __init__(self, settings: SeqrSettings, runtime: PluginRuntime) -> None:
        super().__init__(settings, runtime)
        reseller = None
        if settings.reseller_id:
            reseller = Principal(settings.reseller_id, settings.reseller_password, RESELLER,
                                 settings.reseller_user_id)
        self.client = SeqrClient(runtime.http, settings.base_url,
                                 Principal(settings.terminal_id, settings.password),
                                 reseller=reseller, timeout=settings.http_timeout,
                                 plugins=[ZeepOperationPlugin()])  # names the SOAP operation in the event log
        self._sandbox = None
        # Pointed at its own sandbox, a browser can play the payer's phone there.
        self.uses_sandbox = settings.base_url.startswith(runtime.sandbox_url)
        self.periods: list[tuple[str, datetime, str | None]] = []  # closed this run: (id, when, terminal)

    async def options(self, order: OrderSnapshot) -> Sequence[PaymentOption]:
        currencies = codes_of(self.settings.currencies)
        unavailable = (_("SEQR takes payments in %(currencies)s only.") % {"currencies": or_list(currencies)}
                       if currencies and order.currency not in currencies else "")
        return [PaymentOption(self.id, self.id, self.name, detail=_("Scan the code with the SEQR app"),
                              unavailable=unavailable)]

    @property
    def read_back_after_seconds(self) -> float:
        return self.settings.read_back_after_seconds

    @property
    def payment_timeout_seconds(self) -> float:
        return self.settings.payment_timeout_seconds

    # ----------------------------------------------------------------- checkout

    def invoice_for(self, payment: PaymentAttempt) -> Invoice:
        order = payment.order
        rows = tuple(
            InvoiceRow(description=line.name, quantity=line.quantity, unit_price=line.unit_price,
                       total=line.total, sku=line.reference, tax_rate=line.tax_rate)
            for line in order.lines
        )
        if sum((r.total for r in rows), Money.zero(payment.amount.currency)) != payment.amount:
            rows = ()  # SEQR wants rows that add up to the total; without them it shows the total alone
        with use_locale(order.customer.language):  # the payer reads it in the app, in the shop's language
            title = _("%(shop)s order %(number)s") % {"shop": self.settings.shop_name, "number": order.number}
        return Invoice(
            title=title,
            total=payment.amount,
            rows=rows,
            client_invoice_id=order.number,
            issue_date=datetime.now(UTC).replace(microsecond=0),
            back_url=payment.urls.return_url("back"),
            notification_url=payment.urls.callback,
        )

    async def start(self, payment: PaymentAttempt, ctx: StartContext) -> Started:
        sent = await self.client.send_invoice(self.invoice_for(payment))
        expires_at = datetime.now(UTC) + timedelta(seconds=self.settings.payment_timeout_seconds)
        data: dict[str, Any] = {
            "invoice_reference": sent.reference,
            "qr_code": sent.qr_code,
            "expires_at": expires_at.isoformat(),
        }
        help_url = self.sandbox_app_url(sent.deep_link)
        if help_url:
            data["sandbox_app_url"] = help_url
        return Started(
            next_step=ShowCode(qr_payload=sent.qr_code, deep_link=sent.deep_link, expires_at=expires_at,
                               help_url=help_url),
            observation=Observation(status=PaymentStatus.PENDING, raw_status="ISSUED",
                                    dedupe_key=f"{sent.reference}:ISSUED:0", reference=sent.reference),
            reference=sent.reference,
            data=data,
        )

    # ----------------------------------------------------------------- reading back

    async def fetch(self, payment: PaymentAttempt, claim: CallbackClaim | None = None) -> Observation:
        if not (payment.reference or payment.data.get("invoice_reference")):
            raise ReadBackUnavailable("no SEQR invoice was sent for this payment")
        reference = self._reference(payment)
        # Reading PAID here is also what commits the payment at SEQR.
        return self._observe(payment, reference, await self.client.get_payment_status(reference))

    def _observe(self, payment: PaymentAttempt, reference: str, state: PaymentState) -> Observation:
        data: dict[str, Any] = {"invoice_reference": reference, "version": state.version}
        amount = None
        if state.ers_reference:
            data["ers_reference"] = state.ers_reference
            data["receipt"] = state.ers_reference  # what the shopper's receipt shows
        if state.receipt is not None:
            receipt = state.receipt
            data.update(payment_reference=receipt.payment_reference, payer_terminal_id=receipt.payer_terminal_id,
                        payment_date=receipt.payment_date.isoformat() if receipt.payment_date else None)
            amount = receipt.total  # None when the receipt says no total: the ledger decides
        detail = {
            "CANCELED": _("The SEQR invoice was cancelled (by the payer, the shop, or reversed unread)."),
            "FAILED": _("The payer's bank declined the SEQR payment."),
            "EXPIRED": _("The SEQR invoice expired unpaid."),
            "PAID": _("Paid with SEQR, receipt %(receipt)s.") % {"receipt": state.ers_reference},
        }.get(state.status, "")
        return Observation(
            status=to_payment_status(state.status),
            raw_status=state.status,
            dedupe_key=f"{reference}:{state.status}:{state.version}",
            reference=reference,
            amount=amount,
            detail=detail,
            data=data,
        )

    async def verify_callback(self, request: Request, body: bytes, payment: PaymentAttempt) -> CallbackClaim:
        # SEQR signs nothing and its body has varied (form fields, then empty): the unguessable
        # token in the URL is the only secret, and getPaymentStatus is the only truth.
        if not (payment.reference or payment.data.get("invoice_reference")):
            raise CallbackRejected("no SEQR invoice was sent for this payment")
        return CallbackClaim(event="notification", reference=self._reference(payment))

    # ----------------------------------------------------------------- back office

    async def refund(self, payment: PaymentAttempt, amount: Money, reason: str) -> RefundSeen:
        ers_reference = payment.data.get("ers_reference")
        if not ers_reference:  # kept only if the core merged fetch()'s data; a PAID read has it too
            ers_reference = (await self.client.get_payment_status(self._reference(payment))).ers_reference
        if not ers_reference:
            raise SeqrError(codes.INVALID_ERS_REFERENCE, None)
        title = f"Refund, {self.settings.shop_name} order {payment.order.number}"
        if reason:
            title = f"{title}: {reason}"
        answer = await self.client.refund_payment(ers_reference, amount, title=title,
                                                  client_invoice_id=payment.order.number)
        return RefundSeen(provider_id=answer.ers_reference or f"{ers_reference}:{amount.minor}", amount=amount)

    async def cancel(self, payment: PaymentAttempt) -> Observation:
        reference = self._reference(payment)
        await self.client.cancel_invoice(reference)
        seen = await self.fetch(payment)
        if seen.raw_status == "CANCELED" and self._timed_out(payment):
            # The reconciler cancels an invoice left unpaid past its time: tell the shopper so.
            seconds = self.settings.payment_timeout_seconds
            within = (f"{seconds / 60:g} minute{'s' if seconds != 60 else ''}" if seconds >= 60
                      else f"{seconds} second{'s' if seconds != 1 else ''}")
            seen = dataclasses.replace(seen, status=PaymentStatus.EXPIRED,
                                       detail=f"The SEQR invoice was not paid within {within}, so it was cancelled. "
                                              "No money was taken.")
        return seen

    def _timed_out(self, payment: PaymentAttempt) -> bool:
        created = payment.created_at
        if created is None or not self.settings.payment_timeout_seconds:
            return False
        if created.tzinfo is None:
            created = created.replace(tzinfo=UTC)
        return datetime.now(UTC) - created >= timedelta(seconds=self.settings.payment_timeout_seconds)

    async def update_invoice(self, payment: PaymentAttempt, invoice: Invoice | None = None) -> None:
        """Replace an unpaid invoice's rows and total, by default with the payment's order and
        amount as they are now (e.g. after the merchant edited the order)."""
        await self.client.update_invoice(self._reference(payment), invoice or self.invoice_for(payment))

    async def mark_transaction_period(self, terminal_id: str | None = None) -> str:
        """End of day: close the reconciliation period; returns its id for execute_report."""
        period_id = await self.client.mark_transaction_period(terminal_id)
        self.periods.insert(0, (period_id, datetime.now(UTC), terminal_id))
        return period_id

    async def execute_report(self, report_id: str, period_id: str, *, terminal_id: str | None = None,
                             language: str = "en") -> Report:
        """Fetch a report, waiting out REPORT_NOT_READY a bounded number of times."""
        for attempt in range(max(1, self.settings.report_attempts)):
            try:
                return await self.client.execute_report(report_id, period_id, terminal_id=terminal_id,
                                                        language=language)
            except ReportNotReady:
                if attempt == self.settings.report_attempts - 1:
                    raise
                await asyncio.sleep(self.settings.report_wait)
        raise AssertionError("unreachable")

    # ----------------------------------------------------------------- back-office buttons

    def admin_actions(self, payment: PaymentAttempt) -> Sequence[AdminAction]:
        if not (payment.reference or payment.data.get("invoice_reference")):
            return []
        if payment.status == PaymentStatus.PENDING:
            return [AdminAction("update_invoice", "Update SEQR invoice",
                                fields=(("title", "Title", "text"), ("new_total", "New total", "text")))]
        if payment.status == PaymentStatus.PAID and payment.data.get("ers_reference"):
            return [AdminAction("send_receipt", "Send receipt to the payer's app")]
        return []

    async def admin_action(self, name: str, payment: PaymentAttempt, form: dict[str, str]) -> str:
        if name == "update_invoice":
            invoice = self.invoice_for(payment)
            if form.get("new_total", "").strip():
                try:
                    total = Money.from_decimal(form["new_total"].strip().replace(",", "."), payment.amount.currency)
                except (ArithmeticError, ValueError):
                    raise ProviderError("Enter the new total like 12.50.", fields={"new_total": "not an amount"}) \
                        from None
                invoice = dataclasses.replace(invoice, total=total, rows=())
            if form.get("title", "").strip():
                invoice = dataclasses.replace(invoice, title=form["title"].strip()[:80])
            await self.update_invoice(payment, invoice)
            return f"SEQR invoice {self._reference(payment)} updated: {invoice.title}, {invoice.total.display()}."
        if name == "send_receipt":
            html = self.receipt_html(payment)
            await self.client.submit_payment_receipt(payment.data["ers_reference"], html.encode())
            return "Receipt sent to the payer's SEQR app."
        raise NotImplementedError(name)

    def receipt_html(self, payment: PaymentAttempt) -> str:
        """A plain receipt for the payer's app: the order's lines, nothing personal."""
        order = payment.order
        rows = "".join(f"<tr><td>{html.escape(line.name)}</td><td>{line.quantity}</td>"
                       f"<td>{line.total.display()}</td></tr>" for line in order.lines)
        return (f"<html><body><h1>{html.escape(self.settings.shop_name)}</h1><p>Order {html.escape(order.number)}"
                f"</p><table>{rows}</table><p>Total {payment.amount.display()}</p>"
                f"<p>SEQR receipt {html.escape(payment.data.get('ers_reference', ''))}</p></body></html>")

    def admin_routes(self) -> Sequence[BaseRoute]:
        from .admin import routes

        return routes(self)

    # ----------------------------------------------------------------- Instant Checkout

    def routes(self) -> Sequence[BaseRoute]:
        from .routes import routes

        return routes(self)

    def instant_secret(self) -> str:
        """The key purchase tokens are signed with: its own setting, else the shop's secret key."""
        services = self.runtime.services
        return self.settings.instant_checkout_secret or (services.secret_key if services else "")

    async def product_extra(self, product, request=None) -> Markup | str:
        """A product page's SEQR Instant Checkout code, drawn by SEQR's widget as its guide says:
        the page loads the widget script and calls ``seqrQRCode.qrCode`` with the product's
        purchase token, the webshop id and the mode. The shop never makes up the code itself."""
        if product.stock <= 0 or product.id is None or not self.instant_secret():
            return ""
        token = issue_token(self.instant_secret(), self.settings.webshop_id, product.id)
        if not PURCHASE_CHARACTERS.match(token):
            raise ValueError(f"not a SEQR purchase token: {token!r}")
        options = {"selector": "#seqr-instant-qr", "purchaseToken": token, "webshopId": self.settings.webshop_id}
        if self.settings.instant_mode:
            options["mode"] = self.settings.instant_mode  # "demo" while integrating; none in production
        init = f"if (window.seqrQRCode) {{ seqrQRCode.qrCode({json.dumps(options)}); }}".replace("<", "\\u003c")
        widget = self.widget_url
        if request is not None:  # this page's Content-Security-Policy lets the widget in
            origin = _origin(widget)
            allow_in_csp(request, {"script-src": (origin, _script_hash(init)), "img-src": (origin,),
                                   "connect-src": (origin,)})
        return Markup(_templates.get_template("instant_checkout.html").render(
            product=product, widget_url=widget, init=Markup(init)))

    @property
    def widget_url(self) -> str:
        return self.settings.instant_widget_url.replace("{sandbox_url}", self.runtime.sandbox_url)

    def sandbox_app_url(self, code: str) -> str:
        """Where a browser plays the payer's SEQR app opening ``code`` (the SEQR: link or a QR's URL):
        the sandbox's phone app when the plugin uses its sandbox, else nothing."""
        if not self.uses_sandbox:
            return ""
        return f"{self.runtime.sandbox_url}/app?" + urlencode({"code": code})

    # ----------------------------------------------------------------- sandbox

    def sandbox(self) -> ASGIApp | None:
        from .sandbox import create_sandbox

        create_purchase = f"{self.runtime.public_url.rstrip('/')}/pay/{self.id}/createPurchase"
        self._sandbox = create_sandbox(self.runtime.sandbox_http, webshops={self.settings.webshop_id: create_purchase},
                                       shop_origins=(self.runtime.public_url,))
        return self._sandbox

    async def aclose(self) -> None:
        # A mounted app's lifespan does not run: stop the sandbox's pending notifications here.
        if self._sandbox is not None:
            await self._sandbox.state.sandbox.aclose()

    # ----------------------------------------------------------------- helpers

    @staticmethod
    def _reference(payment: PaymentAttempt) -> str:
        reference = payment.reference or payment.data.get("invoice_reference")
        if not reference:
            raise SeqrError(codes.INVALID_INVOICE_REFERENCE, None)
        return reference


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _script_hash(source: str) -> str:
    """A CSP source for one inline script, so that the page needs no 'unsafe-inline'."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(source.encode()).digest()).decode() + "'"

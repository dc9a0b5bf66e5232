"""SeqrPlugin on the contract, against the sandbox in-process."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from starlette.requests import Request

from plugins.seqr import codes
from plugins.seqr.client import PaymentState, Receipt, ReportNotReady, SeqrError
from plugins.seqr.plugin import SeqrPlugin
from plugins.seqr.sandbox.state import TEST_PIN
from plugins.seqr.settings import SeqrSettings
from shop.money import Money
from shop.payments.contract import (
    CallbackOutcome,
    CallbackRejected,
    Capability,
    CheckoutPlugin,
    PaymentStatus,
    PluginRuntime,
    ProviderUnavailable,
    ShowCode,
    StartContext,
)

from .conftest import ENDPOINT, SANDBOX, make_order, make_payment

pytestmark = pytest.mark.anyio


@pytest.fixture
def plugin(http):
    runtime = PluginRuntime(http=http, public_url="http://shop.test", sandbox_url=SANDBOX)
    return SeqrPlugin(SeqrSettings(base_url=ENDPOINT, report_wait=0.01), runtime)


async def started_payment(plugin, **changes):
    payment = make_payment(**changes)
    started = await plugin.start(payment, StartContext())
    payment = dataclasses.replace(payment, reference=started.reference, data=started.data,
                                  status=PaymentStatus.PENDING)
    return payment, started


def request() -> Request:
    return Request({"type": "http", "method": "POST", "path": "/pay/seqr/cb/tok123", "headers": [],
                    "query_string": b""})


def test_declarations():
    assert isinstance(SeqrPlugin.__new__(SeqrPlugin), CheckoutPlugin)
    assert issubclass(SeqrPlugin, CheckoutPlugin)
    assert (SeqrPlugin.id, SeqrPlugin.name, SeqrPlugin.has_read_back) == ("seqr", "SEQR", True)
    assert SeqrPlugin.capabilities == {Capability.REFUND, Capability.PARTIAL_REFUND, Capability.CANCEL,
                                       Capability.STATUS_PUSH, Capability.INSTANT_CHECKOUT}
    defaults = SeqrSettings()
    assert defaults.read_back_after_seconds == 5  # read well inside SEQR's 20 s commit window
    assert defaults.base_url == "{sandbox_url}/soap/merchant/cashregister-2"
    assert (defaults.terminal_id, defaults.password) == ("public_test_shop_terminal", "12345678")
    for f in dataclasses.fields(SeqrSettings):
        assert f.type in ("str", "int", "float", "bool")


async def test_start_sends_the_frozen_order(plugin, sb):
    payment, started = await started_payment(plugin)
    step = started.next_step
    assert isinstance(step, ShowCode)
    assert step.qr_payload == f"HTTP://SEQR.SE/R{started.reference}"
    assert step.deep_link == f"SEQR://SEQR.SE/R{started.reference}"
    assert started.observation.status is PaymentStatus.PENDING
    assert started.data["invoice_reference"] == started.reference
    assert started.data["sandbox_app_url"] == f"{SANDBOX}/app?code=SEQR%3A%2F%2FSEQR.SE%2FR{started.reference}"
    assert step.help_url == started.data["sandbox_app_url"]  # "No phone at hand? Open the SEQR app here"
    sent = sb.invoices[started.reference].data
    assert sent["acknowledgment_mode"] == "NO_ACKNOWLEDGMENT" and sent["payment_mode"] == "IMMEDIATE_DEBIT"
    assert sent["notification_url"] == "http://shop.test/pay/seqr/cb/tok123"
    assert sent["back_url"] == "http://shop.test/pay/seqr/return/tok123/back"
    assert sent["client_invoice_id"] == "1001" and sent["title"] == "Cartwheel order 1001"
    assert (sent["total"], sent["currency"]) == (Decimal("27.90"), "EUR")
    assert [(r["description"], r["quantity"], r["total"], r["sku"], r["tax_rate"]) for r in sent["rows"]] == [
        ("Enamel mug", 2, Decimal("25.00"), "MUG-1", 25),
        ("Shipping", 1, Decimal("4.90"), "shipping", 25),
        ("Welcome discount", 1, Decimal("-2.00"), "WELCOME", 25),
    ]


async def test_start_without_rows_when_amount_differs(plugin, sb):
    _, started = await started_payment(plugin, amount=Money(1000, "EUR"))
    assert sb.invoices[started.reference].data["rows"] == []


async def test_start_refused_is_a_provider_error(plugin):
    order = make_order(currency="USD")
    with pytest.raises(SeqrError) as info:
        await plugin.start(make_payment(order), StartContext())
    assert info.value.result_code == codes.INVALID_INVOICE_DATA


async def test_fetch_follows_the_life_cycle(plugin, sb):
    payment, started = await started_payment(plugin)
    first = await plugin.fetch(payment)
    assert (first.status, first.raw_status, first.dedupe_key) == (
        PaymentStatus.PENDING, "ISSUED", f"{started.reference}:ISSUED:0")
    assert first.dedupe_key == started.observation.dedupe_key  # the same fact, the same key
    sb.scan(started.reference)
    sb.confirm(started.reference, TEST_PIN)
    paid = await plugin.fetch(payment)
    assert paid.status is PaymentStatus.PAID and paid.amount == Money(2790, "EUR")
    assert paid.data["ers_reference"] == sb.invoices[started.reference].ers_reference
    assert paid.data["receipt"] == paid.data["ers_reference"]  # shown on the shopper's receipt
    assert paid.dedupe_key == f"{started.reference}:PAID:1"
    assert (await plugin.fetch(payment)).dedupe_key == paid.dedupe_key  # repeated read, same key


async def test_a_receipt_without_a_total_is_observed_without_an_amount(plugin, sb):
    """The amount is what SEQR reported or nothing: never the payment's own, which would make the
    ledger's amount check pass whatever was paid."""
    payment, started = await started_payment(plugin)
    receipt = Receipt(terminal_id=None, payment_date=None, client_invoice_id=None, invoice_reference=None,
                      payment_reference="p-1", payer_terminal_id=None, receiver_name=None, total=None)
    seen = plugin._observe(payment, started.reference, PaymentState("PAID", 1, "ers-1", receipt))
    assert seen.status is PaymentStatus.PAID and seen.amount is None


async def test_callback_is_a_trigger_only(plugin, sb):
    payment, started = await started_payment(plugin)
    claim = await plugin.verify_callback(request(), b"invoiceReference=forged", payment)
    assert claim.reference == started.reference  # nothing read from the body
    # a forged notification: the read-back says what is true
    assert (await plugin.fetch(payment, claim)).status is PaymentStatus.PENDING
    with pytest.raises(CallbackRejected):
        await plugin.verify_callback(request(), b"", make_payment())


def test_callback_replies():
    plugin = SeqrPlugin.__new__(SeqrPlugin)
    assert plugin.callback_reply(CallbackOutcome.ACCEPTED).status_code == 200
    assert plugin.callback_reply(CallbackOutcome.RETRY).status_code == 503
    assert plugin.callback_reply(CallbackOutcome.UNKNOWN).status_code == 404


async def test_fetch_when_seqr_is_down(plugin, sb):
    payment, _ = await started_payment(plugin)
    sb.read_back_broken = True
    with pytest.raises(ProviderUnavailable):
        await plugin.fetch(payment)


async def test_unread_payment_reversed_is_seen_as_cancelled(plugin, sb):
    payment, started = await started_payment(plugin)
    sb.scan(started.reference)
    sb.confirm(started.reference, TEST_PIN)
    sb.clock.advance(21)
    seen = await plugin.fetch(payment)
    assert (seen.status, seen.raw_status) == (PaymentStatus.CANCELLED, "CANCELED")


async def test_declined_payment_fails(plugin, sb):
    sb.scenarios.bank = "decline"
    payment, started = await started_payment(plugin)
    sb.scan(started.reference)
    sb.confirm(started.reference, TEST_PIN)
    seen = await plugin.fetch(payment)
    assert seen.status is PaymentStatus.FAILED and "declined" in seen.detail


async def test_cancel_while_payer_is_paying_is_refused(plugin, sb):
    payment, started = await started_payment(plugin)
    sb.scan(started.reference)
    with pytest.raises(SeqrError) as info:
        await plugin.cancel(payment)
    assert info.value.result_code == codes.CANNOT_CANCEL_INVOICE_IN_PROGRESS
    assert (await plugin.fetch(payment)).status is PaymentStatus.PENDING


async def test_cancel(plugin, sb):
    payment, started = await started_payment(plugin)
    seen = await plugin.cancel(payment)
    assert seen.status is PaymentStatus.CANCELLED
    assert (await plugin.cancel(payment)).status is PaymentStatus.CANCELLED  # 95 counts as done


async def test_cancel_paid_is_refused(plugin, sb):
    payment, started = await started_payment(plugin)
    sb.scan(started.reference)
    sb.confirm(started.reference, TEST_PIN)
    await plugin.fetch(payment)
    with pytest.raises(SeqrError) as info:
        await plugin.cancel(payment)
    assert info.value.result_code == codes.CANNOT_CANCEL_PAID_INVOICE


async def test_refunds(plugin, sb):
    payment, started = await started_payment(plugin)
    sb.scan(started.reference)
    sb.confirm(started.reference, TEST_PIN)
    paid = await plugin.fetch(payment)
    payment = dataclasses.replace(payment, data={**payment.data, **paid.data}, status=PaymentStatus.PAID)
    part = await plugin.refund(payment, Money(900, "EUR"), "broken handle")
    assert part.amount == Money(900, "EUR") and part.done and len(part.provider_id) == 25
    # without the ers reference kept, the plugin reads it back
    bare = dataclasses.replace(payment, data={"invoice_reference": started.reference})
    rest = await plugin.refund(bare, Money(1890, "EUR"), "")
    assert rest.provider_id != part.provider_id
    assert sb.invoices[started.reference].refunded == Decimal("27.90")
    with pytest.raises(SeqrError) as info:
        await plugin.refund(payment, Money(1, "EUR"), "")
    assert info.value.result_code == codes.SUM_OF_REFUNDS_TOO_HIGH


async def test_refund_of_unpaid_is_refused(plugin):
    payment, _ = await started_payment(plugin)
    with pytest.raises(SeqrError):
        await plugin.refund(payment, Money(100, "EUR"), "")


async def test_update_invoice(plugin, sb):
    payment, started = await started_payment(plugin)
    smaller = dataclasses.replace(payment, amount=Money(2000, "EUR"))
    await plugin.update_invoice(smaller)
    assert sb.invoices[started.reference].total == Decimal("20.00")


async def test_end_of_day_report_waits_until_ready(plugin, sb):
    payment, started = await started_payment(plugin)
    sb.scan(started.reference)
    sb.confirm(started.reference, TEST_PIN)
    await plugin.fetch(payment)
    sb.scenarios.report_delay_seconds = 0.05
    sb.clock = _RealClock()
    period = await plugin.mark_transaction_period()
    report = await plugin.execute_report("Reconciliation/STD_RECON_003.xml", period)
    assert report.rows()[0]["SalesAmount"] == "27.90000"


async def test_report_gives_up_after_bounded_tries(plugin, sb):
    sb.scenarios.report_delay_seconds = 3600
    period = await plugin.mark_transaction_period()
    with pytest.raises(ReportNotReady):
        await asyncio.wait_for(plugin.execute_report("Reconciliation/Shop.xml", period), 5)


async def test_sandbox_knows_the_shops_create_purchase(plugin):
    app = plugin.sandbox()
    assert app.state.sandbox.webshops == {"cartwheel": "http://shop.test/pay/seqr/createPurchase"}


class _RealClock:
    """Wall time only, so that the plugin's real waits let the report become ready."""

    def now(self):
        return datetime.now(UTC)


async def test_the_sandbox_widget_draws_the_code_its_app_opens(plugin, http):
    """The stand-in of SEQR's widget script: the guide's call, the code as an image, the app."""
    script = await http.get("/seqrQRCode-0.0.1.min.js")
    assert script.status_code == 200 and "window.seqrQRCode = {qrCode: qrCode}" in script.text
    assert script.headers["content-type"].startswith("application/javascript")
    code = "HTTP://SEQR.SE/000/ic?w=cartwheel&t=MUG-1"
    image = await http.get("/instant/qr.svg", params={"code": code})
    assert image.status_code == 200 and image.headers["content-type"] == "image/svg+xml" and "<svg" in image.text
    assert (await http.get("/instant/qr.svg", params={"code": "javascript:alert(1)"})).status_code == 400
    r = await http.get("/app", params={"code": code})
    assert r.status_code == 303 and "w=cartwheel" in r.headers["location"] and "t=MUG-1" in r.headers["location"]


async def test_fetch_without_an_invoice(plugin):
    from shop.payments.contract import ReadBackUnavailable

    with pytest.raises(ReadBackUnavailable):
        await plugin.fetch(make_payment())


async def test_cancelling_an_invoice_left_unpaid_past_its_time_says_it_timed_out(plugin, sb):
    from datetime import timedelta

    payment, started = await started_payment(plugin)
    fresh = await plugin.cancel(dataclasses.replace(payment, created_at=datetime.now(UTC)))
    assert (fresh.status, fresh.raw_status) == (PaymentStatus.CANCELLED, "CANCELED")  # the merchant's cancel
    payment, started = await started_payment(plugin)
    old = dataclasses.replace(payment, created_at=datetime.now(UTC) - timedelta(seconds=301))
    seen = await plugin.cancel(old)
    assert (seen.status, seen.raw_status) == (PaymentStatus.EXPIRED, "CANCELED")
    assert "not paid within 5 minutes" in seen.detail
    assert sb.invoices[started.reference].status == "CANCELED"


async def test_product_extra_needs_a_secret_and_stock(plugin):
    class Product:
        id, sku, name, stock = 3, "MUG-1", "Enamel mug", 5

    assert await plugin.product_extra(Product()) == ""  # no secret to sign tokens with: no code
    plugin.settings = dataclasses.replace(plugin.settings, instant_checkout_secret="s3cret")
    shown = await plugin.product_extra(Product())
    assert "Buy it now with SEQR" in shown and '<div id="seqr-instant-qr"' in shown
    # SEQR's widget from the configured address, called as its guide says; no code made up here.
    assert f'<script src="{SANDBOX}/seqrQRCode-0.0.1.min.js"></script>' in shown
    assert 'seqrQRCode.qrCode({"selector": "#seqr-instant-qr", "purchaseToken": "3.' in shown
    assert '"webshopId": "cartwheel", "mode": "demo"}' in shown and "SEQR.SE/000" not in shown
    plugin.settings = dataclasses.replace(plugin.settings, instant_mode="")
    assert '"mode"' not in await plugin.product_extra(Product())  # production: no mode, as the guide says
    Product.stock = 0
    assert await plugin.product_extra(Product()) == ""


async def test_no_sandbox_links_when_pointed_at_seqr(http):
    runtime = PluginRuntime(http=http, public_url="http://shop.test", sandbox_url=SANDBOX)
    real = SeqrPlugin(SeqrSettings(base_url="https://extdev.seqr.com/soap/merchant/cashregister-2"), runtime)
    assert not real.uses_sandbox and real.sandbox_app_url("HTTP://SEQR.SE/R1") == ""


async def test_options_are_disabled_for_a_currency_the_terminal_does_not_take(plugin):
    (option,) = await plugin.options(make_order(currency="SEK"))
    assert not option.unavailable
    (option,) = await plugin.options(make_order(currency="USD"))
    assert option.unavailable == "SEQR takes payments in EUR or SEK only."

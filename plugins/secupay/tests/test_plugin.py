import json
from dataclasses import replace

import pytest

from plugins.secupay.plugin import SecupayPlugin
from shop.money import Money
from shop.payments.contract import (
    CallbackOutcome,
    CallbackRejected,
    Capability,
    Instructions,
    PaymentStatus,
    PluginRuntime,
    ProviderUnavailable,
    Redirect,
    StartContext,
)

from .conftest import SB, make_order, make_payment, started_payment


async def start(plugin, option="general", **kw):
    payment = make_payment(option=option, **kw)
    started = await plugin.start(payment, StartContext())
    return started_payment(payment, started), started


def test_declared_contract():
    assert SecupayPlugin.id == "secupay" and SecupayPlugin.name == "secupay"
    assert SecupayPlugin.capabilities == {Capability.REFUND, Capability.PARTIAL_REFUND, Capability.CANCEL,
                                          Capability.CAPTURE, Capability.STATUS_PUSH}
    assert SecupayPlugin.has_read_back and SecupayPlugin.templates_dir is None  # the core draws every step


@pytest.mark.anyio
async def test_options_general_and_per_method(plugin):
    options = await plugin.options(make_order())
    assert [o.option_id for o in options] == ["general", "creditcard", "debit", "paypal", "prepaid", "invoice"]
    assert {o.plugin_id for o in options} == {"secupay"}
    from decimal import Decimal

    from shop.payments.contract import LineKind, OrderLine
    assert not any(o.unavailable for o in options)
    usd = make_order(lines=(OrderLine(LineKind.PRODUCT, "x", "x", 1, Money(100, "USD"), Decimal("0")),))
    assert {o.unavailable for o in await plugin.options(usd)} == {"secupay takes payments in euro only."}


@pytest.mark.anyio
async def test_options_are_disabled_for_a_country_the_contract_does_not_cover(plugin):
    plugin.settings = replace(plugin.settings, countries="DE, AT")
    assert not any(o.unavailable for o in await plugin.options(make_order()))  # German addresses
    spanish = make_order()
    spanish = replace(spanish, delivery_address=replace(spanish.delivery_address, country_code="ES"))
    reasons = {o.unavailable for o in await plugin.options(spanish)}
    assert reasons == {"Only for addresses in Germany or Austria."}


@pytest.mark.anyio
@pytest.mark.parametrize("option,fragment", [
    ("general", "/checkout?stx="), ("creditcard", "payment-method=creditcard"),
    ("prepaid", "payment-method=prepay"), ("invoice", "initPaymentMethod=invoice")])
async def test_start_redirects_to_the_payment_link(plugin, sandbox, option, fragment):
    payment, started = await start(plugin, option)
    assert isinstance(started.next_step, Redirect) and fragment in started.next_step.url
    assert started.reference.startswith("STX_") and started.data == {"stx_id": started.reference, "method": option}
    assert started.observation.status is PaymentStatus.PENDING
    assert started.observation.amount == Money(4835)
    stx = sandbox.stx[started.reference]
    assert stx.request["basket_info"]["sum"] == 4835
    assert stx.return_urls["url_push"] == "http://shop.test/pay/secupay/cb/TOKEN"


@pytest.mark.anyio
async def test_card_payment_read_back(plugin, sandbox):
    payment, started = await start(plugin)
    before = await plugin.fetch(payment)
    assert before.status is PaymentStatus.PENDING and before.raw_status == "created"
    assert before.dedupe_key == started.observation.dedupe_key  # nothing happened since start
    sandbox.pay(sandbox.stx[started.reference], "creditcard")
    seen = await plugin.fetch(payment)
    assert seen.status is PaymentStatus.PAID and seen.amount == Money(4835)
    assert seen.data["payment_method"] == "creditcard" and seen.data["pci_id"].startswith("PCI_")
    assert before.next_step is None and seen.next_step is None  # the receipt is the core's
    assert seen.raw_status == "ok / accepted (1)"
    assert seen.dedupe_key == (await plugin.fetch(payment)).dedupe_key != before.dedupe_key


@pytest.mark.anyio
@pytest.mark.parametrize("waiting", [2, 10])
async def test_prepaid_instructions_then_transfer(plugin, sandbox, waiting):
    sandbox.scenarios.prepaid_simple = waiting
    payment, started = await start(plugin, "prepaid")
    stx = sandbox.stx[started.reference]
    sandbox.pay(stx, "prepaid")
    seen = await plugin.fetch(payment)
    assert seen.status is PaymentStatus.PENDING
    transfer = seen.data["transfer"]
    assert transfer["owner"] == "secupay AG" and transfer["iban"] == "DE81850400611005523759"
    assert transfer["bic"] == "COBADEFFXXX" and transfer["bank"] == "Commerzbank CC"
    assert transfer["purpose"] == f"TA {seen.data['trans_id']}" and transfer["amount"] == "48.35"
    # The order page's next step: the transfer as a table, with the GiroCode the core draws.
    step = seen.next_step
    assert isinstance(step, Instructions)
    assert step.fields == (("Account holder", "secupay AG"), ("IBAN", "DE81 8504 0061 1005 5237 59"),
                           ("BIC", "COBADEFFXXX"), ("Bank", "Commerzbank CC"), ("Purpose", transfer["purpose"]),
                           ("Amount", "€48.35"))
    assert step.qr_payload == "\n".join(["BCD", "002", "1", "SCT", "COBADEFFXXX", "secupay AG",
                                         "DE81850400611005523759", "EUR48.35", "", "", transfer["purpose"]])
    assert "purpose exactly as shown" in step.note and "Please transfer" not in seen.detail
    assert seen.detail == f"Prepayment by bank transfer to secupay: €48.35, purpose {transfer['purpose']}"
    sandbox.receive_transfer(stx)
    paid = await plugin.fetch(payment)
    assert paid.status is PaymentStatus.PAID and paid.next_step is None  # nothing left to transfer


@pytest.mark.anyio
async def test_declined_and_cancelled(plugin, sandbox):
    payment, started = await start(plugin)
    sandbox.fail(sandbox.stx[started.reference])
    failed = await plugin.fetch(payment)
    assert failed.status is PaymentStatus.FAILED and failed.detail.startswith("The payment failed at secupay.")
    payment, started = await start(plugin, "creditcard")  # picked in the shop, failed before secupay chose
    sandbox.fail(sandbox.stx[started.reference])
    failed = await plugin.fetch(payment)
    assert failed.detail.startswith("secupay declined the card payment. No money was taken")
    payment, started = await start(plugin)
    observed = await plugin.cancel(payment)
    assert observed.status is PaymentStatus.CANCELLED and sandbox.stx[started.reference].status == "cancelled"


@pytest.mark.anyio
async def test_refunds_partial_and_full_deduplicated(plugin, sandbox):
    payment, started = await start(plugin)
    sandbox.pay(sandbox.stx[started.reference], "creditcard")
    first = await plugin.refund(payment, Money(1000), "Pen broken")
    assert first.amount == Money(1000) and first.provider_id.startswith("PCI_") and first.done
    seen = await plugin.fetch(payment)
    assert seen.status is PaymentStatus.PAID and [r.provider_id for r in seen.refunds] == [first.provider_id]
    second = await plugin.refund(payment, Money(3835), "")
    seen = await plugin.fetch(payment)
    assert seen.status is PaymentStatus.PAID  # the ledger makes it refunded from the refund rows
    assert {r.provider_id: r.amount for r in seen.refunds} == {first.provider_id: Money(1000),
                                                              second.provider_id: Money(3835)}
    assert len({r.provider_id for r in seen.refunds}) == 2


@pytest.mark.anyio
async def test_capture_when_auto_capture_is_off(http, sandbox, settings):
    plugin = SecupayPlugin(replace(settings, auto_capture=False),
                           PluginRuntime(http=http, public_url="http://shop.test", sandbox_url=SB))
    payment, started = await start(plugin, "creditcard")
    sandbox.pay(sandbox.stx[started.reference], "creditcard")
    assert (await plugin.fetch(payment)).status is PaymentStatus.AUTHORIZED
    assert (await plugin.capture(payment, Money(4835))).status is PaymentStatus.PAID


@pytest.mark.anyio
async def test_invoice_capture_sends_shipping_information(plugin, sandbox):
    payment, started = await start(plugin, "invoice")
    stx = sandbox.stx[started.reference]
    sandbox.pay(stx, "invoice")
    seen = await plugin.fetch(payment)
    assert seen.status is PaymentStatus.AUTHORIZED and "transfer" in seen.data
    assert isinstance(seen.next_step, Instructions) and "once your goods have arrived" in seen.next_step.note
    assert (await plugin.capture(payment, Money(4835))).status is PaymentStatus.PAID
    assert sandbox.pci[stx.pci_id].shipping["order_id"] == "ORD-1001"


@pytest.mark.anyio
async def test_read_back_down_is_unavailable(plugin, sandbox):
    payment, _ = await start(plugin)
    sandbox.read_back_broken = True
    with pytest.raises(ProviderUnavailable):
        await plugin.fetch(payment)


PUSH = {"object": "event.pushes", "id": "evt_d7a9cbd91c125ae409398b4e0e3199be", "created": "2021-06-21T08:30:28+02:00",
        "target": "payment.transactions", "type": "changed",
        "data": [{"object": "payment.transactions", "id": "PCI_2FY48DT0P2X6G636N5QK64UK2ADZAZ"}]}


@pytest.mark.anyio
async def test_verify_push(plugin):
    payment = make_payment(reference="STX_A")
    claim = await plugin.verify_callback(None, json.dumps(PUSH).encode(), payment)
    assert claim.event == "changed" and claim.reference == "STX_A"
    assert claim.dedupe_key == PUSH["id"] and claim.data["ids"] == ["PCI_2FY48DT0P2X6G636N5QK64UK2ADZAZ"]


@pytest.mark.anyio
@pytest.mark.parametrize("body", [b"", b"not json", b"[]", json.dumps({**PUSH, "object": "x"}).encode(),
                                  json.dumps({**PUSH, "id": None}).encode(), json.dumps({**PUSH, "data": []}).encode(),
                                  json.dumps({**PUSH, "data": [{"object": "payment.transactions"}]}).encode()])
async def test_malformed_push_is_rejected(plugin, body):
    with pytest.raises(CallbackRejected):
        await plugin.verify_callback(None, body, make_payment(reference="STX_A"))


@pytest.mark.anyio
async def test_replies_as_secuconnect_expects(plugin):
    assert plugin.callback_reply(CallbackOutcome.ACCEPTED).status_code == 200
    assert plugin.callback_reply(CallbackOutcome.IGNORED).status_code == 200
    assert plugin.callback_reply(CallbackOutcome.RETRY).status_code == 503
    assert plugin.callback_reply(CallbackOutcome.UNKNOWN).status_code == 404
    assert plugin.callback_reply(CallbackOutcome.REJECTED).status_code == 400


@pytest.mark.anyio
async def test_forged_push_changes_nothing_at_read_back(plugin, sandbox):
    payment, started = await start(plugin)
    forged = {**PUSH, "data": [{"object": "payment.transactions", "id": "PCI_OTHER"}]}
    claim = await plugin.verify_callback(None, json.dumps(forged).encode(), payment)
    assert (await plugin.fetch(payment, claim)).status is PaymentStatus.PENDING


@pytest.mark.anyio
async def test_chargeback_stays_paid_and_says_so(plugin, sandbox):
    payment, started = await start(plugin)
    stx = sandbox.stx[started.reference]
    sandbox.pay(stx, "creditcard")
    sandbox.chargeback(stx)
    seen = await plugin.fetch(payment)
    assert seen.status is PaymentStatus.PAID and "issue" in seen.detail and seen.data["status_simple"] == 4


@pytest.mark.anyio
async def test_refund_of_a_prepaid_before_the_money_arrived_lowers_it(plugin, sandbox):
    payment, started = await start(plugin, "prepaid")
    stx = sandbox.stx[started.reference]
    sandbox.pay(stx, "prepaid")
    before = await plugin.fetch(payment)
    seen = await plugin.refund(payment, Money(835), "one pen less")
    assert seen.amount == Money(835) and seen.provider_id.endswith(":reduced-to:4000")
    lowered = await plugin.fetch(payment)
    assert lowered.dedupe_key != before.dedupe_key  # a new fact: the ledger stores the new step
    step = lowered.next_step
    assert dict(step.fields)["Amount"] == "€40.00" and "EUR40.00" in step.qr_payload.split("\n")
    sandbox.receive_transfer(stx)
    paid = await plugin.fetch(payment)
    assert paid.status is PaymentStatus.PAID and paid.next_step is None  # nothing left to transfer

"""The plugin against its sandbox, in-process: checkout, IPN, confirm, review, conflicts."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from plugins.sequra.sandbox import catalogue
from plugins.sequra.tests.conftest import make_order, make_payment
from plugins.sequra.tests.fakeshop import SANDBOX, SHOP
from shop.money import Money
from shop.payments.contract import (
    CallbackClaim,
    Channel,
    Embed,
    Instructions,
    LineKind,
    OrderLine,
    PaymentStatus,
    ReadBackUnavailable,
)

pytestmark = pytest.mark.anyio


async def test_pay_later_is_confirmed_by_the_ipn_and_the_shopper_returns(world):
    started = await world.start(make_payment())
    assert isinstance(started.next_step, Embed)
    assert started.data["order_uri"] == f"{SANDBOX}/orders/{started.reference}"
    assert started.observation.status is PaymentStatus.PENDING
    html = started.next_step.html
    assert f"{SANDBOX}/assets/sequra_form.js" in html and "SequraFormInstance.show()" in html
    csp = started.next_step.csp
    assert SHOP in csp["script-src"] and SHOP in csp["connect-src"]
    assert sum(s.startswith("'sha256-") for s in csp["script-src"]) == 2  # element name + opener

    state = await world.shopper_completes(started.reference)

    assert state["step"] == "finish"
    assert state["redirect"] == world.payment().urls.return_url("success") + "?sq_product=i1"
    assert state["redirect"].startswith(f"{SHOP}/pay/sequra/return/")
    assert world.payment().status is PaymentStatus.PAID
    back = await world.read_back(started.reference)
    assert back["state"] == "confirmed"
    assert back["merchant_reference"] == {"order_ref_1": "1042", "order_ref_2": str(world.payment().id)}
    assert world.replies == [200]
    assert [o.raw_status for o in world.applied] == ["confirmed"]


async def test_part_payment_needs_the_test_card(world):
    started = await world.start(make_payment(option="pp3"))
    uuid = started.reference
    await world.form(uuid, "state")
    await world.form(uuid, "identify", given_names="Fulano", surnames="De Tal", date_of_birth="2000-01-01",
                     mobile_phone="666666666")
    assert (await world.form(uuid, "otp", code="12345"))["errors"] == {"code": "This code is not right"}
    state = await world.form(uuid, "otp", code="66666")
    assert state["step"] == "card" and state["down_payment"] == "37,83 €"  # 104,50 € / 3 + 3,00 € fee
    declined = await world.form(uuid, "card", pan="4111111111111111", expiry="12/30", cvv="123")
    assert declined["step"] == "card" and "pan" in declined["errors"]
    await world.form(uuid, "card", pan="4716773077339777", expiry="12/2030", cvv="123")
    await world.sandbox.drain()
    assert world.payment().status is PaymentStatus.PAID
    assert world.applied[-1].data["product_code"] == "pp3"


async def test_reject_sends_no_ipn(world):
    started = await world.start(make_payment())
    state = await world.shopper_completes(started.reference, surnames="Reject Test")
    assert state["step"] == "reject"
    assert world.replies == [] and world.payment().status is PaymentStatus.PENDING
    assert (await world.read_back(started.reference))["state"] == "rejected"


async def test_under_eighteen_is_rejected(world):
    started = await world.start(make_payment())
    state = await world.shopper_completes(started.reference, dob="2015-05-05")
    assert state["step"] == "reject"


async def test_review_then_approve_sends_a_second_ipn(world):
    started = await world.start(make_payment())
    state = await world.shopper_completes(started.reference, given="Review Test", surnames="Approve")
    assert world.replies[:1] == [200]
    await world.sandbox.drain()  # the review delay, then the second IPN
    assert [o.raw_status for o in world.applied] == ["on_hold", "confirmed"]
    assert world.payment().status is PaymentStatus.PAID
    assert state["redirect"].endswith("/success?sq_product=i1")


async def test_review_then_cancel_arrives_as_an_event(world):
    started = await world.start(make_payment())
    await world.shopper_completes(started.reference, given="Review Test Cancel", surnames="Review Test Cancel")
    await world.sandbox.drain()
    assert [o.raw_status for o in world.applied] == ["on_hold", "cancelled"]
    assert world.payment().status is PaymentStatus.CANCELLED
    body = world.sandbox.deliveries[-1]["body"]
    assert "event=cancelled" in body and "m_signature=" in body and "utf8=%E2%88%9A" in body


async def test_control_page_decides_a_review(world):
    world.sandbox.scenario.decision = "review_approve"
    world.sandbox.scenario.review_delay = 60
    started = await world.start(make_payment())
    await world.shopper_completes(started.reference)
    assert world.payment().status is PaymentStatus.PENDING
    # While SeQura reviews, the order page shows a sentence, not the form (it would open again).
    assert "sequra-review" in str(world.row().data["_next"]) and "sequra_form.js" not in str(world.row().data["_next"])
    assert world.row().detail.startswith("SeQura is reviewing your order")
    response = await world.http.post(f"{SANDBOX}/_control/orders/{started.reference}/review",
                                     data={"outcome": "cancel"})
    assert response.status_code == 303
    assert all(t.cancelling() for t in world.sandbox.timers)  # the 60 s timer was called off
    await world.sandbox.drain()
    assert world.payment().status is PaymentStatus.CANCELLED


async def test_cart_changed_while_the_form_was_open_answers_409(world):
    shopper = world.shopper
    assert (await shopper.add("NOTEBOOK-A5", 2)).status_code == 303
    assert (await shopper.checkout("sequra:i1")).status_code == 303
    payment = world.latest()
    await shopper.add("PEN-BLUE")  # in another tab, while the form is open
    state = await world.shopper_completes(payment.reference, phone="600123456")
    assert world.replies == [409]
    assert state["step"] == "show_conflict"
    assert (await world.read_back(payment.reference))["state"] == "cancelled"
    failed = world.state.attempts.load(payment.id)[1]
    assert failed.status is PaymentStatus.FAILED  # the shopper checks out again: a new attempt


async def test_confirm_409_at_seqUra_means_nothing_is_confirmed(world):
    world.sandbox.scenario.conflict_on_confirm = True
    started = await world.start(make_payment())
    state = await world.shopper_completes(started.reference)
    assert world.replies == [409] and state["step"] == "show_conflict"
    assert world.applied == [] and world.payment().status is PaymentStatus.PENDING


async def test_a_changed_order_is_refused_by_the_confirm_put(world):
    started = await world.start(make_payment())
    world.change_order("tok7", SKU1=3)
    await world.shopper_completes(started.reference)
    assert world.replies == [409]
    assert "cancelled: confirm PUT with a changed cart" in str(world.sandbox.orders[started.reference].log)


async def test_lost_ipn_leaves_the_form_waiting(world):
    world.sandbox.scenario.delivery = "lost"
    started = await world.start(make_payment())
    state = await world.shopper_completes(started.reference)
    assert state["step"] == "wait_for_confirmation"
    assert world.replies == [] and world.payment().status is PaymentStatus.PENDING


async def test_repeated_ipn_confirms_once(world):
    world.sandbox.scenario.delivery = "repeated"
    started = await world.start(make_payment())
    state = await world.shopper_completes(started.reference)
    assert world.replies == [200, 200]
    assert [o.raw_status for o in world.applied] == ["confirmed"]
    assert state["step"] == "finish"


async def test_slow_ipn_still_arrives(world):
    world.sandbox.scenario.delivery = "slow"
    started = await world.start(make_payment())
    assert (await world.shopper_completes(started.reference))["step"] == "finish"


async def test_confirm_unavailable_is_answered_200_and_owed_by_the_shop(world):
    """SeQura does not re-send an IPN: a 503 would only show the shopper an error while SeQura
    holds the order approved. The shop answers 200, SeQura sends the shopper back to the shop
    ([doc] redirect after a 2xx), and the shop owes the confirm PUT (see test_settling)."""
    started = await world.start(make_payment())
    world.sandbox.break_confirm = True
    state = await world.shopper_completes(started.reference)
    assert world.replies == [200]
    assert state["step"] == "finish" and state["redirect"].endswith("/success?sq_product=i1")
    assert world.payment().status is PaymentStatus.PENDING
    assert world.intent().seen == "ipn" and world.intent().tries == 1
    assert (await world.read_back(started.reference))["state"] == "approved"


async def test_no_read_back_without_a_claim(world):
    await world.start(make_payment())
    with pytest.raises(ReadBackUnavailable):
        await world.plugin.fetch(world.payment())


async def test_a_late_needs_review_never_puts_a_confirmed_order_on_hold(world):
    started = await world.start(make_payment())
    await world.shopper_completes(started.reference)
    claim = CallbackClaim("needs_review", started.reference, "x", {"kind": "ipn", "product_code": "i1"})
    observation = await world.plugin.fetch(world.payment(), claim)
    assert observation.raw_status == "on_hold"
    assert (await world.read_back(started.reference))["state"] == "confirmed"


async def test_an_approval_after_the_shop_expired_the_payment_is_still_confirmed(world):
    """Never drop an approval: the core flags the late payment for the merchant."""
    started = await world.start(make_payment())
    assert await world.state.ledger.expire_order(world.row().order_id, "the test's clock ran out")
    assert world.payment().status is PaymentStatus.EXPIRED
    state = await world.shopper_completes(started.reference)
    assert world.replies == [200] and state["step"] == "finish"
    assert world.applied[-1].status is PaymentStatus.PAID
    assert world.row().late_payment


async def test_cancelling_before_seqUra_confirmed_cancels_in_the_shop(world):
    started = await world.start(make_payment())
    observation = await world.plugin.cancel(world.payment())
    assert observation.status is PaymentStatus.CANCELLED and "had not confirmed" in observation.detail
    assert (await world.read_back(started.reference))["state"] == "solicited"


async def test_phone_order_sends_the_form_by_sms_and_the_ipn_confirms(world):
    started = await world.start(make_payment(channel=Channel.PHONE, option="pp3"))
    assert isinstance(started.next_step, Instructions)
    sms = world.sandbox.outbox[-1]
    assert sms.to == "666666666" and sms.link.endswith(f"/orders/{started.reference}/pumbaa_form?product=pp3")
    page = await world.http.get(sms.link)
    assert page.status_code == 200 and "pumbaa_form.js" in page.text
    inbox = await world.http.get(f"{SANDBOX}/_control/sms")
    assert sms.link in inbox.text
    await world.shopper_completes(started.reference)
    assert world.payment().status is PaymentStatus.PAID


async def test_isolated_till_has_no_callback_urls_and_is_confirmed_by_the_operator(world_with):
    world = await world_with(SEQURA_ISOLATED_TILL="true")
    started = await world.start(make_payment(channel=Channel.TILL))
    merchant = world.sandbox.orders[started.reference].payload["merchant"]
    assert merchant == {"id": "dummy_automated_tests"}
    # Confirming before the customer's phone shows approval is refused.
    with pytest.raises(Exception) as early:
        await world.plugin.confirm_at_till(world.payment())
    assert getattr(early.value, "status", None) == 409
    state = await world.shopper_completes(started.reference)
    assert state["step"] == "approved_offline" and world.replies == []
    observation = await world.plugin.confirm_at_till(world.payment())
    assert observation.status is PaymentStatus.PAID
    assert (await world.read_back(started.reference))["state"] == "confirmed"


async def test_reference_registered_later_from_the_back_office(world_with):
    world = await world_with(SEQURA_REGISTER_REFERENCE_ON_CONFIRM="false")
    started = await world.start(make_payment())
    await world.shopper_completes(started.reference)
    assert (await world.read_back(started.reference))["merchant_reference"]["order_ref_1"] is None
    await world.plugin.register_reference(world.payment(), "ERP/2026/0042")
    assert (await world.read_back(started.reference))["merchant_reference"]["order_ref_1"] == "ERP/2026/0042"


async def test_a_reference_used_by_another_confirmed_order_is_refused(world):
    first = await world.start(make_payment())
    await world.shopper_completes(first.reference)
    second = await world.start(make_payment(id=8, token="tok8"))
    await world.shopper_completes(second.reference)
    # Same shop order number: the confirm goes through, the reference PUT gets 409.
    assert world.payment("tok8").status is PaymentStatus.PAID
    assert "not registered" in world.applied[-1].detail


async def test_ship_refund_and_cancel_through_the_order_update_api(world):
    started = await world.start(make_payment())
    await world.shopper_completes(started.reference)
    attempts, plugin = world.state.attempts, world.plugin
    seen = await attempts.refund(world.row().id, Money(1000), "damaged")
    assert seen.amount == Money(1000)
    back = await world.read_back(started.reference)
    assert back["unshipped_cart"]["order_total_with_tax"] == 10450 - 1000
    assert back["unshipped_cart"]["items"][-1]["type"] == "other_payment"
    assert world.payment().refunded == Money(1000)
    shipped = await plugin.ship(world.payment())
    assert shipped.raw_status == "shipped"
    await world.apply("tok7", shipped)
    assert (await world.read_back(started.reference))["state"] == "shipped"
    await attempts.refund(world.row().id, Money(9450), "returned")
    back = await world.read_back(started.reference)
    assert back["state"] == "cancelled" and back["shipped_cart"]["items"] == []
    assert world.payment().status is PaymentStatus.REFUNDED


async def test_cancel_empties_both_carts(world):
    started = await world.start(make_payment())
    await world.shopper_completes(started.reference)
    observation = await world.plugin.cancel(world.payment())
    assert observation.status is PaymentStatus.CANCELLED
    assert (await world.read_back(started.reference))["state"] == "cancelled"


async def test_options_list_products_with_instalments_and_fees(world):
    options = await world.plugin.options(make_order())
    by_id = {o.option_id: o for o in options}
    assert set(by_id) == {"i1", "sp1", "pp3"}
    assert len({o.label for o in options}) == 3  # sp1 and pp3 share SeQura's group title, not a label
    assert by_id["sp1"].label == "SeQura: Paga Fraccionado · Divide tu pago en 3"
    assert "3, 6 or 12 monthly instalments" in by_id["pp3"].detail and "fee €3.00" in by_id["pp3"].detail
    assert "no fees" in by_id["sp1"].detail
    assert by_id["pp3"].fee.minor == 900


async def test_a_country_seQura_does_not_sell_to_shows_every_product_disabled_with_the_reason(world):
    options = await world.plugin.options(make_order(country="DE"))
    assert {o.option_id for o in options} == {"i1", "sp1", "pp3"}
    assert {o.unavailable for o in options} == {"Only for delivery and invoice addresses in Spain."}
    assert not any(o.unavailable for o in await world.plugin.options(make_order(country="ES")))


async def test_a_country_not_chosen_yet_does_not_count_against_seQura(world):
    assert not any(o.unavailable for o in await world.plugin.options(make_order(country="")))


async def test_a_total_outside_a_products_limits_disables_that_product_with_its_limit(world):
    small = make_order(lines=(OrderLine(LineKind.PRODUCT, "SKU1", "Socks", 1, Money(1000), Decimal("21")),))
    by_id = {o.option_id: o for o in await world.plugin.options(small)}
    limits = {code: product.min_amount for code, product in catalogue.PRODUCTS.items()}
    for code, option in by_id.items():
        if limits[code] > 1000:
            assert option.unavailable == f"For orders of {Money(limits[code]).display()} or more."
        else:
            assert not option.unavailable
    assert any(option.unavailable for option in by_id.values())


async def test_options_are_empty_when_seqUra_is_down(world):
    world.sandbox.scenario.server_error = True
    assert await world.plugin.options(make_order()) == []


async def test_events_are_retried_until_the_shop_takes_them(world):
    started = await world.start(make_payment())
    world.sandbox.scenario.decision = "review_cancel"
    await world.shopper_completes(started.reference)
    world.forget("tok7")  # the shop answers 404 now
    await world.sandbox.drain()
    events = [d for d in world.sandbox.deliveries if "event=cancelled" in d["body"]]
    assert [d["status"] for d in events] == [404, 404, 404]


async def test_the_reference_can_be_registered_by_patch(world):
    started = await world.start(make_payment())
    await world.shopper_completes(started.reference)
    await world.plugin.client.patch_order(world.payment().data["order_uri"],
                                          {"order": {"state": "", "merchant": {"id": "dummy_automated_tests"},
                                                     "merchant_reference": {"order_ref_1": "PATCHED-1"}}})
    assert (await world.read_back(started.reference))["merchant_reference"]["order_ref_1"] == "PATCHED-1"


async def test_a_solicitation_refused_by_seqUra_names_the_fields(world):
    from shop.payments.contract import ProviderError

    order = make_order(email="not-an-email")
    with pytest.raises(ProviderError) as caught:
        await world.start(make_payment(order))
    assert caught.value.fields == {"email": "SeQura says this is not an email address"}


async def test_an_ipn_repeated_after_shipping_is_answered_without_asking_seqUra(world):
    from plugins.sequra.tests.test_callbacks import ipn

    started = await world.start(make_payment())
    await world.shopper_completes(started.reference)
    await world.apply("tok7", await world.plugin.ship(world.payment()))
    calls = []

    async def record(request):
        calls.append(request.method)
    world.http.event_hooks["request"].append(record)
    response = await world.outbound.post(world.payment().urls.callback, content=ipn(world.payment()))
    world.http.event_hooks["request"].remove(record)
    assert response.status_code == 200 and calls == []
    assert (await world.read_back(started.reference))["state"] == "shipped"


async def test_with_retries_an_ipn_whose_confirm_failed_is_sent_again(world):
    """The sandbox's (undocumented) retry knob: an IPN answered 2xx without the PUT comes again."""
    world.sandbox.scenario.ipn_retries, world.sandbox.scenario.ipn_retry_after = 2, 0.01
    started = await world.start(make_payment())
    world.sandbox.break_confirm = True

    async def mend():
        while not world.replies:
            await asyncio.sleep(0.001)
        world.sandbox.break_confirm = False
    mending = asyncio.create_task(mend())
    state = await world.shopper_completes(started.reference)
    await mending
    assert world.replies == [200, 200] and state["step"] == "finish"
    assert world.payment().status is PaymentStatus.PAID and world.intent() is None


async def test_with_retries_a_lost_put_gets_the_ipn_again(world):
    """2xx without the confirm PUT: the sandbox waits, then asks again."""
    world.sandbox.scenario.ipn_retries, world.sandbox.scenario.ipn_retry_after = 1, 0.01
    started = await world.start(make_payment())
    real_fetch, calls = world.plugin.fetch, []

    async def forgetful(payment, claim=None):
        calls.append(claim.event)
        if len(calls) == 1:  # the shop answers 200 but never PUTs
            return world.plugin._seen(payment, started.reference, "solicited")
        return await real_fetch(payment, claim)

    world.plugin.fetch = forgetful
    state = await world.shopper_completes(started.reference)
    assert world.replies == [200, 200] and calls == ["approved", "approved"]
    assert state["step"] == "finish"


async def test_options_without_credit_agreements_still_list_the_products(world):
    from shop.payments.contract import ProviderUnavailable

    async def down(*args, **kwargs):
        raise ProviderUnavailable("down")
    world.plugin.client.credit_agreements = down
    options = await world.plugin.options(make_order())
    assert {o.option_id for o in options} == {"i1", "sp1", "pp3"}
    assert all(o.fee is None for o in options)


async def test_partial_shipments_then_the_rest(world):
    started = await world.start(make_payment(make_order(lines=(
        OrderLine(LineKind.PRODUCT, "A", "Pen", 3, Money(1000), Decimal("21")),
        OrderLine(LineKind.SHIPPING, "std", "Standard", 1, Money(450), Decimal("21"))))))
    await world.shopper_completes(started.reference)
    first = await world.plugin.ship(world.payment(), {"A": 1})
    assert first.raw_status == "partially shipped" and first.data == {"shipped": {"A": 1}}
    await world.apply("tok7", first)
    back = await world.read_back(started.reference)
    assert back["state"] == "confirmed"
    assert back["shipped_cart"]["order_total_with_tax"] == 1450 and back["unshipped_cart"]["order_total_with_tax"] == 2000
    rest = await world.plugin.ship(world.payment())
    assert rest.raw_status == "shipped" and rest.dedupe_key != first.dedupe_key
    back = await world.read_back(started.reference)
    assert back["state"] == "shipped" and back["unshipped_cart"]["items"] == []

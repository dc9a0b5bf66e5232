"""The back office: phone and till orders, the SeQura buttons on a payment, and SeQura's
refusals reaching the merchant with their reason."""

from __future__ import annotations

import re

import pytest

from plugins.sequra.tests.conftest import make_payment
from shop.money import Money
from shop.payments.contract import Channel, Observation, PaymentStatus, ProviderError

pytestmark = pytest.mark.anyio
CUSTOMER = {"given_names": "Fulano", "surname": "De Tal", "email": "fulano@example.com", "phone": "666 666 666",
            "line1": "Calle Mayor 1", "postal_code": "28013", "city": "Madrid", "country_code": "ES"}
FLASH = re.compile(r'class="flash (\w+)"[^>]*>([^<]*)<')


async def logged_in(world):
    await world.shopper.login_admin()
    return world.shopper


async def phone_order(world, channel="phone", product="i1", **items):
    shopper = await logged_in(world)
    await shopper.get("/admin/sequra/phone-order")
    quantities = {f"qty:{sku}": str(n) for sku, n in (items or {"LAMP-DESK": 1, "NOTEBOOK-A5": 2}).items()}
    return await shopper.post("/admin/sequra/phone-order",
                              {**CUSTOMER, **quantities, "product": product, "channel": channel})


def flashes(page) -> list[tuple[str, str]]:
    return [(kind, text.replace("&#39;", "'")) for kind, text in FLASH.findall(page.text)]


async def test_the_nav_links_to_the_phone_order_page(world):
    shopper = await logged_in(world)
    page = await shopper.get("/admin/")
    assert 'href="/admin/sequra/phone-order"' in page.text
    form = await shopper.get("/admin/sequra/phone-order")
    assert form.status_code == 200 and 'name="qty:LAMP-DESK"' in form.text


async def test_the_phone_order_page_is_behind_the_login(world):
    response = await world.shopper.get("/admin/sequra/phone-order")
    assert response.status_code == 303 and response.headers["location"].startswith("/admin/login")


async def test_a_phone_order_texts_the_form_and_the_ipn_confirms_it(world):
    response = await phone_order(world)
    assert response.status_code == 303
    status_url = response.headers["location"]
    number = status_url.rsplit("/", 1)[1]
    payment = world.latest()
    assert payment.channel is Channel.PHONE and payment.order.number == number
    assert payment.amount == Money(8390)  # 54.90 + 2 x 14.50, free shipping
    sms = world.sandbox.outbox[-1]
    assert sms.to == "666666666" and sms.uuid == payment.reference
    page = await world.shopper.get(status_url)
    assert "Waiting for the customer" in page.text and "sent by SMS to <strong>666 666 666</strong>" in page.text
    state = await world.shopper_completes(payment.reference)
    assert state["step"] == "finish"
    assert world.latest().status is PaymentStatus.PAID
    panel = await world.shopper.get(f"{status_url}/panel")
    assert "Confirmed by SeQura" in panel.text and "hx-get" not in panel.text  # polling stops


async def test_a_phone_order_needs_items_and_details(world):
    shopper = await logged_in(world)
    await shopper.get("/admin/sequra/phone-order")
    page = await shopper.post("/admin/sequra/phone-order", {"product": "i1", "channel": "phone", "qty:PEN-BLUE": "x"})
    assert page.status_code == 422
    assert "Enter a whole number." in page.text and "Please enter the first name." in page.text
    page = await shopper.post("/admin/sequra/phone-order", {**CUSTOMER, "product": "i1"})
    assert page.status_code == 422 and "Add at least one product." in page.text
    page = await shopper.post("/admin/sequra/phone-order", {**CUSTOMER, "qty:POSTER-MAP": "4", "product": "i1"})
    assert "Only 3 in stock." in page.text
    assert world.sandbox.orders == {}


async def test_a_product_seqUra_does_not_offer_for_the_amount_is_refused_before_any_order(world):
    response = await phone_order(world, product="pp3", **{"PEN-BLUE": 1})  # 4.95 + shipping < 50
    assert response.status_code == 422
    assert "SeQura does not offer Part payment (pp3) for this amount; it offers i1." in response.text
    assert world.sandbox.orders == {}


async def test_a_till_sale_is_confirmed_by_the_operator_once_approved(world):
    response = await phone_order(world, channel="till")
    number = response.headers["location"].rsplit("/", 1)[1]
    payment = world.latest()
    assert payment.channel is Channel.TILL and payment.data["isolated"] is True
    assert world.sandbox.orders[payment.reference].merchant == {"id": "dummy_automated_tests"}
    assert [a.name for a in world.plugin.admin_actions(payment)] == ["confirm_sale", "resend_sms"]
    action = f"/admin/orders/{number}/payments/{payment.id}/action/confirm_sale"
    early = await world.shopper.post(action, {})
    page = await world.shopper.get(early.headers["location"])
    [(kind, text)] = flashes(page)
    assert kind == "error" and "SeQura has not approved this sale (yet)" in text
    assert world.latest().status is PaymentStatus.PENDING
    state = await world.shopper_completes(payment.reference)
    assert state["step"] == "approved_offline" and world.replies == []
    await world.shopper.post(action, {})
    assert world.latest().status is PaymentStatus.PAID
    assert (await world.read_back(payment.reference))["state"] == "confirmed"


async def test_resend_the_form_by_sms(world):
    response = await phone_order(world)
    number = response.headers["location"].rsplit("/", 1)[1]
    payment = world.latest()
    sent = len(world.sandbox.outbox)
    reply = await world.shopper.post(f"/admin/orders/{number}/payments/{payment.id}/action/resend_sms", {})
    page = await world.shopper.get(reply.headers["location"])
    assert flashes(page) == [("info", "SeQura sent the form again by SMS to 666 666 666.")]
    assert len(world.sandbox.outbox) == sent + 1


async def paid_online(world, **lines):
    from decimal import Decimal

    from plugins.sequra.tests.conftest import make_order
    from shop.payments.contract import LineKind, OrderLine

    order = make_order(lines=tuple(OrderLine(LineKind.PRODUCT, ref, ref.title(), qty, Money(1000), Decimal("21"))
                                   for ref, qty in lines.items())) if lines else None
    started = await world.start(make_payment(order))
    await world.shopper_completes(started.reference)
    assert world.payment().status is PaymentStatus.PAID
    return world.payment()


async def test_buttons_on_a_confirmed_payment(world_with):
    world = await world_with(SEQURA_REGISTER_REFERENCE_ON_CONFIRM="false")
    payment = await paid_online(world, pen=2, mug=1)
    assert [a.name for a in world.plugin.admin_actions(payment)] == ["register_reference"]
    await world.plugin.register_reference(payment, "ERP-1")
    await world.apply("tok7", Observation(PaymentStatus.PAID, "ref", "ref-1", data={"order_ref_1": "ERP-1"}))
    actions = {a.name: a for a in world.plugin.admin_actions(world.payment())}
    assert list(actions) == ["ship_all", "ship_some"]
    assert actions["ship_some"].fields == (("ship:pen", "Pen (of 2)", "number"), ("ship:mug", "Mug (of 1)", "number"))


async def test_reference_parcel_and_the_rest_from_the_back_office(world_with):
    world = await world_with(SEQURA_REGISTER_REFERENCE_ON_CONFIRM="false")
    payment = await paid_online(world, pen=2, mug=1)
    shopper = await logged_in(world)
    base = f"/admin/orders/1042/payments/{payment.id}/action"

    async def act(name, **form):
        reply = await shopper.post(f"{base}/{name}", {**form, "confirmed": "yes"})
        assert reply.status_code == 303
        return flashes(await shopper.get(reply.headers["location"]))

    # Before the reference is registered, SeQura knows no order under the shop's number.
    with pytest.raises(ProviderError) as refused:
        await world.plugin.ship(world.payment())
    assert "register the ERP reference first" in refused.value.message
    assert await act("register_reference", reference="bad ref!") == [
        ("error", "Enter the ERP reference: letters, digits and . _ / # - (at most 64).")]
    assert await act("register_reference", reference="ERP/2026/0042") == [("info", "Done: the payment is paid.")]
    back = await world.read_back(payment.reference)
    assert back["merchant_reference"]["order_ref_1"] == "ERP/2026/0042"
    assert "register_reference" not in {a.name for a in world.plugin.admin_actions(world.payment())}

    assert (await act("ship_some", **{"ship:pen": "3"}))[0][1].endswith("That is more than is left to ship of Pen.")
    assert await act("ship_some", **{"ship:pen": "1"}) == [("info", "Done: the payment is paid.")]
    back = await world.read_back(payment.reference)
    assert back["state"] == "confirmed" and [i["reference"] for i in back["shipped_cart"]["items"]][:1] == ["pen"]
    left = {a.name: a for a in world.plugin.admin_actions(world.payment())}["ship_some"].fields
    assert left == (("ship:pen", "Pen (of 1)", "number"), ("ship:mug", "Mug (of 1)", "number"))
    await act("ship_all")
    assert (await world.read_back(payment.reference))["state"] == "shipped"
    assert world.plugin.admin_actions(world.payment()) == []


async def test_a_409_from_the_order_update_api_reaches_the_merchant_with_its_reason(world):
    payment = await paid_online(world)
    world.sandbox.orders[payment.reference].state = "cancelled"  # cancelled at SeQura meanwhile
    with pytest.raises(ProviderError) as refused:
        await world.state.attempts.refund(payment.id, Money(1000), "damaged")
    assert refused.value.status == 409
    assert refused.value.message == "SeQura refused the refund: Invalid data: the order is cancelled"
    shopper = await logged_in(world)
    reply = await shopper.post(f"/admin/orders/1042/payments/{payment.id}/action/ship_all", {"confirmed": "yes"})
    page = await shopper.get(reply.headers["location"])
    assert flashes(page) == [("error", "The provider refused: SeQura refused the shipment: "
                                       "Invalid data: the order is cancelled")]
    assert world.payment().refunded == Money(0)


async def test_with_an_isolated_till_every_order_taken_is_a_till_order(world_with):
    world = await world_with(SEQURA_ISOLATED_TILL="true")
    shopper = await logged_in(world)
    page = await shopper.get("/admin/sequra/phone-order")
    assert "set up as an isolated till" in page.text and 'value="phone"' not in page.text
    response = await phone_order(world, channel="phone")
    assert response.status_code == 303
    payment = world.latest()
    assert payment.channel is Channel.TILL and payment.data["isolated"] is True


async def test_a_phone_order_seqUra_refuses_is_kept_and_said_so(world):
    shopper = await logged_in(world)
    await shopper.get("/admin/sequra/phone-order")
    response = await shopper.post("/admin/sequra/phone-order", {
        **CUSTOMER, "phone": "+49 170 1234567", "qty:LAMP-DESK": "1", "product": "i1", "channel": "phone"})
    assert response.status_code == 303  # the order exists; the operator sees why SeQura refused it
    page = await shopper.get(response.headers["location"])
    [(kind, text)] = flashes(page)
    assert kind == "error" and "SeQura refused it: Invalid data: the order has no Spanish mobile phone" in text
    assert "Not confirmed (failed)" in page.text

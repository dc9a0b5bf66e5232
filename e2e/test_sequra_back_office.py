"""SeQura in the back office: a call-centre order by SMS, a till sale the operator confirms, and
after the sale an ERP reference, a parcel and a partial refund through the Order Update API."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from e2e.steps import add_to_cart, confirm_order_email, log_in_admin, open_admin_order, order_number, say_yes
from e2e.store import sandbox_page
from e2e.test_sequra_checkout import check_out_with_sequra, expect_paid, identify, sequra_form

pytestmark = pytest.mark.own_store  # its settings: no reference registered on confirm
# The ERP registers the order reference here, so the merchant does it from the back office.
SERVER_ENV = {"SEQURA_REGISTER_REFERENCE_ON_CONFIRM": "false"}
CUSTOMER = {"First name": "Fulano", "Last name": "De Tal", "E-mail": "fulano@example.com",
            "Mobile phone": "666 666 666", "Street and number": "Calle Mayor 1", "Postcode": "28013",
            "City": "Madrid"}


def take_phone_order(operator: Page, channel: str, product: str = "Pay later in 7 days (i1)") -> str:
    log_in_admin(operator)
    operator.get_by_role("link", name="SeQura phone order").click()
    expect(operator.get_by_role("heading", name="SeQura phone order")).to_be_visible()
    operator.get_by_label("Desk lamp").fill("1")
    operator.get_by_label("Dotted notebook A5").fill("2")
    for label, value in CUSTOMER.items():
        operator.get_by_label(label, exact=True).fill(value)
    operator.get_by_label(product).check()
    operator.get_by_label(re.compile(channel)).check()
    operator.get_by_role("button", name="Create the order and text the form").click()
    heading = operator.get_by_role("heading", name=re.compile(r"SeQura order CW"))
    expect(heading).to_be_visible()
    panel = operator.locator("#sequra-panel")
    expect(panel).to_contain_text("Waiting for the customer")
    expect(panel).to_contain_text("sent by SMS to 666 666 666")
    return heading.inner_text().removeprefix("SeQura order ").strip()


def open_sms_on_the_phone(phone: Page) -> None:
    """The customer's phone: the sandbox's SMS inbox, the newest message's link."""
    phone.goto(sandbox_page("sequra/_control/sms"))
    expect(phone.get_by_role("heading", name="SMS inbox")).to_be_visible()
    message = phone.locator("li").first
    expect(message).to_contain_text("To 666666666")
    expect(message).to_contain_text("SeQura: completa tu compra de 83,90 €")
    message.get_by_role("link").click()


def test_a_call_centre_order_by_sms(page: Page, phone):
    operator = page
    take_phone_order(operator, "On the phone")
    operator.evaluate("window.__sameDocument = true")
    customer = phone.new_page()
    open_sms_on_the_phone(customer)
    form = sequra_form(customer)
    expect(form.get_by_label("Nombre")).to_have_value("Fulano")  # from the order the operator typed
    identify(customer)
    expect(form).to_contain_text("¡Aprobado!")
    confirm_order_email(customer, CUSTOMER["E-mail"])  # the operator placed the order, not the phone
    expect_paid(customer)  # the phone comes back to the shop's order page
    expect(operator.locator("#sequra-panel")).to_contain_text("Confirmed by SeQura", timeout=10_000)
    assert operator.evaluate("window.__sameDocument") is True, "the operator's page reloaded"


def test_a_till_sale_confirmed_by_the_operator(page: Page, phone):
    operator = page
    number = take_phone_order(operator, "At the till")
    panel = operator.locator("#sequra-panel")
    expect(panel).to_contain_text("When it says ¡Aprobado!, confirm the sale")
    # Pressed too early: SeQura has not approved anything yet, and says so.
    operator.get_by_role("button", name="Confirm sale").click()
    expect(operator.locator(".flash.error")).to_contain_text("SeQura has not approved this sale (yet)")
    expect(operator.locator("#order-status")).to_have_text("awaiting payment")
    customer = phone.new_page()
    open_sms_on_the_phone(customer)
    identify(customer)
    expect(sequra_form(customer)).to_have_attribute("data-sq-step", "approved_offline")
    expect(sequra_form(customer)).to_contain_text("Show this screen to the shop assistant")
    operator.goto(f"/admin/sequra/phone-order/{number}")
    operator.get_by_role("button", name="Confirm sale").click()
    expect(operator.locator(".flash").first).to_contain_text("Done: the payment is paid.")
    expect(operator.locator("#order-status")).to_have_text("paid")
    expect(operator.locator(".timeline")).to_contain_text("PUT /sandbox/sequra/orders/")


def test_reference_parcel_partial_refund_and_the_rest_shipped_from_the_back_office(page: Page, new_context):
    add_to_cart(page, "NOTEBOOK-A5")
    add_to_cart(page, "NOTEBOOK-A5")
    add_to_cart(page, "LAMP-DESK")
    check_out_with_sequra(page, "Pay later")
    identify(page)
    expect_paid(page)
    number = order_number(page)

    merchant = new_context().new_page()
    open_admin_order(merchant, number)
    payment = merchant.locator(".payment").first
    # Confirmed without an order reference: the ERP's number is registered by hand.
    payment.get_by_label("ERP reference").fill("ERP-2026-0042")
    payment.get_by_role("button", name="Register ERP reference").click()
    expect(merchant.locator(".flash").first).to_contain_text("Done")
    expect(payment.get_by_role("button", name="Register ERP reference")).to_have_count(0)
    # One parcel: one of the two notebooks.
    payment.get_by_label("Dotted notebook A5 (of 2)").fill("1")
    payment.get_by_role("button", name="Ship these").click()
    expect(merchant.locator(".flash").first).to_contain_text("Done")
    expect(payment.get_by_label("Dotted notebook A5 (of 1)")).to_be_visible()
    # A partial refund for the lamp's scratched shade.
    payment.get_by_label("Refund").fill("10.00")
    payment.get_by_placeholder("reason").fill("scratched shade")
    say_yes(merchant)
    payment.get_by_role("button", name="Refund").click()
    expect(merchant.locator(".flash").first).to_contain_text("Refunded €10.00.")
    expect(payment).to_contain_text("refunded €10.00")
    expect(merchant.locator("#order-status")).to_have_text("paid")
    # SeQura's own view of the order: the reference, the parcel and the refund.
    reference = payment.locator("code").first.inner_text()
    sandbox = new_context().new_page()
    sandbox.goto(sandbox_page(f"sequra/_control/orders/{reference}"))
    expect(sandbox.get_by_text("order_ref_1 ERP-2026-0042")).to_be_visible()
    expect(sandbox.locator("ol")).to_contain_text("order update: shipped")
    expect(sandbox.locator("ol")).to_contain_text("-> confirmed")
    # The refund is an update whose carts add up to €10.00 (1000 cents) less than the parcel's did.
    updates = [int(shipped) + int(unshipped) for shipped, unshipped in
               re.findall(r"order update: shipped (\d+), unshipped (\d+)", sandbox.locator("ol").inner_text())]
    assert len(updates) == 2 and updates[0] - updates[1] == 1000, updates
    # The rest goes out in one parcel: nothing is left unshipped at SeQura.
    merchant.once("dialog", lambda dialog: dialog.accept())
    payment.get_by_role("button", name="Ship everything").click()
    expect(merchant.locator(".flash").first).to_contain_text("Done")
    expect(payment.get_by_role("button", name="Ship everything")).to_have_count(0)
    sandbox.reload()
    expect(sandbox.locator("ol li").last).to_contain_text(re.compile(r"unshipped 0 -> shipped$"))
    expect(sandbox.get_by_text("State shipped")).to_be_visible()


def test_the_operator_texts_the_form_again_then_cancels_the_payment(page: Page, phone, new_context):
    operator = page
    number = take_phone_order(operator, "On the phone")
    open_admin_order(operator, number)
    payment = operator.locator(".payment").first
    uuid = payment.locator("code").first.inner_text()
    payment.get_by_role("button", name="Send the form again by SMS").click()
    expect(operator.locator(".flash").first).to_contain_text("SeQura sent the form again by SMS to 666 666 666")
    inbox = phone.new_page()
    inbox.goto(sandbox_page("sequra/_control/sms"))
    expect(inbox.locator("li", has_text=uuid)).to_have_count(2)  # the first text and this one, same form
    # SeQura's own record of the order: the form texted twice, and nobody identified yet.
    sequra = new_context().new_page()
    sequra.goto(sandbox_page(f"sequra/_control/orders/{uuid}"))
    expect(sequra.locator("ol li", has_text="form sent by SMS to 666666666")).to_have_count(2)
    expect(sequra.get_by_text("State solicited")).to_be_visible()
    # The customer changed their mind on the phone: the operator cancels. An order SeQura has not
    # approved has nothing to cancel at SeQura (its API answers 404): the shop cancels on its side.
    say_yes(operator)  # the back office asks before a payment is cancelled
    operator.get_by_role("button", name="Cancel payment").click()
    expect(operator.get_by_text("Cancel sent")).to_be_visible()
    expect(operator.locator(".payment").first.locator("[data-payment-status]")).to_have_text("cancelled")

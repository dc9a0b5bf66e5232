"""The sales person's demo guide, followed cold: "Try it" on a flow of each provider lands on the
checkout filled in as the flow's shopper, with the sandbox set for it; "Place order" and the
provider's steps reach the flow's end. And "Reset the demo": confirmed, after a login if need be,
it empties the shop and puts every sandbox's scenarios back."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from e2e.bank_steps import book_transfer, transfer_details
from e2e.pages.sequra_form import SequraForm
from e2e.secupay_steps import CARD_OK, back_to_the_shop, pay_by_card
from e2e.secupay_steps import expect_paid as expect_paid_by_secupay
from e2e.seqr_steps import open_app
from e2e.steps import order_number
from e2e.store import admin_password, sandbox_page

pytestmark = pytest.mark.destructive  # a flow sets its sandbox's scenario for everyone; the reset wipes all


def try_it(page: Page, provider: str, flow: str, shopper: str) -> None:
    """On /demo, "Try it" on one flow: the checkout, filled in as the flow's shopper."""
    page.goto("/demo")
    page.get_by_role("button", name=f"Try it: {provider}, {flow}").click()
    expect(page.get_by_role("heading", name="Checkout")).to_be_visible()
    expect(page.get_by_label("First name", exact=True).first).to_have_value(shopper)


def place_order(page: Page) -> None:
    page.get_by_role("button", name=re.compile("Place order")).click()


def test_bank_transfer_the_transfer_arrives(page: Page, new_context):
    try_it(page, "Bank transfer", "The transfer arrives", "Max")
    expect(page.get_by_label(re.compile("Bank transfer"))).to_be_checked()
    expect(page.get_by_label("City", exact=True).first).to_have_value("Berlin")
    place_order(page)
    expect(page.get_by_role("heading", name=re.compile("Waiting for your transfer"))).to_be_visible()
    _, reference = transfer_details(page)
    book_transfer(new_context().new_page(), reference)
    expect(page.locator("#receipt")).to_contain_text("Paid — thank you!", timeout=10_000)


def test_secupay_card(page: Page):
    try_it(page, "secupay", "Card", "Max")
    expect(page.get_by_label(re.compile(r"Credit card\s*via secupay"))).to_be_checked()
    place_order(page)
    expect(page).to_have_url(re.compile(r"/sandbox/secupay/checkout"))
    pay_by_card(page, CARD_OK, holder="Max Mustermann")
    back_to_the_shop(page, "Payment successful")
    expect_paid_by_secupay(page)


def test_seqr_the_payers_bank_declines(page: Page, new_context):
    try_it(page, "SEQR", "Payer's bank declines", "Sven")
    expect(page.get_by_label("City", exact=True).first).to_have_value("Stockholm")
    place_order(page)
    expect(page.get_by_role("heading", name=re.compile("Waiting for your payment"))).to_be_visible()
    app = open_app(page)
    app.get_by_role("link", name="Confirm").click()
    app.get_by_label("PIN").fill("1234")
    app.get_by_role("button", name="Pay").click()
    expect(app.get_by_role("heading", name="Payment declined")).to_be_visible()  # the flow's scenario
    expect(page.get_by_role("heading", name="Payment failed")).to_be_visible(timeout=10_000)
    control = new_context().new_page()
    control.goto(sandbox_page("seqr/"))
    expect(control.locator("select[name=bank]")).to_have_value("decline")


def test_sequra_pay_later_approved(page: Page):
    try_it(page, "SeQura", "Pay later, approved", "Lucía")
    expect(page.get_by_label("Country").first).to_have_value("ES")
    place_order(page)
    sequra = SequraForm(page)  # in form_v2's iframe
    sequra.expect_step("identify")
    form = sequra.form
    expect(form.get_by_label("Nombre")).to_have_value("Lucía")  # SeQura knows the shopper from the order
    form.get_by_label("Fecha de nacimiento").fill("1985-03-14")
    form.get_by_label("Móvil").fill("666 555 444")
    form.get_by_role("button", name="Continuar").click()
    sequra.expect_step("otp")
    form.get_by_label("Código de verificación").fill("55444")  # the mobile's last five digits, as the guide says
    with sequra.returned_to_the_shop():
        form.get_by_role("button", name="Verificar").click()
    expect(page.locator("#receipt")).to_contain_text("Paid — thank you!", timeout=15_000)
    expect(page.locator("#receipt")).to_contain_text("by SeQura")


def test_reset_after_a_login_empties_the_shop_and_puts_the_scenarios_back(page: Page, new_context):
    try_it(page, "SEQR", "Payer's bank declines", "Sven")
    place_order(page)
    number = order_number(page)
    control = new_context().new_page()
    control.goto(sandbox_page("seqr/"))
    expect(control.locator("select[name=bank]")).to_have_value("decline")

    sales = new_context().new_page()  # logged out
    sales.goto("/demo")
    sales.get_by_role("button", name="Reset the demo").click()
    sales.get_by_label("Password").fill(admin_password())
    sales.get_by_role("button", name="Log in").click()
    expect(sales.get_by_role("heading", name="Reset the demo?")).to_be_visible()  # back where it was going
    sales.get_by_role("button", name="Reset everything").click()
    expect(sales.get_by_text("The demo is reset")).to_be_visible()

    control.reload()
    expect(control.locator("select[name=bank]")).to_have_value("approve")
    expect(control.get_by_text(number)).to_have_count(0)
    sales.goto("/admin/")
    expect(sales.get_by_text("No orders yet.")).to_be_visible()

"""Clear for the shopper: an authorized payment is a done sale (the cart empties, the confirmation
is sent, and a cancel in the back office reaches the order page live), money moves in the back
office only after the merchant's yes, a slow provider shows a waiting button, and an error about
a discount code goes once a valid code is applied."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from e2e.secupay_steps import CARD_OK, back_to_the_shop, check_out_with_secupay, pay_by_card
from e2e.steps import SHOPPER, add_to_cart, fill_details, open_admin_order, order_number, say_yes, shot
from e2e.store import sandbox_page


def test_an_authorized_invoice_is_a_done_sale_and_its_cancel_reaches_the_shopper_live(page: Page, new_context):
    check_out_with_secupay(page, "Invoice")
    page.get_by_role("button", name="Pay now").click()
    back_to_the_shop(page, "Purchase on account confirmed")
    expect(page.locator("#receipt")).to_contain_text("Payment authorized — thank you!")
    # The sale is done: the cart is empty (the next checkout does not charge for it again) ...
    expect(page.locator("#cart-count")).to_have_text("")
    # ... and the confirmation the page speaks of is there, with what a confirmation says.
    mail = page.context.new_page()
    mail.goto(page.get_by_role("link", name="See it").get_attribute("href"))
    for text in ("Dotted notebook A5", "Shipping", "Total", SHOPPER["Street and number"], "Payment method: secupay"):
        expect(mail.locator("pre.mail")).to_contain_text(text)
    mail.close()
    page.evaluate("window.__sameDocument = true")
    number = order_number(page)
    merchant = new_context().new_page()
    open_admin_order(merchant, number)
    # A "no" to the question moves nothing.
    merchant.once("dialog", lambda dialog: dialog.dismiss())
    merchant.get_by_role("button", name="Cancel payment").click()
    expect(merchant.locator("#order-status")).to_have_text("authorized")
    say_yes(merchant)
    merchant.get_by_role("button", name="Cancel payment").click()
    expect(merchant.get_by_text("Cancel sent")).to_be_visible()
    expect(merchant.locator("#order-status")).to_have_text("cancelled")
    expect(page.get_by_role("heading", name="Cancelled")).to_be_visible(timeout=10_000)
    expect(page.locator("#payment-panel")).to_contain_text("no money was taken")
    assert page.evaluate("window.__sameDocument") is True, "the page reloaded instead of updating live"


def test_a_refund_waits_for_the_merchants_yes(page: Page, new_context):
    check_out_with_secupay(page, "Credit card")
    pay_by_card(page, CARD_OK)
    back_to_the_shop(page, "Payment successful")
    number = order_number(page)
    merchant = new_context().new_page()
    open_admin_order(merchant, number)
    refund = merchant.locator("form[action$='/refund']")
    questions: list[str] = []

    def answer(dialog, yes: bool) -> None:
        questions.append(dialog.message)
        dialog.accept() if yes else dialog.dismiss()

    merchant.once("dialog", lambda dialog: answer(dialog, yes=False))
    refund.get_by_role("button", name="Refund").click()
    expect(merchant.locator(".payment")).not_to_contain_text("Refund PCI_")
    merchant.once("dialog", lambda dialog: answer(dialog, yes=True))
    refund.get_by_role("button", name="Refund").click()
    expect(merchant.locator(".flash").first).to_contain_text(re.compile(r"Refunded €\d+\.\d\d\."))
    assert len(questions) == 2 and all("cannot be undone" in q for q in questions), questions


def test_place_order_waits_with_a_spinner_while_a_slow_provider_answers(page: Page):
    page.request.post(sandbox_page("secupay/control/scenarios"), form={"api": "slow"})
    try:
        add_to_cart(page, "NOTEBOOK-A5")
        page.goto("/checkout")
        fill_details(page)
        page.get_by_label(re.compile(r"Credit card\s*via secupay")).check()
        button = page.locator("#checkout-form button[type=submit]")
        button.click(no_wait_after=True)
        expect(button).to_be_disabled()
        expect(button.locator(".spinner")).to_be_visible()
        shot(page, "place-order-waiting")
        expect(page).to_have_url(re.compile(r"/sandbox/secupay/checkout\?"), timeout=20_000)
    finally:
        page.request.post(sandbox_page("secupay/control/scenarios"), form={"api": "normal"})


def test_a_valid_code_clears_the_refused_codes_error(page: Page):
    add_to_cart(page, "MUG-ENAMEL")
    page.goto("/cart")
    code = page.get_by_label("Discount code")
    code.fill("NOPE")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("#cart-message")).to_contain_text("The code NOPE is not valid.")
    page.get_by_label("Discount code").fill("WELCOME10")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_text("Code WELCOME10 applied.")).to_be_visible()
    expect(page.locator("#cart-message")).to_have_text("")
    expect(page.locator("#cart-body")).to_contain_text("Discount WELCOME10")

"""Clear for the shopper: an authorized payment is a done sale (the cart empties, the confirmation
is sent), money moves in the back office only after the merchant's yes, a slow provider shows a
waiting button, and an error about a discount code goes once a valid code is applied."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from e2e.pages.checkout import SHOPPER
from e2e.secupay_steps import CARD_OK, back_to_the_shop, check_out_with_secupay, pay_by_card
from e2e.steps import add_to_cart, fill_details, open_admin_order, order_number, shot
from e2e.store import sandbox_page


def test_an_authorized_invoice_is_a_done_sale(page: Page):
    check_out_with_secupay(page, "Invoice")
    page.get_by_role("button", name="Pay now").click()
    back_to_the_shop(page, "Purchase on account confirmed")
    expect(page.locator("#receipt")).to_contain_text("Payment authorized — thank you!")
    # The sale is done: the cart is empty (the next checkout does not charge for it again) ...
    expect(page.locator("#cart-count")).to_have_text("")
    # ... and the confirmation the page speaks of is there, with what a confirmation says.
    page.get_by_role("link", name="See it").click()
    for text in ("1 x Dotted notebook A5", "Shipping", "Total", SHOPPER["Street and number"],
                 "Payment method: secupay"):
        expect(page.locator("pre.mail")).to_contain_text(text)
    shot(page, "confirmation-mail")


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


WATCH_THE_BUTTON = """() => {
  const form = document.getElementById("checkout-form");
  const button = form.querySelector("button[type=submit]");
  new MutationObserver(() => {
    if (!button.disabled || window.name) return;
    // window.name outlives the navigation to the provider's page (another origin, the same site).
    window.name = JSON.stringify({
      disabled: button.disabled, spinner: !!button.querySelector(".spinner"),
      label: button.getAttribute("aria-label"), at: Date.now()});
  }).observe(form, {subtree: true, attributes: true, childList: true});
}"""


def secupay_api(control: Page, mode: str) -> None:
    """secupay's control page, as a sales person sets how its API answers (normal, slow, error)."""
    control.goto(sandbox_page("secupay/"))
    control.locator("select[name=api]").select_option(mode)
    control.get_by_role("button", name="Save scenarios").click()
    expect(control.locator("select[name=api]")).to_have_value(mode)


def test_place_order_waits_with_a_spinner_while_a_slow_provider_answers(page: Page, new_context):
    control = new_context().new_page()
    secupay_api(control, "slow")
    try:
        add_to_cart(page, "NOTEBOOK-A5")
        page.goto("/checkout")
        fill_details(page)
        page.get_by_label(re.compile(r"Credit card\s*via secupay")).check()
        # The page is on its way out while the provider answers, where Playwright waits for the
        # next one: the page itself notes what the shopper saw meanwhile, and when.
        page.evaluate(WATCH_THE_BUTTON)
        clicked = page.evaluate("Date.now()")
        page.get_by_role("button", name=re.compile("Place order")).click()
        expect(page).to_have_url(re.compile(r"/sandbox/secupay/checkout\?"), timeout=20_000)
        seen = page.evaluate("window.name ? JSON.parse(window.name) : null")
        arrived = page.evaluate("Date.now()")
        assert seen is not None, "the button never showed it was waiting"
        assert seen["disabled"] and seen["spinner"] and seen["label"] == "Placing your order…", seen
        assert seen["at"] - clicked < 1000 and arrived - seen["at"] > 2000, (clicked, seen, arrived)
    finally:
        secupay_api(control, "normal")


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

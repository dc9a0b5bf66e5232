"""secupay beyond the card form: PayPal approved on PayPal's own page, and a push secupay sends
again for a payment the shop already has. Checked on the shop's pages and on secupay's own view
of the transaction (the sandbox's control page)."""

from __future__ import annotations

import time

from playwright.sync_api import Locator, Page, expect

from e2e.secupay_steps import CARD_OK, back_to_the_shop, check_out_with_secupay, expect_paid, pay_by_card
from e2e.steps import back_office, order_number
from e2e.store import sandbox_page

METHOD, STATUS = 3, 4  # columns of secupay's transaction table


def transaction_at_secupay(control: Page, number: str) -> Locator:
    """secupay's own row for the transaction of one order (its merchant reference)."""
    control.goto(sandbox_page("secupay/"))
    row = control.locator("tr", has=control.get_by_role("cell", name=number, exact=True))
    expect(row).to_have_count(1)
    return row


def test_paypal_approved_on_paypals_page(page: Page, new_context):
    check_out_with_secupay(page, "PayPal")
    page.get_by_role("button", name="Continue to PayPal").click()
    expect(page.get_by_role("heading", name="PayPal")).to_be_visible()
    page.get_by_role("button", name="Pay now").click()
    back_to_the_shop(page, "Payment successful")
    expect_paid(page)
    row = transaction_at_secupay(new_context().new_page(), order_number(page))
    expect(row.locator("td").nth(METHOD)).to_have_text("paypal")


def test_a_push_sent_again_for_a_paid_order_changes_nothing(page: Page, new_context):
    check_out_with_secupay(page, "Credit card")
    pay_by_card(page, CARD_OK)
    back_to_the_shop(page, "Payment successful")
    expect_paid(page)
    number = order_number(page)
    control = new_context().new_page()
    row = transaction_at_secupay(control, number)
    stx = row.locator("code").first.inner_text()
    pushes = control.locator(".card", has=control.get_by_role("heading", name="Pushes")).locator(
        "tr", has=control.locator("code", has_text=stx))
    before = pushes.count()
    row.get_by_role("button", name="push again").click()
    # secupay sends in the background: the control page, reloaded until the new push has left.
    deadline = time.monotonic() + 10
    while (pushes.count() <= before or "delivered" not in pushes.last.inner_text()) and time.monotonic() < deadline:
        control.wait_for_timeout(200)
        control.reload()
    expect(pushes.last).to_contain_text("delivered")
    merchant = new_context().new_page()
    back_office(merchant).open_order(number)
    expect(merchant.locator("#order-status")).to_have_text("paid")
    expect(merchant.locator(".payment")).to_have_count(1)

"""An authorized card (secupay, auto capture off) is a done sale for the shopper; when the merchant
cancels it, after saying yes, the order is cancelled and the shopper's order page says so live."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from e2e.secupay_steps import CARD_OK, back_to_the_shop, check_out_with_secupay, pay_by_card
from e2e.steps import open_admin_order, order_number, say_yes

pytestmark = pytest.mark.own_store  # its settings: auto_capture off
SERVER_ENV = {"SECUPAY_AUTO_CAPTURE": "false"}


def test_cancelling_an_authorized_card_cancels_the_order_live(page: Page, new_context):
    check_out_with_secupay(page, "Credit card")
    pay_by_card(page, CARD_OK)
    back_to_the_shop(page, "Payment authorised")
    expect(page.locator("#receipt")).to_contain_text("Payment authorized — thank you!")
    expect(page.locator("#cart-count")).to_have_text("")  # done: the next checkout starts empty
    page.evaluate("window.__sameDocument = true")
    number = order_number(page)
    merchant = new_context().new_page()
    open_admin_order(merchant, number)
    merchant.once("dialog", lambda dialog: dialog.dismiss())  # "no" moves nothing
    merchant.get_by_role("button", name="Cancel payment").click()
    expect(merchant.locator("#order-status")).to_have_text("authorized")
    say_yes(merchant)
    merchant.get_by_role("button", name="Cancel payment").click()
    expect(merchant.get_by_text("Cancel sent")).to_be_visible()
    expect(merchant.locator("#order-status")).to_have_text("cancelled")
    expect(merchant.get_by_role("button", name="Cancel payment")).to_have_count(0)
    expect(page.get_by_role("heading", name="Cancelled")).to_be_visible(timeout=10_000)
    expect(page.locator("#payment-panel")).to_contain_text("no money was taken")
    assert page.evaluate("window.__sameDocument") is True, "the page reloaded instead of updating live"

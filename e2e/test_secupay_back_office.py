"""secupay with auto_capture off: the card is only authorised in the checkout, and the merchant
captures it from the back office when the goods ship; the shopper's order page follows live. An
invoice purchase is captured the same way, which sends secupay the shipping information."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from e2e.secupay_steps import CARD_OK, back_to_the_shop, check_out_with_secupay, expect_paid, pay_by_card
from e2e.steps import open_admin_order, order_number, say_yes, shot
from e2e.store import sandbox_page

pytestmark = pytest.mark.own_store  # its settings: auto_capture off
SERVER_ENV = {"SECUPAY_AUTO_CAPTURE": "false"}


def capture(merchant: Page, number: str) -> None:
    open_admin_order(merchant, number)
    expect(merchant.locator("#order-status")).to_have_text("authorized")
    say_yes(merchant)
    merchant.get_by_role("button", name="Capture").click()
    expect(merchant.get_by_text(re.compile(r"Capture sent: the provider says ok"))).to_be_visible()
    expect(merchant.locator("#order-status")).to_have_text("paid")


def test_the_merchant_captures_an_authorised_card_payment(page: Page, new_context):
    check_out_with_secupay(page, "Credit card")
    pay_by_card(page, CARD_OK)
    back_to_the_shop(page, "Payment authorised")
    expect(page.locator("#receipt")).to_contain_text("Payment authorized — thank you!")
    shot(page, "capture-1-authorised")
    page.evaluate("window.__sameDocument = true")
    number = order_number(page)
    merchant = new_context().new_page()
    capture(merchant, number)
    capture_call = re.compile(r"POST /sandbox/secupay/api/v2/Payment/Transactions/PCI_\w+/capture")
    expect(merchant.locator(".timeline")).to_contain_text(capture_call)
    shot(merchant, "capture-2-back-office")
    # The shopper's page turns paid by itself.
    expect_paid(page)
    assert page.evaluate("window.__sameDocument") is True, "the page reloaded instead of updating live"
    # secupay has it as captured: accepted, simple status 1.
    merchant.goto(sandbox_page("secupay/"))
    row = merchant.locator("tr", has_text=number)
    expect(row).to_contain_text("ok")
    expect(row).to_contain_text("simple 1")


def test_an_invoice_is_captured_with_the_shipping_information(page: Page, new_context):
    check_out_with_secupay(page, "Invoice")
    expect(page.get_by_role("heading", name="Invoice")).to_be_visible()
    expect(page.get_by_text("Pay by bank transfer after you received your goods.")).to_be_visible()
    page.get_by_role("button", name="Pay now").click()
    back_to_the_shop(page, "Purchase on account confirmed")
    expect(page.locator("#receipt")).to_contain_text("Payment authorized — thank you!")
    shot(page, "invoice-1-order-page")
    # The shopper finds secupay's bank details under the receipt, to pay the invoice later.
    expect(page.locator(".instructions")).to_contain_text("IBAN")
    number = order_number(page)
    merchant = new_context().new_page()
    capture(merchant, number)
    expect(merchant.locator(".timeline")).to_contain_text(re.compile(r"PCI_\w+/capture"))
    expect_paid(page)
    # secupay got the shipping information with the capture: the invoice's due date runs from it.
    merchant.goto(sandbox_page("secupay/"))
    row = merchant.locator("tr", has_text=number)
    expect(row).to_contain_text("ok")
    expect(row).to_contain_text(f"shipped, invoice {number}")

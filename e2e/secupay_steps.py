"""What a shopper does on secupay's hosted Smart Checkout (the sandbox's test cards and IBAN)."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from e2e.steps import add_to_cart, place_order

CARD_OK = "4111 1111 1111 1111"
CARD_DECLINED = "4000 0000 0000 0002"
CARD_3DS = "4000 0000 0000 3220"
CARD_FAILS = "4000 0000 0000 0119"
IBAN = "DE37 5032 4000 1000 0005 24"


def check_out_with_secupay(page: Page, method: str | None = None, sku: str = "NOTEBOOK-A5") -> None:
    """Cart, checkout with secupay (``method`` as listed on the checkout page, or secupay's own
    page to choose on); ends on secupay's hosted page, reached by a full-page redirect."""
    add_to_cart(page, sku)
    place_order(page, re.compile(rf"{method}\s*via secupay" if method else r"secupay\s*Credit card, SEPA"))
    expect(page).to_have_url(re.compile(r"/sandbox/secupay/checkout\?"))
    expect(page.get_by_text("secupay Smart Checkout")).to_be_visible()


def pay_by_card(page: Page, number: str, holder: str = "Ada Lovelace") -> None:
    """secupay's card form, as the shopper fills it in."""
    expect(page.get_by_role("heading", name="Credit card")).to_be_visible()
    page.get_by_label("Card holder").fill(holder)
    page.get_by_label("Card number").fill(number)
    page.get_by_label("Expiry (MM/YY)").fill("12/30")
    page.get_by_label("CVC").fill("123")
    page.get_by_role("button", name="Pay now").click()


def back_to_the_shop(page: Page, headline: str) -> None:
    """secupay's result page, then its link back to the shop's success URL."""
    expect(page.get_by_role("heading", name=headline)).to_be_visible()
    page.get_by_role("link", name="Back to the shop").click()
    expect(page).to_have_url(re.compile(r"/orders/"))


def expect_paid(page: Page, timeout: float = 10_000) -> None:
    expect(page.locator("#receipt")).to_contain_text("Paid — thank you!", timeout=timeout)
    expect(page.locator("#receipt")).to_contain_text("by secupay")
    expect(page.locator("#receipt")).to_contain_text(re.compile(r"Payment reference: STX_"))



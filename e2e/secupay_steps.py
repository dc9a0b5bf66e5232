"""What a shopper does on secupay's hosted Smart Checkout (the sandbox's test cards and IBAN)."""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page, expect

from e2e.pages.secupay_hosted import CARD_3DS, CARD_DECLINED, CARD_FAILS, CARD_OK, SecupayHostedPage
from e2e.steps import add_to_cart, order_number, place_order

__all__ = ["CARD_3DS", "CARD_DECLINED", "CARD_FAILS", "CARD_OK", "IBAN"]  # the sandbox's, for the journeys

IBAN = "DE37 5032 4000 1000 0005 24"


def check_out_with_secupay(page: Page, method: str | None = None, sku: str = "NOTEBOOK-A5") -> None:
    """Cart, checkout with secupay (``method`` as listed on the checkout page, or secupay's own
    page to choose on); ends on secupay's hosted page, reached by a full-page redirect."""
    add_to_cart(page, sku)
    place_order(page, re.compile(rf"{method}\s*via secupay" if method else r"secupay\s*Credit card, SEPA"))
    expect(page).to_have_url(re.compile(r"/sandbox/secupay/checkout\?"))
    SecupayHostedPage(page).expect_open()


def pay_by_card(page: Page, number: str, holder: str = "Ada Lovelace") -> None:
    """secupay's card form, as the shopper fills it in."""
    SecupayHostedPage(page).pay_by_card(number, holder)


def back_to_the_shop(page: Page, headline: str) -> None:
    """secupay's result page, then its link back to the shop's success URL."""
    SecupayHostedPage(page).back_to_the_shop(headline)


def expect_paid(page: Page, timeout: float = 10_000) -> None:
    expect(page.locator("#receipt")).to_contain_text("Paid — thank you!", timeout=timeout)
    expect(page.locator("#receipt")).to_contain_text("by secupay")
    expect(page.locator("#receipt")).to_contain_text(re.compile(r"Payment reference: STX_"))




def paid_by_card(page: Page, sku: str = "NOTEBOOK-A5") -> str:
    """A card payment through secupay's page and back to the shop, paid; the order's number."""
    check_out_with_secupay(page, "Credit card", sku=sku)
    pay_by_card(page, CARD_OK)
    back_to_the_shop(page, "Payment successful")
    expect_paid(page)
    return order_number(page)


def pushes_of(control: Page, row: Locator) -> Locator:
    """secupay's pushes for one transaction (its row on the control page), newest first."""
    stx = row.locator("code").first.inner_text()
    return control.locator(".card", has=control.get_by_role("heading", name="Pushes")).locator(
        "tr", has=control.locator("code", has_text=stx))

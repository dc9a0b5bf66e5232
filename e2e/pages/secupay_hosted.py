"""secupay's hosted Smart Checkout: the card or SEPA form the shop redirects the shopper to."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

CARD_OK = "4111 1111 1111 1111"  # the sandbox's test cards
CARD_DECLINED = "4000 0000 0000 0002"
CARD_3DS = "4000 0000 0000 3220"
CARD_FAILS = "4000 0000 0000 0119"


class SecupayHostedPage:
    def __init__(self, page: Page) -> None:
        self.page = page

    def expect_open(self) -> SecupayHostedPage:
        expect(self.page).to_have_url(re.compile(r"/checkout\?"))
        expect(self.page.get_by_text("secupay Smart Checkout")).to_be_visible()
        return self

    def pay_by_card(self, number: str, holder: str = "Ada Lovelace") -> None:
        expect(self.page.get_by_role("heading", name="Credit card")).to_be_visible()
        self.page.get_by_label("Card holder").fill(holder)
        self.page.get_by_label("Card number").fill(number)
        self.page.get_by_label("Expiry (MM/YY)").fill("12/30")
        self.page.get_by_label("CVC").fill("123")
        self.page.get_by_role("button", name="Pay now").click()

    def back_to_the_shop(self, headline: str) -> None:
        """secupay's result page, then its link back to the shop."""
        expect(self.page.get_by_role("heading", name=headline)).to_be_visible()
        self.page.get_by_role("link", name="Back to the shop").click()
        expect(self.page).to_have_url(re.compile(r"/orders/"))

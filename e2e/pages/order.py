"""The shopper's order page: what it waits for, and how it turns paid (or not) by itself."""

from __future__ import annotations

import re
from urllib.parse import unquote

from playwright.sync_api import Page, expect

SEQR_APP_LINK = "No phone at hand? Open the SEQR app here"


class OrderPage:
    def __init__(self, page: Page) -> None:
        self.page = page

    @property
    def number(self) -> str:
        return self.page.get_by_role("heading", level=1).inner_text().removeprefix("Order ").strip()

    def watch_for_reloads(self) -> None:
        """Mark this document: ``assert_not_reloaded()`` then proves a change arrived live."""
        self.page.evaluate("window.__sameDocument = true")

    def assert_not_reloaded(self) -> None:
        assert self.page.evaluate("window.__sameDocument") is True, "the page reloaded instead of updating live"

    def expect_paid(self, timeout: float = 10_000, by: str | None = None) -> None:
        receipt = self.page.locator("#receipt")
        expect(receipt).to_contain_text("Paid — thank you!", timeout=timeout)
        if by:
            expect(receipt).to_contain_text(f"by {by}")

    def expect_ended(self, heading: str, timeout: float = 10_000) -> None:
        """An attempt that ended without money: "Payment cancelled", "Payment failed", "Payment timed out"."""
        expect(self.page.get_by_role("heading", name=heading)).to_be_visible(timeout=timeout)

    def channel(self) -> str | None:
        """How the page heard of the change: "socket", or "poll" with the websocket blocked."""
        return self.page.locator("#payment").get_attribute("data-channel")

    # Bank transfer
    def transfer_details(self) -> tuple[str, str]:
        """(amount as digits, reference) as the page tells the shopper to transfer them."""
        table = self.page.locator("table.instructions")
        amount = table.locator("tr", has_text="Amount").locator("code").inner_text()
        reference = table.locator("tr", has_text="Reference").locator("code").inner_text()
        return re.sub(r"[^\d.,]", "", amount), reference

    # SEQR: the QR code and the link to the app
    def seqr_invoice_reference(self) -> str:
        """The SEQR invoice the page waits for, from its link to the app (SEQR://SEQR.SE/R<reference>)."""
        href = unquote(self.page.get_by_role("link", name=SEQR_APP_LINK).get_attribute("href"))
        return re.search(r"SEQR\.SE/R(\d+)", href, re.IGNORECASE).group(1)

    def open_seqr_app(self) -> Page:
        """The shopper without a phone at hand opens the SEQR app from the page's link."""
        with self.page.expect_popup() as popup:
            self.page.get_by_role("link", name=SEQR_APP_LINK).click()
        return popup.value

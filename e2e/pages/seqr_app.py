"""The SEQR app (the sandbox plays it in a browser page): the payer confirms an invoice and pays
with the PIN, or cancels it."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

PIN = "1234"  # the sandbox's


class SeqrApp:
    def __init__(self, page: Page) -> None:
        self.page = page

    def expect_invoice(self) -> SeqrApp:
        expect(self.page.get_by_role("heading", name=re.compile(r"Cartwheel order CW"))).to_be_visible()
        return self

    def confirm(self) -> None:
        self.page.get_by_role("link", name="Confirm").click()
        expect(self.page.get_by_role("heading", name=re.compile(r"^Pay "))).to_be_visible()

    def enter_pin(self, pin: str) -> None:
        self.page.get_by_label("PIN").fill(pin)
        self.page.get_by_role("button", name="Pay").click()

    def pay(self, *, wrong_pin_first: bool = False) -> str:
        """Confirm and pay; returns SEQR's receipt number."""
        self.confirm()
        if wrong_pin_first:
            self.enter_pin("0000")
            expect(self.page.get_by_role("alert")).to_have_text("Wrong PIN. Try again.")
        self.enter_pin(PIN)
        expect(self.page.get_by_role("heading", name="Paid")).to_be_visible()
        return re.search(r"Receipt (\d+)", self.page.locator(".card").inner_text()).group(1)

    def cancel(self) -> None:
        self.page.get_by_role("button", name="Cancel").click()
        expect(self.page.get_by_role("heading", name="Cancelled")).to_be_visible()

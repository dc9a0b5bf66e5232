"""The shopper's online banking at the sandbox bank: a transfer to the shop."""

from __future__ import annotations

from playwright.sync_api import Page, expect


class OnlineBanking:
    def __init__(self, page: Page, url: str) -> None:
        """``url``: the bank's online banking page (the sandbox's ``/sandbox/banktransfer/bank``)."""
        self.page = page
        self.url = url

    def send_transfer(self, amount: str, reference: str) -> None:
        self.page.goto(self.url)
        self.page.get_by_label("Amount (EUR)").fill(amount)
        self.page.get_by_label("Reference").fill(reference)
        self.page.get_by_role("button", name="Send transfer").click()
        expect(self.page.get_by_role("status")).to_contain_text(f"with reference {reference}")

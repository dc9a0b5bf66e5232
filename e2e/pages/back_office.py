"""The back office: the merchant logs in, opens an order and acts on its payment."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect


class BackOffice:
    def __init__(self, page: Page, password: str, base: str = "") -> None:
        """``password``: the back office's (never written in a test: from the environment)."""
        self.page = page
        self.password = password
        self.base = base

    def log_in(self) -> BackOffice:
        """To the order list, logging in unless this browser is already."""
        self.page.goto(f"{self.base}/admin/")
        password = self.page.get_by_label("Password")
        if password.count():
            password.fill(self.password)
            self.page.get_by_role("button", name="Log in").click()
        expect(self.page.get_by_role("heading", name="Orders")).to_be_visible()
        return self

    def log_out(self) -> None:
        """Logged out, the back office asks for the password again."""
        self.page.get_by_role("button", name="Log out").click()
        self.page.goto(f"{self.base}/admin/")
        expect(self.page.get_by_label("Password")).to_be_visible()

    def open_order(self, number: str) -> BackOffice:
        """From the order list (logged in first)."""
        self.log_in()
        self.page.get_by_role("link", name=number).click()
        expect(self.page.get_by_role("heading", name=re.compile(f"Order {number}"))).to_be_visible()
        return self

    def status(self):
        return self.page.locator("#order-status")

    def say_yes(self) -> None:
        """The back office asks before money moves (a refund, a cancel, a capture): the merchant says yes."""
        self.page.once("dialog", lambda dialog: dialog.accept())

    def cancel_payment(self) -> None:
        self.say_yes()
        self.page.get_by_role("button", name="Cancel payment").click()
        expect(self.page.get_by_text("Cancel sent")).to_be_visible()

    def refund(self, amount: str | None = None, reason: str = "") -> None:
        """``amount`` in euros as typed ("5.00"); None refunds what the form offers (the rest)."""
        form = self.page.locator("form[action$='/refund']")
        if amount is not None:
            form.get_by_label("Refund").fill(amount)
        if reason:
            form.get_by_placeholder("reason").fill(reason)
        self.say_yes()
        form.get_by_role("button", name="Refund").click()

    def mark_transfer_received(self) -> None:
        self.say_yes()
        self.page.get_by_role("button", name="Mark transfer received").click()
        expect(self.status()).to_have_text("paid")

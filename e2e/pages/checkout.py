"""The checkout page: the shopper's details, a payment option, and the order placed."""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page, expect

# A German shopper, as the demo's providers expect by default.
SHOPPER = {"E-mail": "ada@example.com", "Mobile phone": "+49 170 1234567", "First name": "Ada",
           "Last name": "Lovelace", "Street and number": "Hauptstraße 5", "Postcode": "10115", "City": "Berlin"}


class CheckoutPage:
    def __init__(self, page: Page) -> None:
        self.page = page

    def open(self) -> CheckoutPage:
        self.page.goto("/checkout")
        expect(self.page.get_by_role("heading", name="Checkout")).to_be_visible()
        return self

    def fill_details(self, **changes: str) -> CheckoutPage:
        """The customer and delivery fields, by the labels the shopper reads: ``fill_details(City="Köln")``."""
        for label, value in {**SHOPPER, **changes}.items():
            self.page.get_by_label(label, exact=True).first.fill(value)
        return self

    def option(self, method: str | re.Pattern) -> Locator:
        """A payment option's radio button, by its label (a plain string is a regular expression)."""
        return self.page.get_by_label(method if isinstance(method, re.Pattern) else re.compile(method))

    def choose(self, method: str | re.Pattern) -> CheckoutPage:
        self.option(method).check()
        return self

    def place_order(self) -> None:
        self.page.get_by_role("button", name=re.compile("Place order")).click()

"""A product page: what a shopper puts in the cart."""

from __future__ import annotations

from playwright.sync_api import Page, expect


class ProductPage:
    def __init__(self, page: Page) -> None:
        self.page = page

    def add_to_cart(self, sku: str) -> None:
        self.page.goto(f"/products/{sku}")
        self.page.get_by_role("button", name="Add to cart").click()
        expect(self.page.locator("#cart-message")).to_contain_text("Added")

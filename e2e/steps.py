"""Steps the journeys share: what a shopper or a merchant does the same way every time."""

from __future__ import annotations

import os
import re
from pathlib import Path

from playwright.sync_api import Page, expect

from e2e.store import admin_password

SHOPPER = {"E-mail": "ada@example.com", "Mobile phone": "+49 170 1234567", "First name": "Ada",
           "Last name": "Lovelace", "Street and number": "Hauptstraße 5", "Postcode": "10115", "City": "Berlin"}


def add_to_cart(page: Page, sku: str) -> None:
    page.goto(f"/products/{sku}")
    page.get_by_role("button", name="Add to cart").click()
    expect(page.locator("#cart-message")).to_contain_text("Added")


def fill_details(page: Page, **changes: str) -> None:
    """The checkout form's customer and delivery fields (labels as the shopper reads them)."""
    for label, value in {**SHOPPER, **changes}.items():
        page.get_by_label(label, exact=True).first.fill(value)


def place_order(page: Page, method: str | re.Pattern, **changes: str) -> None:
    page.goto("/checkout")
    fill_details(page, **changes)
    page.get_by_label(method if isinstance(method, re.Pattern) else re.compile(method)).check()
    page.get_by_role("button", name=re.compile("Place order")).click()


def order_number(page: Page) -> str:
    return page.get_by_role("heading", level=1).inner_text().removeprefix("Order ").strip()


def log_in_admin(page: Page, base: str = "") -> None:
    page.goto(f"{base}/admin/")
    page.get_by_label("Password").fill(admin_password())
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Orders")).to_be_visible()


def open_admin_order(page: Page, number: str, base: str = "") -> None:
    log_in_admin(page, base)
    page.get_by_role("link", name=number).click()
    expect(page.get_by_role("heading", name=re.compile(f"Order {number}"))).to_be_visible()


def say_yes(page: Page) -> None:
    """The merchant answers yes to the next question the back office asks before money moves."""
    page.once("dialog", lambda dialog: dialog.accept())


def mark_transfer_received(page: Page) -> None:
    say_yes(page)
    page.get_by_role("button", name="Mark transfer received").click()
    expect(page.locator("#order-status")).to_have_text("paid")


def shot(page: Page, name: str) -> None:
    """With E2E_SHOTS=<folder>, keep a picture of what the shopper or merchant sees at this step."""
    folder = os.environ.get("E2E_SHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def confirm_order_email(page: Page, email: str) -> None:
    """Back from a provider in a browser that did not place the order (the payer's phone, the
    SEQR app): the shop asks for the order's e-mail address before it shows the order."""
    expect(page.get_by_role("heading", name="Confirm your e-mail address to see your order")).to_be_visible()
    page.get_by_label("E-mail address").fill(email)
    page.get_by_role("button", name="Show my order").click()


def merchant_cancels_live(page: Page, new_context, number: str) -> Page:
    """The merchant cancels the order's payment in the back office; the shopper's order page says
    so without a reload. Returns the merchant's page."""
    page.evaluate("window.__sameDocument = true")
    merchant = new_context().new_page()
    open_admin_order(merchant, number)
    say_yes(merchant)
    merchant.get_by_role("button", name="Cancel payment").click()
    expect(merchant.get_by_text("Cancel sent")).to_be_visible()
    expect(page.get_by_role("heading", name="Payment cancelled")).to_be_visible(timeout=10_000)
    assert page.evaluate("window.__sameDocument") is True, "the page reloaded instead of updating live"
    return merchant

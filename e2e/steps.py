"""Steps the journeys share: what a shopper or a merchant does the same way every time."""

from __future__ import annotations

import os
import re
from pathlib import Path

from playwright.sync_api import Page, expect

from e2e.pages.back_office import BackOffice
from e2e.pages.checkout import CheckoutPage
from e2e.pages.order import OrderPage
from e2e.pages.product import ProductPage
from e2e.store import admin_password


def add_to_cart(page: Page, sku: str) -> None:
    ProductPage(page).add_to_cart(sku)


def fill_details(page: Page, **changes: str) -> None:
    """The checkout form's customer and delivery fields (labels as the shopper reads them)."""
    CheckoutPage(page).fill_details(**changes)


def place_order(page: Page, method: str | re.Pattern, **changes: str) -> None:
    CheckoutPage(page).open().fill_details(**changes).choose(method).place_order()


def order_number(page: Page) -> str:
    return OrderPage(page).number


def back_office(page: Page, base: str = "") -> BackOffice:
    """The back office in ``page``, with the password from E2E_ADMIN_PASSWORD (or the demo's)."""
    return BackOffice(page, admin_password(), base)


def log_in_admin(page: Page, base: str = "") -> None:
    back_office(page, base).log_in()


def open_admin_order(page: Page, number: str, base: str = "") -> None:
    back_office(page, base).open_order(number)


def say_yes(page: Page) -> None:
    """The merchant answers yes to the next question the back office asks before money moves."""
    page.once("dialog", lambda dialog: dialog.accept())


def mark_transfer_received(page: Page) -> None:
    back_office(page).mark_transfer_received()


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
    order = OrderPage(page)
    order.watch_for_reloads()
    merchant = new_context().new_page()
    back_office(merchant).open_order(number).cancel_payment()
    order.expect_ended("Payment cancelled")
    order.assert_not_reloaded()
    return merchant

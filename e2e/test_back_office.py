"""The merchant's back office (log in, orders, outbox, log out) and the sales person's demo page."""

import re

import pytest
from playwright.sync_api import Page, expect

from e2e.steps import add_to_cart, mark_transfer_received, order_number, place_order
from e2e.store import admin_password


def log_in(page: Page) -> None:
    page.goto("/admin/")
    page.get_by_label("Password").fill("wrong-password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_text("That password is not right.")).to_be_visible()
    page.get_by_label("Password").fill(admin_password())
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Orders")).to_be_visible()


def place_transfer_order(page: Page, sku: str) -> str:
    add_to_cart(page, sku)
    place_order(page, "Bank transfer", **{"E-mail": "mary@example.com", "First name": "Mary", "Last name": "Somerville"})
    expect(page.get_by_role("heading", name=re.compile("Waiting for your transfer"))).to_be_visible()
    return order_number(page)


def test_orders_are_listed_filtered_and_shown_with_their_timeline(page: Page, new_context):
    first = place_transfer_order(page, "TEA-SENCHA")
    second = place_transfer_order(page, "LAMP-DESK")
    merchant = new_context().new_page()
    log_in(merchant)
    expect(merchant.get_by_role("link", name=first)).to_be_visible()
    merchant.get_by_role("link", name=second).click()
    mark_transfer_received(merchant)
    expect(merchant.get_by_text("Done: the payment is paid.")).to_be_visible()
    expect(merchant.locator(".timeline")).to_contain_text("POST /sandbox/banktransfer/v1/expected-credits")
    expect(merchant.locator(".timeline")).to_contain_text("pending -> paid")
    expect(merchant.locator(".diagram svg")).to_be_visible()
    merchant.get_by_role("link", name="← All orders").click()
    merchant.get_by_label("Status").select_option("paid")
    merchant.get_by_role("button", name="Filter").click()
    expect(merchant.get_by_role("link", name=second)).to_be_visible()
    expect(merchant.get_by_role("link", name=first)).to_have_count(0)
    merchant.get_by_role("link", name="Outbox").click()
    expect(merchant.get_by_text(f"Your order {second} is confirmed")).to_be_visible()
    confirmation = merchant.get_by_role("row").filter(has_text=f"Your order {second} is confirmed")
    expect(confirmation.locator(".delivery")).to_contain_text("held here: no SMTP server is set")
    # Logged out, the back office asks for the password again.
    merchant.get_by_role("button", name="Log out").click()
    merchant.goto("/admin/")
    expect(merchant.get_by_label("Password")).to_be_visible()
    expect(merchant.get_by_role("link", name=second)).to_have_count(0)


@pytest.mark.destructive  # "Reset the demo" wipes every order
def test_the_demo_page_lists_every_provider_and_resets_the_shop(page: Page, new_context):
    place_transfer_order(page, "POSTER-MAP")
    page.goto("/products/POSTER-MAP")
    expect(page.get_by_text("2 in stock")).to_be_visible()  # one is held for the order
    sales = new_context().new_page()
    log_in(sales)
    sales.goto("/demo")
    expect(sales.get_by_role("heading", name="Bank transfer")).to_be_visible()
    expect(sales.get_by_role("link", name="Sandbox control page").first).to_be_visible()
    sales.get_by_role("button", name="Reset the demo").click()
    sales.get_by_role("button", name="Reset everything").click()  # its confirmation step
    expect(sales.get_by_text("The demo is reset")).to_be_visible()
    sales.goto("/admin/")
    expect(sales.get_by_text("No orders yet.")).to_be_visible()
    page.goto("/products/POSTER-MAP")
    expect(page.get_by_text("3 in stock")).to_be_visible()


def test_without_javascript_the_back_office_asks_on_a_page_and_no_goes_back(page: Page, new_context):
    number = place_transfer_order(page, "MUG-ENAMEL")
    merchant = new_context(java_script_enabled=False).new_page()
    log_in(merchant)
    # The provider filter: a bank transfer order under its provider, not under another's.
    merchant.get_by_label("Provider").select_option(label="SEQR")
    merchant.get_by_role("button", name="Filter").click()
    expect(merchant.get_by_role("link", name=number)).to_have_count(0)
    merchant.get_by_label("Provider").select_option(label="Bank transfer")
    merchant.get_by_role("button", name="Filter").click()
    merchant.get_by_role("link", name=number).click()
    # No script to ask in a dialog: the question comes as a page of its own.
    merchant.get_by_role("button", name="Mark transfer received").click()
    expect(merchant.get_by_role("heading", name="Please confirm")).to_be_visible()
    expect(merchant.get_by_text("Has the full amount arrived on the account?")).to_be_visible()
    merchant.get_by_role("link", name="No, back to the order").click()
    expect(merchant.get_by_role("heading", name=re.compile(f"Order {number}"))).to_be_visible()
    expect(merchant.locator("#order-status")).not_to_have_text("paid")  # nothing happened
    merchant.get_by_role("button", name="Mark transfer received").click()
    merchant.get_by_role("button", name="Mark transfer received").click()  # yes, on the question's page
    expect(merchant.locator("#order-status")).to_have_text("paid")

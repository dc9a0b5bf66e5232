"""axe-core on every page a shopper or merchant sees (e2e/every_page.py): no serious or critical
violation of WCAG 2.2 AA or axe's best practices. And what axe cannot see: where the keyboard's
focus goes, what a screen reader is told, and a modal that keeps the keyboard inside it."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from e2e.axe import assert_accessible
from e2e.bank_steps import book_transfer, transfer_details
from e2e.every_page import VISITS, bank_transfer_order, checkout_with_errors, order_embedded_form
from e2e.steps import fill_details


@pytest.mark.parametrize("visit", VISITS.values(), ids=VISITS.keys())
def test_axe_finds_nothing_serious(page: Page, visit):
    visit(page)
    assert_accessible(page)


def test_a_keyboard_user_skips_the_header_to_the_content(page: Page):
    page.goto("/")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("main")).to_be_focused()


def test_each_add_to_cart_button_names_its_product(page: Page):
    page.goto("/")
    products = page.locator(".card h2").all_inner_texts()
    assert len(products) > 1
    for product in products:
        expect(page.get_by_role("button", name=f"Add to cart: {product}", exact=True)).to_have_count(1)


def test_after_a_failed_submit_the_focus_is_on_the_first_field_to_fix(page: Page):
    checkout_with_errors(page)
    expect(page.get_by_label("E-mail", exact=True)).to_be_focused()
    fill_details(page, Postcode="")
    page.locator("input[name=method][value='banktransfer:banktransfer']").check()
    page.get_by_role("button", name="Place order").click()
    postcode = page.get_by_label("Postcode", exact=True).first
    expect(postcode).to_have_attribute("aria-invalid", "true")
    expect(postcode).to_be_focused()


def test_a_screen_reader_hears_the_payment_status_change(page: Page):
    bank_transfer_order(page)
    announcer = page.locator("#payment-announcer")
    expect(announcer).to_have_attribute("role", "status")
    expect(announcer).to_be_empty()  # the live region is there, silent, before the change
    _, reference = transfer_details(page)
    book_transfer(page.context.new_page(), reference)
    expect(announcer).to_have_text("✓ Paid — thank you!", timeout=10_000)


def test_the_sequra_form_is_a_modal_dialog_for_the_keyboard(page: Page):
    order_embedded_form(page)
    dialog = page.get_by_role("dialog", name="seQura")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Nombre")).to_be_focused()
    inside = "document.querySelector('[role=dialog]').contains(document.activeElement)"
    for key in ["Tab"] * 8 + ["Shift+Tab"] * 8:  # more stops than the form has: Tab wraps inside it
        page.keyboard.press(key)
        assert page.evaluate(inside), f"{key} left the dialog"
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()

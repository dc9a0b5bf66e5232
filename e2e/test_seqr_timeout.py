"""SEQR payments that end without money, and the new attempt on the same order: the invoice
times out (the reconciler cancels it at SEQR), the payer cancels in the app, the payer's bank
declines. Each time the order page says so by itself and offers to pay again. Beside them, with
the same quick reconciler, a bank transfer whose webhook the bank loses is read back from it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from e2e.bank_steps import book_transfer, expected_credit, set_webhook, transfer_details
from e2e.seqr_steps import check_out_with_seqr, invoice_at_seqr, invoice_reference, open_app, pay_in_app, set_scenarios
from e2e.steps import add_to_cart, place_order, shot

pytestmark = pytest.mark.own_store  # its settings: short SEQR timeouts, a quick reconciler
# Invoices live 6 s here, the reconciler looks every second, and reads a bank payment back after 2 s
# (SEQR's own read-back time is the plugin's, 5 s).
SERVER_ENV = {"SEQR_PAYMENT_TIMEOUT_SECONDS": "6", "RECONCILE_EVERY_SECONDS": "1", "RECONCILE_AFTER_SECONDS": "2"}


def pay_again_with_seqr(page: Page) -> None:
    """The retry form under the ended attempt: choose SEQR, pay, and pay it in the app at once."""
    retry = page.locator("form.retry")
    retry.get_by_label(re.compile(r"\bSEQR\b")).check()
    order_url = page.url
    retry.get_by_role("button", name=re.compile(r"^Pay €")).click()
    expect(page.get_by_role("heading", name=re.compile("Waiting for your payment"))).to_be_visible()
    assert page.url == order_url  # the same order, a new attempt
    page.evaluate("window.__sameDocument = true")
    pay_in_app(open_app(page))
    expect(page.locator("#receipt")).to_contain_text("Paid — thank you!", timeout=10_000)
    assert page.evaluate("window.__sameDocument") is True


def test_an_invoice_left_unpaid_times_out_and_the_shopper_pays_again(page: Page, new_context):
    check_out_with_seqr(page)
    reference = invoice_reference(page)
    page.evaluate("window.__sameDocument = true")
    expect(page.get_by_role("heading", name="Payment timed out")).to_be_visible(timeout=15_000)
    expect(page.get_by_text("The SEQR invoice was not paid within 6 seconds, so it was cancelled.")).to_be_visible()
    assert page.evaluate("window.__sameDocument") is True, "the page reloaded instead of updating live"
    # At SEQR the invoice is cancelled, by the shop: the payer can no longer pay it.
    row, history = invoice_at_seqr(new_context().new_page(), reference)
    expect(row.locator("td.status")).to_have_text("CANCELED")
    expect(history).to_contain_text("CANCELED: cancelled by the merchant")
    shot(page, "timeout-1-timed-out")
    pay_again_with_seqr(page)
    shot(page, "timeout-2-paid")


def test_the_payer_cancels_in_the_app_and_pays_on_the_second_try(page: Page):
    check_out_with_seqr(page, "PEN-CASE")
    page.evaluate("window.__sameDocument = true")
    app = open_app(page)
    app.get_by_role("button", name="Cancel").click()
    expect(app.get_by_role("heading", name="Cancelled")).to_be_visible()
    expect(page.get_by_role("heading", name="Payment cancelled")).to_be_visible(timeout=10_000)
    expect(page.get_by_role("button", name=re.compile(r"^Pay €"))).to_be_visible()
    assert page.evaluate("window.__sameDocument") is True
    shot(page, "cancel-1-cancelled")
    app.close()
    pay_again_with_seqr(page)


def test_the_payers_bank_declines(page: Page, new_context):
    control = new_context().new_page()
    set_scenarios(control, bank="decline")
    try:
        check_out_with_seqr(page, "LAMP-DESK")
        page.evaluate("window.__sameDocument = true")
        app = open_app(page)
        app.get_by_role("link", name="Confirm").click()
        app.get_by_label("PIN").fill("1234")
        app.get_by_role("button", name="Pay").click()
        expect(app.get_by_role("heading", name="Payment declined")).to_be_visible()
        expect(page.get_by_role("heading", name="Payment failed")).to_be_visible(timeout=10_000)
        expect(page.get_by_text("The payer's bank declined the SEQR payment.")).to_be_visible()
        assert page.evaluate("window.__sameDocument") is True, "the page reloaded instead of updating live"
        shot(page, "declined")
    finally:
        set_scenarios(control, bank="approve")
    app.close()
    pay_again_with_seqr(page)


def test_a_bank_webhook_lost_is_made_up_for_by_the_reconciler(page: Page, new_context):
    bank = new_context().new_page()
    set_webhook(bank, "lost")
    try:
        add_to_cart(page, "PEN-BLUE")
        place_order(page, "Bank transfer")
        expect(page.get_by_role("heading", name=re.compile("Waiting for your transfer"))).to_be_visible()
        page.evaluate("window.__sameDocument = true")
        _, reference = transfer_details(page)
        book_transfer(bank, reference)
        credit = expected_credit(bank, reference).locator("code").inner_text()
        expect(bank.locator("pre")).to_contain_text(f"webhook credit.booked for {credit}: lost")
        # No webhook comes: the reconciler asks the bank, and the page turns paid by itself.
        expect(page.locator("#receipt")).to_contain_text("Paid — thank you!", timeout=15_000)
        assert page.evaluate("window.__sameDocument") is True, "the page reloaded instead of updating live"
        expect(expected_credit(bank, reference).locator("td.status")).to_have_text("credited")
    finally:
        set_webhook(bank, "send")

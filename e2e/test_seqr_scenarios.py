"""SEQR from its own side: what a sales person does on the sandbox's control page (the payer pays
or cancels there, SEQR notifies again, SEQR refuses refunds), and what the merchant does with a
SEQR invoice in the back office (updates a waiting invoice, sends the receipt to the payer's app,
tries to cancel one the payer has open in the app). Each is checked on the shop's pages and on
SEQR's own view of the invoice."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Page, expect

from e2e.pages.order import OrderPage
from e2e.seqr_steps import (
    check_out_with_seqr,
    invoice_at_seqr,
    invoice_paid_with,
    invoice_reference,
    notification_at_seqr,
    pay_by_scanning,
    pay_in_app,
    set_scenarios,
)
from e2e.steps import back_office, shot

TITLE, TOTAL, STATUS = 2, 3, 4  # columns of SEQR's invoice table


def act_on_invoice(control: Page, reference: str, button: str) -> None:
    """A row action on SEQR's control page, for one invoice."""
    row, _ = invoice_at_seqr(control, reference)
    row.get_by_role("button", name=button).click()


def expect_sent(control: Page, reference: str, seconds: float = 10) -> None:
    """SEQR posts its notification in the background: the control page, reloaded until the newest
    one for this invoice has left the queue, says how the shop answered."""
    newest = notification_at_seqr(control, reference).first
    deadline = time.monotonic() + seconds
    while "queued" in newest.inner_text() and time.monotonic() < deadline:
        control.wait_for_timeout(200)
        control.reload()
    expect(newest).to_contain_text("sent: HTTP 200")


def test_the_payer_pays_on_the_control_page_and_a_repeated_notification_pays_nothing_twice(page: Page, new_context):
    check_out_with_seqr(page, "PEN-BLUE")
    reference = invoice_reference(page)
    order = OrderPage(page)
    number = order.number
    order.watch_for_reloads()
    control = new_context().new_page()
    act_on_invoice(control, reference, "Payer pays")
    order.expect_paid()
    order.assert_not_reloaded()
    row, _ = invoice_at_seqr(control, reference)
    expect(row.locator("td").nth(STATUS)).to_have_text("PAID")
    expect(notification_at_seqr(control, reference)).to_have_count(1)
    # SEQR sends the same notification again: it reaches the shop, which already has the money.
    act_on_invoice(control, reference, "Notify again")
    expect(notification_at_seqr(control, reference)).to_have_count(2)
    expect_sent(control, reference)  # the shop answered it: 200, nothing to do
    merchant = new_context().new_page()
    back_office(merchant).open_order(number)
    expect(merchant.locator("#order-status")).to_have_text("paid")
    expect(merchant.locator(".payment")).to_have_count(1)
    expect(merchant.locator(".payment").first).to_contain_text("paid")
    shot(control, "seqr-notify-again")


def test_the_payer_cancels_on_the_control_page_and_the_page_says_so_live(page: Page, new_context):
    check_out_with_seqr(page, "PEN-CASE")
    reference = invoice_reference(page)
    order = OrderPage(page)
    order.watch_for_reloads()
    control = new_context().new_page()
    act_on_invoice(control, reference, "Payer cancels")
    order.expect_ended("Payment cancelled")
    order.assert_not_reloaded()
    expect(page.get_by_role("button", name=re.compile(r"^Pay €"))).to_be_visible()  # the same order, again
    row, _ = invoice_at_seqr(control, reference)
    expect(row.locator("td").nth(STATUS)).to_have_text("CANCELED")
    expect(row.get_by_role("button", name="Payer pays")).to_have_count(0)


def test_the_merchant_renames_a_waiting_invoice_and_sends_the_receipt_once_paid(page: Page, new_context):
    check_out_with_seqr(page, "LAMP-DESK")
    reference = invoice_reference(page)
    number = OrderPage(page).number
    merchant = new_context().new_page()
    back_office(merchant).open_order(number)
    update = merchant.locator("form", has=merchant.get_by_role("button", name="Update SEQR invoice"))
    update.get_by_label("Title").fill(f"Order {number}, gift wrapped")
    update.get_by_role("button", name="Update SEQR invoice").click()
    expect(merchant.locator(".flash").first).to_contain_text(f"SEQR invoice {reference} updated")
    # SEQR's view: the new title; the payer's app shows it too, and the payer pays it.
    control = new_context().new_page()
    row, _ = invoice_at_seqr(control, reference)
    expect(row.locator("td").nth(TITLE)).to_have_text(f"Order {number}, gift wrapped")
    app = OrderPage(page).open_seqr_app()
    expect(app.get_by_role("heading", name=f"Order {number}, gift wrapped")).to_be_visible()
    receipt = pay_in_app(app)
    OrderPage(page).expect_paid()
    merchant.reload()
    merchant.get_by_role("button", name="Send receipt to the payer's app").click()
    expect(merchant.locator(".flash").first).to_contain_text("Receipt sent to the payer's SEQR app.")
    row, history = invoice_at_seqr(control, reference)
    expect(history).to_contain_text(re.compile(r"receipt .*attached"))
    expect(row).to_contain_text(receipt)


@pytest.mark.destructive  # it switches SEQR's refunds off for everyone
def test_seqr_refusing_a_refund_leaves_the_order_paid_and_nothing_refunded_at_seqr(page: Page, new_context):
    number, receipt = pay_by_scanning(page, name="refund-denied")
    control = new_context().new_page()
    set_scenarios(control, refunds="deny")  # SEQR answers 99: the payer's account cannot take it
    try:
        merchant = new_context().new_page()
        back_office(merchant).open_order(number).refund("5.00", reason="scuffed cover")
        expect(merchant.locator(".flash.error")).to_have_text(
            "The provider refused: The payer's account does not accept refunds.")
        expect(merchant.locator("#order-status")).to_have_text("paid")
        expect(merchant.locator(".payment")).not_to_contain_text("refunded")
        row, history = invoice_paid_with(control, receipt)
        expect(row.locator("td").nth(7)).to_have_text("")  # the Refunded column: nothing
        expect(history).not_to_contain_text("refunded")
    finally:
        set_scenarios(control, refunds="allow")


def test_the_merchant_cannot_cancel_an_invoice_the_payer_has_open_in_the_app(page: Page, new_context):
    number = check_out_with_seqr(page, "TEA-SENCHA")
    reference = invoice_reference(page)
    order = OrderPage(page)
    app = order.open_seqr_app()  # the payer has scanned it: SEQR holds it for the payer
    merchant = new_context().new_page()
    office = back_office(merchant).open_order(number)
    office.say_yes()
    merchant.get_by_role("button", name="Cancel payment").click()
    expect(merchant.locator(".flash.error")).to_contain_text(
        "The payer is paying this invoice right now; it cannot be cancelled.")
    expect(office.status()).to_have_text("awaiting payment")
    row, _ = invoice_at_seqr(new_context().new_page(), reference)
    expect(row.locator("td.status")).to_have_text(re.compile(r"^ISSUED\s+\(payer in app\)$"))
    # The payer goes on and pays: the order is paid as if the merchant had never tried.
    receipt = pay_in_app(app)
    order.expect_paid(timeout=15_000)
    expect(page.locator("#receipt")).to_contain_text(receipt)

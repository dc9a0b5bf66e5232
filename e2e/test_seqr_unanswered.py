"""SEQR when time runs out on one side: SEQR answers sendInvoice slower than the shop waits (the
shopper gets a clear retry, nothing is charged, and SEQR holds no invoice for that attempt), and
the shop does not read a payment inside SEQR's commit window (SEQR reverses it, the order is not
paid). Each is checked on the shop's page and on SEQR's own invoice list."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from e2e.pages.order import OrderPage
from e2e.seqr_steps import check_out_with_seqr, invoice_at_seqr, invoice_reference, open_app, pay_in_app, set_scenarios
from e2e.steps import add_to_cart, back_office, order_number, place_order
from e2e.store import sandbox_page

pytestmark = [pytest.mark.own_store, pytest.mark.destructive]  # its settings; SEQR's scenarios and clock
# The shop waits 3 s for a SOAP answer (10 s by default), and reads a SEQR payment without news after
# 12 s (5 s by default), which leaves a journey time to end SEQR's commit window before the shop reads.
SERVER_ENV = {"SEQR_HTTP_TIMEOUT": "3", "SEQR_READ_BACK_AFTER_SECONDS": "12"}
SLOW_SECONDS = 6  # SEQR's answer to sendInvoice comes this late: after the shop gave up


@pytest.fixture
def control(new_context) -> Iterator[Page]:
    """SEQR's control page, in a browser of its own; SEQR is put back to normal after."""
    control = new_context().new_page()
    yield control
    set_scenarios(control, soap="normal", notification="deliver")


def invoices_for(control: Page, number: str):
    """SEQR's invoices whose title names the order ("Cartwheel order CW…")."""
    control.goto(sandbox_page("seqr/"))
    return control.locator("tr[data-reference]", has=control.get_by_role("cell", name=re.compile(rf"order {number}$")))


def test_seqr_answering_slower_than_the_shop_waits_leaves_a_retry_and_nothing_paid_at_seqr(page: Page, control: Page):
    control.goto(sandbox_page("seqr/"))
    control.get_by_label("SOAP answers", exact=True).select_option("slow")
    control.get_by_label("SOAP answers slow by, seconds").fill(str(SLOW_SECONDS))
    control.get_by_role("button", name="Save scenarios").click()
    expect(control.get_by_label("SOAP answers", exact=True)).to_have_value("slow")
    expect(control.get_by_label("SOAP answers slow by, seconds")).to_have_value(re.compile(rf"^{SLOW_SECONDS}(\.0)?$"))
    add_to_cart(page, "NOTEBOOK-A5")
    placed_at = time.monotonic()
    place_order(page, re.compile(r"\bSEQR\b"))
    expect(page.get_by_role("heading", name="Payment failed")).to_be_visible(timeout=20_000)
    expect(page.locator("#payment")).to_contain_text("SEQR cannot be reached right now. Please try again in a moment.")
    expect(page.get_by_role("button", name=re.compile(r"^Pay €"))).to_be_visible()
    expect(page.locator("#receipt")).to_have_count(0)  # nothing charged
    number = order_number(page)
    # SEQR's late answer comes SLOW_SECONDS after the order was placed: past that, its list holds
    # nothing for the order (no invoice, so nothing a payer could pay). No condition to wait on
    # shows an answer that went nowhere, hence the wait until it is due.
    due = placed_at + SLOW_SECONDS + 1 - time.monotonic()
    if due > 0:
        control.wait_for_timeout(due * 1000)
    expect(invoices_for(control, number)).to_have_count(0)
    # SEQR answers in time again: the same order, retried from its page, is paid in the app.
    set_scenarios(control, soap="normal")
    page.get_by_label(re.compile(r"\bSEQR\b")).check()
    page.get_by_role("button", name=re.compile(r"^Pay €")).click()
    expect(page.get_by_role("heading", name=re.compile("Waiting for your payment"))).to_be_visible()
    assert order_number(page) == number
    reference = invoice_reference(page)
    pay_in_app(open_app(page))
    OrderPage(page).expect_paid(timeout=20_000)
    paid = invoices_for(control, number)
    expect(paid).to_have_count(1)  # the retry's invoice only
    expect(paid).to_have_attribute("data-reference", reference)
    expect(paid.locator("td.status")).to_have_text("PAID")


def test_a_payment_the_shop_does_not_read_in_time_is_reversed_at_seqr_and_the_order_is_not_paid(
        page: Page, control: Page, new_context):
    set_scenarios(control, notification="lost")  # the shop hears nothing: only its read-back could commit
    number = check_out_with_seqr(page, "PEN-BLUE")
    reference = invoice_reference(page)
    order = OrderPage(page)
    order.watch_for_reloads()
    row, _ = invoice_at_seqr(control, reference)
    row.get_by_role("button", name="Payer pays").click()
    row, _ = invoice_at_seqr(control, reference)
    expect(row.locator("td.status")).to_have_text("PAID")
    # Before the shop's read-back comes (12 s here), SEQR's commit window runs out.
    row.get_by_role("button", name="End commit window").click()
    row, history = invoice_at_seqr(control, reference)
    expect(row.locator("td.status")).to_have_text("CANCELED")
    expect(history).to_contain_text("CANCELED: not read by the merchant in time: payment reversed")
    sms = control.locator(".card", has=control.get_by_role("heading", name="SMS to payers"))
    expect(sms).to_contain_text("was reversed because the shop did not confirm it. No money was taken.")
    # The shop's read-back finds the payment reversed: the order page says so by itself, unpaid.
    order.expect_ended("Payment cancelled", timeout=25_000)
    expect(page.locator("#payment")).to_contain_text("reversed unread")
    order.assert_not_reloaded()
    expect(page.locator("#receipt")).to_have_count(0)
    expect(page.get_by_role("button", name=re.compile(r"^Pay €"))).to_be_visible()  # the shopper may pay again
    merchant = new_context().new_page()
    back_office(merchant).open_order(number)
    expect(merchant.locator("#order-status")).not_to_have_text("paid")
    expect(merchant.locator(".payment").first).to_contain_text("cancelled")

"""SEQR, pay by phone: the shop's order page and the SEQR app (the sandbox's) in two pages of
one browser. The order page turns paid by itself, over the websocket or, when that is blocked,
by polling; on a phone the SEQR: link opens the app and the app's backURL brings the shopper to
the receipt; a lost notification is read by the reconciler before SEQR's 20 s run out; the
merchant cancels a waiting invoice (cancelled at SEQR too), refunds part of a payment and closes
the day with a report."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from playwright.sync_api import Page, expect

from e2e.seqr_steps import (
    check_out_with_seqr,
    invoice_at_seqr,
    invoice_paid_with,
    invoice_reference,
    notification_at_seqr,
    open_app,
    pay_by_scanning,
    pay_in_app,
    set_scenarios,
)
from e2e.steps import merchant_cancels_live, open_admin_order, order_number, say_yes, shot
from e2e.store import sandbox_page


def test_desktop_qr_payment_turns_the_page_paid_over_the_websocket(page: Page):
    pay_by_scanning(page, name="desktop")
    assert page.locator("#payment").get_attribute("data-channel") == "socket"


def test_with_the_websocket_blocked_the_page_polls_and_still_turns_paid(page: Page):
    page.route_web_socket(re.compile(r".*/ws(\?.*)?$"), lambda ws: ws.close())
    pay_by_scanning(page, name="polling")
    assert page.locator("#payment").get_attribute("data-channel") == "poll"


def test_on_a_phone_the_seqr_link_opens_the_app_and_the_back_url_shows_the_receipt(phone):
    page = phone.new_page()
    check_out_with_seqr(page, "TEA-SENCHA")
    expect(page.locator(".qr")).to_be_hidden()  # a phone cannot scan its own screen
    button = page.get_by_role("link", name="Pay with SEQR")
    expect(button).to_be_visible()
    link = button.get_attribute("href")
    assert re.fullmatch(r"SEQR://SEQR\.SE/R\d{17}", link), link
    shot(page, "phone-1-waiting")
    # The phone hands the SEQR: link to the SEQR app; here the sandbox's app plays it.
    app = phone.new_page()
    app.goto(sandbox_page(f"seqr/app?code={quote(link, safe='')}"))
    expect(app.get_by_role("heading", name=re.compile(r"Cartwheel order CW"))).to_be_visible()
    receipt = pay_in_app(app)
    shot(app, "phone-2-app-paid")
    app.get_by_role("link", name="OK, back to the shop").click()  # the app opens the backURL
    expect(app.get_by_role("heading", name=re.compile(r"^Order CW"))).to_be_visible()
    expect(app.locator("#receipt")).to_contain_text("Paid — thank you!")
    expect(app.locator("#receipt")).to_contain_text(receipt)
    shot(app, "phone-3-receipt")
    expect(page.locator("#receipt")).to_contain_text("Paid — thank you!", timeout=10_000)


@pytest.mark.destructive  # it switches the SEQR sandbox to lose notifications
def test_a_lost_notification_is_read_by_the_shop_before_seqr_would_reverse_it(page: Page, new_context):
    control = new_context().new_page()
    set_scenarios(control, notification="lost")
    try:
        check_out_with_seqr(page, "PEN-BLUE")
        reference = invoice_reference(page)
        pay_in_app(open_app(page))
        # No notification comes: the reconciler reads the payment after 5 s, inside the 20 s.
        expect(page.locator("#receipt")).to_contain_text("Paid — thank you!", timeout=15_000)
        # SEQR's side of this very invoice: its notification was lost, and the shop read PAID in time.
        row, history = invoice_at_seqr(control, reference)
        expect(notification_at_seqr(control, reference)).to_contain_text("lost")
        expect(row.locator("td.status")).to_have_text("PAID")
        expect(history).to_contain_text("committed: the merchant read PAID")
        shot(control, "lost-notification-control")
    finally:
        set_scenarios(control, notification="deliver")


def test_the_merchant_cancels_a_waiting_invoice(page: Page, new_context):
    number = check_out_with_seqr(page, "PEN-CASE")
    reference = invoice_reference(page)
    merchant = merchant_cancels_live(page, new_context, number)
    # At SEQR the invoice is cancelled by the merchant; the payer's app no longer offers to pay it.
    row, history = invoice_at_seqr(merchant, reference)
    expect(row.locator("td.status")).to_have_text("CANCELED")
    expect(history).to_contain_text("CANCELED: cancelled by the merchant")
    app = new_context().new_page()
    app.goto(sandbox_page(f"seqr/app/invoice/{reference}"))
    expect(app.get_by_text("This invoice is CANCELED.")).to_be_visible()
    expect(app.get_by_role("link", name="Confirm")).to_have_count(0)


def test_the_merchant_refunds_part_then_the_rest(page: Page, new_context):
    number, receipt = pay_by_scanning(page, name="refund")
    merchant = new_context().new_page()
    open_admin_order(merchant, number)
    expect(merchant.locator("#order-status")).to_have_text("paid")
    refund = merchant.locator("form[action$='/refund']")
    refund.get_by_label("Refund").fill("99.00")
    say_yes(merchant)
    refund.get_by_role("button", name="Refund").click()
    expect(merchant.get_by_text(re.compile("At most €"))).to_be_visible()  # refused before SEQR is asked
    refund = merchant.locator("form[action$='/refund']")
    refund.get_by_label("Refund").fill("5.00")
    refund.get_by_placeholder("reason").fill("scuffed cover")
    say_yes(merchant)
    refund.get_by_role("button", name="Refund").click()
    expect(merchant.locator(".payment")).to_contain_text("refunded €5.00")
    expect(merchant.locator("#order-status")).to_have_text("paid")
    expect(merchant.locator(".timeline")).to_contain_text("refundPayment")
    shot(merchant, "refund-1-partial")
    refund = merchant.locator("form[action$='/refund']")
    left = refund.get_by_label("Refund").input_value()
    say_yes(merchant)
    refund.get_by_role("button", name="Refund").click()  # the rest, as offered
    expect(merchant.locator("#order-status")).to_have_text("refunded")
    expect(merchant.locator(".payment")).to_contain_text(f"refunded €{float(left) + 5:.2f}")
    shot(merchant, "refund-2-full")
    # SEQR's own view of the payment: both refunds recorded against this invoice, the whole total back.
    row, history = invoice_paid_with(new_context().new_page(), receipt)
    expect(history).to_contain_text(re.compile(r"refunded 5(\.0+)? EUR .*refunded [\d.]+ EUR"))
    expect(row.locator("td").nth(7)).to_have_text(f"{float(left) + 5:.2f}")  # the Refunded column


@pytest.mark.destructive  # it closes the terminal's period at SEQR
def test_end_of_day_and_a_report(page: Page, new_context):
    _, receipt = pay_by_scanning(page, name="report")
    merchant = new_context().new_page()
    open_admin_order(merchant, order_number(page))
    merchant.get_by_role("link", name="SEQR end of day").click()
    expect(merchant.get_by_role("heading", name="SEQR end of day")).to_be_visible()
    merchant.get_by_role("button", name="Close the period").click()
    expect(merchant.get_by_text(re.compile(r"Period \d+ closed at SEQR"))).to_be_visible()
    merchant.get_by_label("Report").select_option(label="STD_RECON_003.xml")
    merchant.get_by_role("button", name="Run report").click()  # SEQR needs a few seconds: the page waits
    expect(merchant.locator("#seqr-report")).to_contain_text(receipt, timeout=30_000)
    shot(merchant, "report")

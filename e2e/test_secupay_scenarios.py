"""secupay beyond the card form: PayPal approved, declined or left on PayPal's own page; a push
secupay sends again for a payment the shop already has; a refund made in secupay's own back office
(secuOffice), its push sent again; a waiting payment secupay fails; 3-D Secure cancelled and
another choice made on secupay's page. Checked on the shop's pages and
on secupay's own view of the transaction (the sandbox's control page)."""

from __future__ import annotations

import re
import time

from playwright.sync_api import Locator, Page, expect

from e2e.pages.order import OrderPage
from e2e.secupay_steps import (
    CARD_3DS,
    CARD_OK,
    back_to_the_shop,
    check_out_with_secupay,
    expect_paid,
    paid_by_card,
    pay_by_card,
    pushes_of,
)
from e2e.steps import back_office, open_admin_order, order_number
from e2e.store import sandbox_page

METHOD, STATUS = 3, 4  # columns of secupay's transaction table


def transaction_at_secupay(control: Page, number: str) -> Locator:
    """secupay's own row for the transaction of one order (its merchant reference)."""
    control.goto(sandbox_page("secupay/"))
    row = control.locator("tr", has=control.get_by_role("cell", name=number, exact=True))
    expect(row).to_have_count(1)
    return row


def test_paypal_approved_on_paypals_page(page: Page, new_context):
    check_out_with_secupay(page, "PayPal")
    page.get_by_role("button", name="Continue to PayPal").click()
    expect(page.get_by_role("heading", name="PayPal")).to_be_visible()
    page.get_by_role("button", name="Pay now").click()
    back_to_the_shop(page, "Payment successful")
    expect_paid(page)
    row = transaction_at_secupay(new_context().new_page(), order_number(page))
    expect(row.locator("td").nth(METHOD)).to_have_text("paypal")


def continue_to_paypal(page: Page) -> None:
    check_out_with_secupay(page, "PayPal")
    page.get_by_role("button", name="Continue to PayPal").click()
    expect(page.get_by_role("heading", name="PayPal")).to_be_visible()


def test_paypal_declining_sends_the_shopper_back_to_pay_again_and_secupay_shows_it_failed(page: Page, new_context):
    continue_to_paypal(page)
    page.get_by_role("button", name="Payment declined by PayPal").click()
    # secupay sends the shopper to the shop's error URL: the order page, with a way to pay again.
    expect(page.get_by_role("heading", name="Payment failed")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile(r"^Pay €"))).to_be_visible()
    expect(page.locator("#receipt")).to_have_count(0)
    row = transaction_at_secupay(new_context().new_page(), order_number(page))
    expect(row.locator("td").nth(STATUS)).to_have_text("failed")
    expect(row.get_by_role("button", name="cancel")).to_have_count(0)  # closed at secupay: nothing left to pay


def test_leaving_paypal_returns_to_secupays_page_where_the_shopper_pays_by_card(page: Page, new_context):
    continue_to_paypal(page)
    page.get_by_role("button", name="Cancel and return").click()
    # Back on secupay's page (not the shop's), told why, free to choose another way to pay.
    expect(page).to_have_url(re.compile(r"/sandbox/secupay/checkout"))
    expect(page.get_by_text("You cancelled the payment at PayPal.")).to_be_visible()
    page.get_by_role("link", name="Credit card").click()
    pay_by_card(page, CARD_OK)
    back_to_the_shop(page, "Payment successful")
    expect_paid(page)
    row = transaction_at_secupay(new_context().new_page(), order_number(page))
    expect(row.locator("td").nth(METHOD)).to_have_text("creditcard")  # PayPal took nothing


def test_a_push_sent_again_for_a_paid_order_changes_nothing(page: Page, new_context):
    number = paid_by_card(page)
    control = new_context().new_page()
    row = transaction_at_secupay(control, number)
    pushes = pushes_of(control, row)
    before = pushes.count()
    row.get_by_role("button", name="push again").click()
    # secupay sends in the background: the control page (newest push first), reloaded until it has left.
    deadline = time.monotonic() + 10
    while (pushes.count() <= before or "delivered" not in pushes.first.inner_text()) and time.monotonic() < deadline:
        control.wait_for_timeout(200)
        control.reload()
    expect(pushes.first).to_contain_text("delivered")
    merchant = new_context().new_page()
    back_office(merchant).open_order(number)
    expect(merchant.locator("#order-status")).to_have_text("paid")
    expect(merchant.locator(".payment")).to_have_count(1)


def test_a_refund_made_in_secupays_back_office_reaches_the_shop_once(page: Page, new_context):
    number = paid_by_card(page, sku="LAMP-DESK")
    control = new_context().new_page()
    row = transaction_at_secupay(control, number)
    row.get_by_label("amount to refund or cancel").fill("5.00")
    row.get_by_role("button", name="refund (secuOffice)").click()
    expect(control.get_by_text("refunded in the back office.")).to_be_visible()
    expect(transaction_at_secupay(control, number)).to_contain_text("reduced 5.00")
    # secupay pushes the change; the shop reads it and records the refund it did not make.
    merchant = new_context().new_page()
    open_admin_order(merchant, number)
    payment = merchant.locator(".payment")
    deadline = time.monotonic() + 15
    while "refunded €5.00" not in payment.inner_text() and time.monotonic() < deadline:
        merchant.wait_for_timeout(300)
        merchant.reload()
    expect(payment).to_contain_text("refunded €5.00")
    expect(merchant.locator("#order-status")).to_have_text("paid")  # part of it: still paid
    # The same push again, from secupay's Pushes list: the refund is not booked twice.
    pushes = pushes_of(control, transaction_at_secupay(control, number))
    expect(pushes.first).to_contain_text("delivered")  # the refund's push, the newest
    pushes.first.get_by_role("button", name="send again").click()
    expect(control.get_by_text("Push sent again.")).to_be_visible()
    deadline = time.monotonic() + 10  # secupay sends in the background: reload until it has answered
    while "200, 200" not in pushes.first.inner_text() and time.monotonic() < deadline:
        control.wait_for_timeout(200)
        control.reload()
    expect(pushes.first).to_contain_text("200, 200")  # delivered twice, the shop answering both
    merchant.reload()
    expect(merchant.locator(".payment")).to_contain_text("refunded €5.00")
    expect(merchant.locator(".payment")).not_to_contain_text("refunded €10.00")


def test_secupay_failing_a_waiting_prepayment_reaches_the_order_page_live(page: Page, new_context):
    check_out_with_secupay(page, r"Prepayment \(bank transfer\)", sku="PEN-CASE")
    page.get_by_role("button", name="Pay now").click()
    back_to_the_shop(page, "Please transfer the amount")
    expect(page.get_by_role("heading", name=re.compile("Waiting for your transfer"))).to_be_visible()
    order = OrderPage(page)
    order.watch_for_reloads()
    control = new_context().new_page()
    row = transaction_at_secupay(control, order.number)
    row.get_by_role("button", name="fail").click()
    expect(control.get_by_text("fail done.")).to_be_visible()
    order.expect_ended("Payment failed", timeout=20_000)
    order.assert_not_reloaded()
    expect(page.locator(".instructions")).to_have_count(0)  # no transfer asked for any more
    row = transaction_at_secupay(control, order.number)
    expect(row.locator("td").nth(STATUS)).to_have_text("failed")
    expect(row.get_by_role("button", name="transfer received")).to_have_count(0)


def test_the_shopper_cancels_3d_secure_then_chooses_again_and_pays(page: Page, new_context):
    check_out_with_secupay(page)  # secupay's own page, to choose how to pay
    expect(page.get_by_role("heading", name="Choose how to pay")).to_be_visible()
    page.get_by_role("link", name="Credit card").click()
    pay_by_card(page, CARD_3DS)
    expect(page.get_by_role("heading", name="3-D Secure")).to_be_visible()
    page.get_by_role("button", name="Cancel").click()
    # Back on the card form, told why; nothing was paid.
    expect(page.get_by_text("The 3-D Secure check failed.")).to_be_visible()
    expect(page.get_by_role("heading", name="Credit card")).to_be_visible()
    page.get_by_role("link", name="Choose another payment method").click()
    expect(page.get_by_role("heading", name="Choose how to pay")).to_be_visible()
    page.get_by_role("link", name="Credit card").click()
    pay_by_card(page, CARD_OK)
    back_to_the_shop(page, "Payment successful")
    expect_paid(page)
    row = transaction_at_secupay(new_context().new_page(), order_number(page))  # one transaction, paid by card
    expect(row.locator("td").nth(METHOD)).to_have_text("creditcard")
    expect(row.locator("td").nth(STATUS)).to_have_text("ok")

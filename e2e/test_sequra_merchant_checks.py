"""SeQura in the back office when the merchant does not want to wait: "Check again with SeQura"
finishes a sale whose confirmation got no answer, without waiting for the shop's own retry; and
"Send the delivery report now" reports the day's shipments to SeQura at once."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from e2e.pages.order import OrderPage
from e2e.steps import add_to_cart, back_office
from e2e.test_sequra_checkout import check_out_with_sequra, identify
from e2e.test_sequra_decisions import order_at_sequra
from e2e.test_sequra_faults import scenario

pytestmark = [pytest.mark.own_store, pytest.mark.destructive]  # its settings; SeQura's scenario
# The shop waits 3 s for SeQura's answer (15 s by default), and its reconciler wakes only every 5
# minutes here (once at the start): the shop's own retry of the confirmation (due 10 s after it
# failed) does not come inside a journey, so what finishes the sale is the merchant's button.
SERVER_ENV = {"SEQURA_TIMEOUT": "3", "RECONCILE_EVERY_SECONDS": "300", "RECONCILE_AFTER_SECONDS": "600",
              "SEQR_READ_BACK_AFTER_SECONDS": "600"}


def test_check_again_with_sequra_finishes_a_sale_whose_confirmation_got_no_answer(page: Page, new_context):
    sales = new_context().new_page()
    scenario(sales, confirm_answer_delay="6")  # SeQura confirms, its answer outlasts the shop's 3 s
    try:
        add_to_cart(page, "PEN-CASE")
        check_out_with_sequra(page, "Pay later")
        order = OrderPage(page)
        number = order.number
        identify(page)
        expect(page.locator("#payment-panel")).to_contain_text("SeQura has approved your order.", timeout=20_000)
        order.watch_for_reloads()
    finally:
        scenario(sales)  # SeQura answers in time again
    merchant = new_context().new_page()
    office = back_office(merchant).open_order(number)
    expect(office.status()).not_to_have_text("paid")
    merchant.get_by_role("button", name="Check again with SeQura").click()
    expect(office.status()).to_have_text("paid", timeout=15_000)
    expect(merchant.get_by_role("button", name="Check again with SeQura")).to_have_count(0)
    order.expect_paid(timeout=20_000, by="SeQura")
    order.assert_not_reloaded()
    expect(order_at_sequra(sales, number)).to_contain_text("confirmed")


def test_the_delivery_report_is_sent_now_from_the_back_office(page: Page, new_context):
    merchant = new_context().new_page()
    back_office(merchant).log_in()
    merchant.get_by_role("link", name="SeQura delivery report").click()
    expect(merchant.get_by_role("heading", name="SeQura delivery report")).to_be_visible()
    merchant.get_by_role("button", name="Send the delivery report now").click()
    expect(merchant.locator("#report-sent")).to_have_text(
        re.compile(r"Sent to SeQura: \d+ shipped SeQura order\(s\), statistics of \d+ order\(s\)\."))

"""secupay's scenario families a sales person switches on its control page: the payment rejected,
the payment held for review and then accepted by secupay's back office. Each is checked on the
shop's pages and on secupay's own view of the transaction (the sandbox's control page)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from e2e.pages.order import OrderPage
from e2e.secupay_steps import CARD_OK, check_out_with_secupay, pay_by_card
from e2e.steps import back_office, order_number
from e2e.store import sandbox_page
from e2e.test_secupay_scenarios import STATUS, transaction_at_secupay

pytestmark = pytest.mark.destructive  # they switch secupay's payment outcome for everyone

LIVE = 20_000  # live updates on a busy 2-core machine


@pytest.fixture
def control(new_context) -> Iterator[Page]:
    """secupay's control page, in a browser of its own; the outcome is put back to normal after."""
    control = new_context().new_page()
    yield control
    set_outcome(control, "normal")


def set_outcome(control: Page, outcome: str) -> None:
    control.goto(sandbox_page("secupay/"))
    control.locator("select[name=outcome]").select_option(outcome)
    control.get_by_role("button", name="Save scenarios").click()
    expect(control.get_by_text("Scenarios saved.")).to_be_visible()


def test_a_rejected_payment_sends_the_shopper_back_to_pay_again(page: Page, control: Page):
    set_outcome(control, "reject")
    check_out_with_secupay(page, "Credit card")
    pay_by_card(page, CARD_OK)  # a good card: secupay's risk check rejects the payment anyway
    expect(page.get_by_role("heading", name="Payment failed")).to_be_visible()
    expect(page.locator("#payment")).to_contain_text("No money was taken")
    expect(page.get_by_role("button", name=re.compile(r"^Pay €"))).to_be_visible()  # the shopper may try again
    number = order_number(page)
    row = transaction_at_secupay(control, number)
    expect(row.locator("td").nth(STATUS)).to_have_text("failed")
    expect(row.get_by_role("button", name="chargeback")).to_have_count(0)  # nothing was taken to charge back


def test_a_payment_under_review_turns_paid_live_when_secupay_accepts_it(page: Page, control: Page, new_context):
    set_outcome(control, "review")
    check_out_with_secupay(page, "Credit card")
    pay_by_card(page, CARD_OK)
    expect(page.get_by_role("heading", name="Your payment is being checked")).to_be_visible()
    page.get_by_role("link", name="Back to the shop").click()
    order = OrderPage(page)
    number = order.number
    expect(page.get_by_role("heading", name="Payment in progress")).to_be_visible()
    expect(page.locator("#payment")).to_contain_text("secupay is still checking the payment")  # not paid yet
    order.watch_for_reloads()
    row = transaction_at_secupay(control, number)
    expect(row.locator("td").nth(STATUS)).to_have_text("pending")
    row.get_by_role("button", name="accept after review").click()
    expect(control.get_by_text("accept after review done")).to_be_visible()
    order.expect_paid(timeout=LIVE)
    order.assert_not_reloaded()
    expect(transaction_at_secupay(control, number).locator("td").nth(STATUS)).to_have_text("ok")
    merchant = new_context().new_page()
    back_office(merchant).open_order(number)
    expect(merchant.locator("#order-status")).to_have_text("paid")

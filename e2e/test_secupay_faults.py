"""secupay's scenario families a sales person switches on its control page: the payment rejected,
the payment held for review and then accepted by secupay's back office, pushes lost, every OAuth
token expired (refused with 403 or 401), secupay's API failing, a chargeback on a paid order. Each is checked on the shop's pages and on secupay's
own view of the transaction (the sandbox's control page)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from e2e.pages.checkout import CheckoutPage
from e2e.pages.order import OrderPage
from e2e.pages.secupay_hosted import SecupayHostedPage
from e2e.secupay_steps import (
    CARD_OK,
    back_to_the_shop,
    check_out_with_secupay,
    expect_paid,
    paid_by_card,
    pay_by_card,
    pushes_of,
)
from e2e.steps import add_to_cart, back_office, order_number
from e2e.store import sandbox_page
from e2e.test_secupay_scenarios import STATUS, transaction_at_secupay

pytestmark = pytest.mark.destructive  # they switch secupay's scenarios (or expire its tokens) for everyone

LIVE = 20_000  # live updates on a busy 2-core machine


@pytest.fixture
def control(new_context) -> Iterator[Page]:
    """secupay's control page, in a browser of its own; its scenarios are put back to normal after."""
    control = new_context().new_page()
    yield control
    set_scenarios(control, outcome="normal", push="normal", api="normal", token_refusal="403")


def set_scenarios(control: Page, **choices: str) -> None:
    """secupay's scenario form: ``set_scenarios(control, push="lost")``."""
    control.goto(sandbox_page("secupay/"))
    for name, value in choices.items():
        control.locator(f"select[name={name}]").select_option(value)
    control.get_by_role("button", name="Save scenarios").click()
    expect(control.get_by_text("Scenarios saved.")).to_be_visible()


def set_outcome(control: Page, outcome: str) -> None:
    set_scenarios(control, outcome=outcome)


def token_requests(control: Page) -> int:
    control.goto(sandbox_page("secupay/"))
    text = control.get_by_text(re.compile(r"Token requests so far: \d+")).inner_text()
    return int(re.search(r"Token requests so far: (\d+)", text).group(1))


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


def test_with_every_push_lost_the_return_to_the_shop_still_ends_paid(page: Page, control: Page):
    set_scenarios(control, push="lost")
    number = paid_by_card(page)  # the shop reads the transaction back on the return URL
    pushes = pushes_of(control, transaction_at_secupay(control, number))
    expect(pushes.first).to_be_visible()
    for i in range(pushes.count()):
        expect(pushes.nth(i)).to_contain_text("lost")  # secupay never told the shop
    expect(transaction_at_secupay(control, number).locator("td").nth(STATUS)).to_have_text("ok")


@pytest.mark.parametrize("refusal", ["403", "401"])  # how secupay answers an expired token: both are understood
def test_after_secupay_expires_every_token_the_shop_takes_a_new_one_and_the_checkout_works(
        page: Page, control: Page, new_context, refusal):
    set_scenarios(control, token_refusal=refusal)
    paid_by_card(page)  # the shop holds a token now
    before = token_requests(control)
    control.get_by_role("button", name="Expire all tokens").click()
    shopper = new_context().new_page()
    number = paid_by_card(shopper)
    assert token_requests(control) > before, "the shop kept using an expired token"
    expect(transaction_at_secupay(control, number).locator("td").nth(STATUS)).to_have_text("ok")


def test_a_chargeback_on_a_paid_order_shows_in_the_back_office(page: Page, control: Page, new_context):
    number = paid_by_card(page)
    row = transaction_at_secupay(control, number)
    row.get_by_role("button", name="chargeback").click()
    expect(control.get_by_text("chargeback done")).to_be_visible()
    # secupay pushes the issue in the background: the merchant's order page, reloaded until it says so.
    merchant = new_context().new_page()
    back_office(merchant).open_order(number)
    issue = merchant.get_by_text("(the bank reports an issue)").first
    deadline = time.monotonic() + LIVE / 1000
    while not issue.is_visible() and time.monotonic() < deadline:
        merchant.wait_for_timeout(250)
        merchant.reload()
    expect(issue).to_be_visible()
    expect(merchant.locator("#order-status")).to_have_text("paid")  # the money stays, the merchant must look
    expect(pushes_of(control, transaction_at_secupay(control, number)).first).to_contain_text("delivered")


def test_with_secupays_api_failing_the_shopper_gets_a_retry_and_secupay_no_transaction(page: Page, control: Page):
    control.goto(sandbox_page("secupay/"))
    transactions = control.locator(".card", has=control.get_by_role("heading", name="Smart Transactions")).locator(
        "tr:has(td code)")
    before = transactions.count()
    set_scenarios(control, api="error")
    add_to_cart(page, "NOTEBOOK-A5")
    # secupay's general page: offered whether or not the shop knows the contract's methods yet.
    general = page.locator("input[name=method][value='secupay:general']")
    CheckoutPage(page).open().fill_details()
    general.check()
    CheckoutPage(page).place_order()
    expect(page.get_by_role("heading", name="Payment failed")).to_be_visible()
    expect(page.locator("#payment")).to_contain_text("secupay cannot be reached right now. Please try again in a moment.")
    expect(page.locator("#receipt")).to_have_count(0)
    control.goto(sandbox_page("secupay/"))
    expect(transactions).to_have_count(before)  # secupay never made one
    # secupay answers again: the same order, retried from its page, is paid.
    set_scenarios(control, api="normal")
    number = order_number(page)
    general.check()
    page.get_by_role("button", name=re.compile(r"^Pay €")).click()
    SecupayHostedPage(page).expect_open()
    page.get_by_role("link", name="Credit card").click()
    pay_by_card(page, CARD_OK)
    back_to_the_shop(page, "Payment successful")
    expect_paid(page)
    assert order_number(page) == number
    expect(transaction_at_secupay(control, number).locator("td").nth(STATUS)).to_have_text("ok")

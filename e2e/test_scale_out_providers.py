"""Scaled out as the README says: `shop serve --workers 2` on PostgreSQL + Redis, with the sandbox
process beside it. Each provider's real path is paid through its sandbox — secupay's hosted page,
SEQR's app over SOAP, SeQura's form, the bank's online banking — whichever worker answers each
request, and each order page turns paid without a reload."""

import re

import pytest
from playwright.sync_api import Page, expect

from e2e.conftest import start_keeping_the_log
from e2e.secupay_steps import CARD_OK, back_to_the_shop, check_out_with_secupay, pay_by_card
from e2e.seqr_steps import check_out_with_seqr, open_app, pay_in_app
from e2e.steps import add_to_cart, place_order
from e2e.test_sequra_checkout import check_out_with_sequra, identify, returned_to_the_shop
from shop.testing.server import ServerProcess

pytestmark = [pytest.mark.slow, pytest.mark.own_store]  # it starts PostgreSQL, Redis and its stores


@pytest.fixture(scope="module")
def server(tmp_path_factory, backing_services, pytestconfig):
    postgres, redis = backing_services
    process = ServerProcess(tmp_path_factory.mktemp("workers"), {"DATABASE_URL": postgres.url,
                                                                  "REDIS_URL": redis.url}, workers=2)
    yield start_keeping_the_log(pytestconfig, process)
    process.stop()


def expect_paid_live(page: Page) -> None:
    expect(page.locator("#receipt")).to_contain_text("Paid — thank you!", timeout=15_000)
    assert page.evaluate("window.__sameDocument") is True, "the page reloaded instead of updating live"


def test_secupay_hosted_page(page: Page):
    for _ in range(3):  # several checkouts, so that the two workers both create and read transactions
        check_out_with_secupay(page, "Credit card")
        pay_by_card(page, CARD_OK)
        back_to_the_shop(page, "Payment successful")
        expect(page.locator("#receipt")).to_contain_text("Paid — thank you!", timeout=15_000)


def test_seqr_app_over_soap(page: Page):
    check_out_with_seqr(page)
    page.evaluate("window.__sameDocument = true")
    pay_in_app(open_app(page))
    expect_paid_live(page)


def test_sequra_identification_form(page: Page):
    add_to_cart(page, "LAMP-DESK")
    check_out_with_sequra(page, "Pay later")
    with returned_to_the_shop(page):
        identify(page)
    page.evaluate("window.__sameDocument = true")
    expect_paid_live(page)


def test_bank_transfer_sent_from_online_banking(page: Page, new_context, server):
    add_to_cart(page, "TEA-SENCHA")
    place_order(page, "Bank transfer")
    expect(page.get_by_role("heading", name=re.compile("Waiting for your transfer"))).to_be_visible()
    page.evaluate("window.__sameDocument = true")
    table = page.locator("table.instructions")
    amount = table.locator("tr", has_text="Amount").locator("code").inner_text()
    reference = table.locator("tr", has_text="Reference").locator("code").inner_text()

    bank = new_context().new_page()
    bank.goto(server.sandbox("banktransfer/bank"))
    bank.get_by_label("Amount (EUR)").fill(re.sub(r"[^\d.,]", "", amount))
    bank.get_by_label("Reference").fill(reference)
    bank.get_by_role("button", name="Send transfer").click()
    expect(bank.get_by_role("status")).to_contain_text(f"with reference {reference}")
    # The bank's signed webhook reaches one worker; the page may hang on the other's socket.
    expect_paid_live(page)

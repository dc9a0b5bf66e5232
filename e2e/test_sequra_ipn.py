"""SeQura's IPN (its "approved" notification) from SeQura's side: lost on the way, then sent again
from SeQura's control page, twice over. The shop confirms the order once: one payment, one
confirmation e-mail, and SeQura's row for the order confirmed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from e2e.steps import add_to_cart, back_office, order_number
from e2e.store import sandbox_page
from e2e.test_sequra_checkout import check_out_with_sequra, expect_paid, identify, returned_to_the_shop, sequra_form
from e2e.test_sequra_decisions import order_at_sequra

pytestmark = pytest.mark.destructive  # it switches SeQura's IPN delivery for everyone


def set_delivery(control: Page, delivery: str) -> None:
    """SeQura's control page: what becomes of the IPNs it sends from now on."""
    control.goto(sandbox_page("sequra/"))
    control.locator(f"input[name=delivery][value={delivery}]").check()
    control.get_by_role("button", name="Save scenario").click()
    expect(control.locator(f"input[name=delivery][value={delivery}]")).to_be_checked()


@pytest.fixture
def control(new_context) -> Iterator[Page]:
    control = new_context().new_page()
    yield control
    set_delivery(control, "normal")


def ipns_for(control: Page, number: str):
    """The IPNs SeQura's control page lists as sent to the shop for one order (the shop's own
    notification parameters, echoed first in each, name it)."""
    control.goto(sandbox_page("sequra/"))
    return control.locator("h2:text-is('Callbacks sent') + table").locator("tr", has_text=f"order={number}&")


def test_an_ipn_lost_then_sent_again_twice_from_sequras_control_page_confirms_the_order_once(
        page: Page, control: Page, new_context):
    set_delivery(control, "lost")
    add_to_cart(page, "LAMP-DESK")
    check_out_with_sequra(page, "Pay later")
    number = order_number(page)
    identify(page)
    # SeQura approved and sent its IPN, which never reached the shop: the form waits (the shop's own
    # check would come only after a minute).
    expect(sequra_form(page)).to_have_attribute("data-sq-step", "wait_for_confirmation")
    control.goto(sandbox_page("sequra/"))
    newest = control.locator("tr:has(td)").first
    expect(newest).to_contain_text("approved")
    # SeQura's support sends it again, and it arrives twice (SeQura's "repeated" delivery).
    set_delivery(control, "repeated")
    control.goto(sandbox_page("sequra/"))
    with returned_to_the_shop(page):
        control.locator("tr:has(td)").first.get_by_role("button", name="re-send IPN").click()
    expect_paid(page)
    row = order_at_sequra(control, number)
    expect(row).to_contain_text("confirmed")
    expect(row.get_by_role("button", name="re-send IPN")).to_have_count(0)
    sent = ipns_for(control, number)
    expect(sent).to_have_count(2)  # both deliveries of the re-sent IPN, each answered 200
    for i in range(2):
        expect(sent.nth(i).locator("td").nth(1)).to_have_text("200")
    merchant = new_context().new_page()
    back_office(merchant).open_order(number)
    expect(merchant.locator("#order-status")).to_have_text("paid")
    expect(merchant.locator(".payment")).to_have_count(1)
    merchant.get_by_role("link", name="Outbox").click()
    expect(merchant.get_by_role("row").filter(has_text=f"Your order {number} is confirmed")).to_have_count(1)

"""SeQura's decision switched on its control page (whatever the shopper's name): rejected, or held
for review and then cancelled by SeQura's risk team on the control page. Each is checked on the
shop's pages and on SeQura's own row for the order."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from e2e.steps import add_to_cart, order_number
from e2e.store import sandbox_page
from e2e.test_sequra_checkout import (
    FORM_FRAME,
    back_to_the_checkout_rejected,
    check_out_with_sequra,
    identify,
    returned_to_the_shop,
)

pytestmark = pytest.mark.destructive  # they switch SeQura's decision for everyone

LIVE = 20_000  # live updates on a busy 2-core machine


def set_decision(control: Page, decision: str, review_delay: str = "10") -> None:
    """SeQura's control page: its decision for the next forms, and how long a review takes by itself."""
    control.goto(sandbox_page("sequra/"))
    control.locator(f"input[name=decision][value={decision}]").check()
    control.locator("input[name=review_delay]").fill(review_delay)
    control.get_by_role("button", name="Save scenario").click()
    expect(control.get_by_role("heading", name="SeQura sandbox")).to_be_visible()


@pytest.fixture
def control(new_context) -> Iterator[Page]:
    control = new_context().new_page()
    yield control
    set_decision(control, "auto")


def order_at_sequra(control: Page, number: str):
    """SeQura's own row for the shop's order (its order_ref_1 is the shop's order number)."""
    control.goto(sandbox_page("sequra/"))
    row = control.locator("tr", has=control.get_by_role("cell", name=number, exact=True))
    expect(row).to_have_count(1)
    return row


def test_sequra_rejecting_sends_the_shopper_back_and_its_order_stays_rejected(page: Page, control: Page):
    set_decision(control, "reject")
    add_to_cart(page, "TEA-SENCHA")
    check_out_with_sequra(page, "Pay later")
    number = order_number(page)
    identify(page)  # a name SeQura's own test data would approve: the switch decides
    back_to_the_checkout_rejected(page)
    # A rejected order never gets the shop's order number at SeQura: it is SeQura's newest order.
    control.goto(sandbox_page("sequra/"))
    newest = control.locator("tr:has(td)").first
    expect(newest).to_contain_text("rejected")
    expect(newest).not_to_contain_text(number)


def test_a_review_cancelled_on_sequras_control_page_reaches_the_order_page_live(page: Page, control: Page):
    set_decision(control, "review_approve", review_delay="120")  # left alone, the review would pass
    add_to_cart(page, "PEN-CASE")
    check_out_with_sequra(page, "Pay later")
    with returned_to_the_shop(page):
        identify(page)
    page.evaluate("window.__sameDocument = true")
    expect(page.locator("#payment-panel")).to_contain_text("SeQura is reviewing your order", timeout=LIVE)
    expect(page.locator(FORM_FRAME)).to_have_count(0)
    number = order_number(page)
    row = order_at_sequra(control, number)
    expect(row).to_contain_text("on_hold")
    row.get_by_role("button", name="cancel review").click()
    expect(page.get_by_role("heading", name=re.compile("Payment (cancelled|failed)"))).to_be_visible(timeout=LIVE)
    expect(page.locator("#receipt")).to_have_count(0)
    assert page.evaluate("window.__sameDocument") is True, "the page reloaded instead of updating live"
    expect(order_at_sequra(control, number)).to_contain_text("cancelled")

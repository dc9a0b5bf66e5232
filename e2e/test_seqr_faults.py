"""SEQR's SOAP service misbehaving when the shop sends the invoice (busy, a SOAP fault): the
shopper reads a clear sentence and a form to try again, nothing is charged, and SEQR's own
invoice list holds no invoice for the order. Then, SEQR working again, the retry pays."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from e2e.seqr_steps import invoice_at_seqr, invoice_reference, open_app, pay_in_app, set_scenarios
from e2e.steps import add_to_cart, order_number, place_order
from e2e.store import sandbox_page

pytestmark = pytest.mark.destructive  # they switch SEQR's SOAP answers for everyone


@pytest.fixture
def control(new_context) -> Iterator[Page]:
    """SEQR's control page, in a browser of its own; SOAP answers are put back to normal after."""
    control = new_context().new_page()
    yield control
    set_scenarios(control, soap="normal")


@pytest.mark.parametrize("answer", ["busy", "fault"])
def test_seqr_failing_on_send_invoice_leaves_a_retry_form_and_nothing_at_seqr(page: Page, control: Page, answer):
    set_scenarios(control, soap=answer)
    control.goto(sandbox_page("seqr/"))
    invoices_before = control.locator("tr[data-reference]").count()
    add_to_cart(page, "NOTEBOOK-A5")
    place_order(page, re.compile(r"\bSEQR\b"))
    expect(page.get_by_role("heading", name="Payment failed")).to_be_visible()
    expect(page.locator("#payment")).to_contain_text("SEQR cannot be reached right now. Please try again in a moment.")
    retry = page.get_by_role("button", name=re.compile(r"^Pay €"))
    expect(retry).to_be_visible()
    expect(page.locator("#receipt")).to_have_count(0)  # nothing charged
    number = order_number(page)
    control.goto(sandbox_page("seqr/"))
    expect(control.locator("tr[data-reference]")).to_have_count(invoices_before)  # SEQR never took one
    # SEQR answers again: the same order, retried from its page, is paid in the app.
    set_scenarios(control, soap="normal")
    page.get_by_label(re.compile(r"\bSEQR\b")).check()
    retry.click()
    expect(page.get_by_role("heading", name=re.compile("Waiting for your payment"))).to_be_visible()
    assert order_number(page) == number
    reference = invoice_reference(page)
    pay_in_app(open_app(page))
    expect(page.locator("#receipt")).to_contain_text("Paid — thank you!", timeout=20_000)
    row, _ = invoice_at_seqr(control, reference)
    expect(row).to_contain_text("PAID")

"""What a shopper does with SEQR: check out, open the (sandbox's) SEQR app, pay with the PIN."""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page, expect

from e2e.pages.order import OrderPage
from e2e.pages.seqr_app import SeqrApp
from e2e.steps import add_to_cart, order_number, place_order, shot
from e2e.store import sandbox_page


def check_out_with_seqr(page: Page, sku: str = "NOTEBOOK-A5") -> str:
    """A shopper orders ``sku`` and chooses SEQR; returns the order number."""
    add_to_cart(page, sku)
    place_order(page, re.compile(r"\bSEQR\b"))
    expect(page.get_by_role("heading", name=re.compile("Waiting for your payment"))).to_be_visible()
    return order_number(page)


def invoice_reference(page: Page) -> str:
    """The SEQR invoice an order page waits for, read from its link to the app (SEQR://SEQR.SE/R<reference>)."""
    return OrderPage(page).seqr_invoice_reference()


def set_scenarios(control: Page, **choices: str) -> None:
    """SEQR's control page, as a sales person sets what SEQR does next: ``set_scenarios(c, bank="decline")``."""
    control.goto(sandbox_page("seqr/"))
    for name, value in choices.items():
        control.locator(f"select[name={name}]").select_option(value)
    control.get_by_role("button", name="Save scenarios").click()
    for name, value in choices.items():
        expect(control.locator(f"select[name={name}]")).to_have_value(value)


def invoice_at_seqr(control: Page, reference: str) -> tuple[Locator, Locator]:
    """SEQR's own view of one invoice on its control page: its row, and the history line under it."""
    control.goto(sandbox_page("seqr/"))
    row = control.locator(f"tr[data-reference='{reference}']")
    return row, control.locator(f"tr[data-reference='{reference}'] + tr")


def invoice_paid_with(control: Page, receipt: str) -> tuple[Locator, Locator]:
    """SEQR's own view of the invoice a receipt paid: its row (the receipt is its ERS reference) and history."""
    control.goto(sandbox_page("seqr/"))
    row = control.locator("tr[data-reference]", has=control.get_by_text(receipt, exact=True))
    expect(row).to_have_count(1)
    return row, row.locator("xpath=following-sibling::tr[1]")


def notification_at_seqr(control: Page, reference: str) -> Locator:
    """The control page's record of the notification SEQR sent (or lost) for one invoice."""
    notifications = control.locator(".card", has=control.get_by_role("heading", name=re.compile("Notifications")))
    return notifications.locator("tbody tr", has=control.get_by_role("cell", name=reference, exact=True))


def open_app(page: Page) -> Page:
    """The shopper without a phone at hand opens the SEQR app from the order page's link."""
    app = OrderPage(page).open_seqr_app()
    SeqrApp(app).expect_invoice()
    return app


def pay_in_app(app: Page, *, wrong_pin_first: bool = False) -> str:
    """Confirm the invoice in the SEQR app and pay with the PIN; returns SEQR's receipt number."""
    return SeqrApp(app).pay(wrong_pin_first=wrong_pin_first)


def pay_by_scanning(page: Page, *, name: str) -> tuple[str, str]:
    """Check out with SEQR, pay in the app beside it, and see the order page turn paid without
    a reload. Returns (order number, SEQR receipt)."""
    number = check_out_with_seqr(page)
    expect(page.locator(".qr svg")).to_be_visible()
    expect(page.get_by_text("Scan the code with your SEQR app.")).to_be_visible()
    shot(page, f"{name}-1-waiting")
    page.evaluate("window.__sameDocument = true")
    app = open_app(page)
    shot(app, f"{name}-2-app-invoice")
    receipt = pay_in_app(app, wrong_pin_first=True)
    shot(app, f"{name}-3-app-paid")
    expect(page.locator("#receipt")).to_contain_text("Paid — thank you!", timeout=10_000)
    expect(page.locator("#receipt")).to_contain_text(receipt)
    assert page.evaluate("window.__sameDocument") is True, "the page reloaded instead of updating live"
    shot(page, f"{name}-4-paid")
    return number, receipt

"""What a shopper does with SEQR: check out, open the (sandbox's) SEQR app, pay with the PIN."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from e2e.steps import add_to_cart, order_number, place_order, shot


def check_out_with_seqr(page: Page, sku: str = "NOTEBOOK-A5") -> str:
    """A shopper orders ``sku`` and chooses SEQR; returns the order number."""
    add_to_cart(page, sku)
    place_order(page, re.compile(r"\bSEQR\b"))
    expect(page.get_by_role("heading", name=re.compile("Waiting for your payment"))).to_be_visible()
    return order_number(page)


def open_app(page: Page) -> Page:
    """The shopper without a phone at hand opens the SEQR app from the order page's link."""
    with page.expect_popup() as popup:
        page.get_by_role("link", name="No phone at hand? Open the SEQR app here").click()
    app = popup.value
    expect(app.get_by_role("heading", name=re.compile(r"Cartwheel order CW"))).to_be_visible()
    return app


def pay_in_app(app: Page, *, wrong_pin_first: bool = False) -> str:
    """Confirm the invoice in the SEQR app and pay with the PIN; returns SEQR's receipt number."""
    app.get_by_role("link", name="Confirm").click()
    expect(app.get_by_role("heading", name=re.compile(r"^Pay "))).to_be_visible()
    if wrong_pin_first:
        app.get_by_label("PIN").fill("0000")
        app.get_by_role("button", name="Pay").click()
        expect(app.get_by_role("alert")).to_have_text("Wrong PIN. Try again.")
    app.get_by_label("PIN").fill("1234")
    app.get_by_role("button", name="Pay").click()
    expect(app.get_by_role("heading", name="Paid")).to_be_visible()
    return re.search(r"Receipt (\d+)", app.locator(".card").inner_text()).group(1)


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

"""Every page a shopper or merchant sees, each reached the way a person reaches it: the shop, the
checkout with its errors, the order page at each kind of payment step, the back office, the demo
guide, and each sandbox's control page and the page it hosts for the shopper. The accessibility
and phone-layout journeys run their checks on each (``VISITS``: name -> how to get there)."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Page, expect

from e2e.bank_steps import book_transfer, transfer_details
from e2e.pages.seqr_app import SeqrApp
from e2e.pages.sequra_form import SequraForm
from e2e.secupay_steps import CARD_OK, pay_by_card
from e2e.seqr_steps import invoice_reference, pay_in_app
from e2e.steps import add_to_cart, fill_details, log_in_admin, order_number, place_order
from e2e.store import sandbox_page

SPANISH = {"E-mail": "fulano@example.com", "Mobile phone": "666 666 666", "First name": "Fulano",
           "Last name": "De Tal", "Street and number": "Calle Mayor 1", "Postcode": "28013", "City": "Madrid"}
# Long enough to test that a reference or name wraps instead of widening its card.
LONG_CITY = "Llanfairpwllgwyngyllgogerychwyrndrobwllllantysiliogogogoch"


def catalog(page: Page) -> None:
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()


def product(page: Page) -> None:
    page.goto("/products/NOTEBOOK-A5")
    expect(page.get_by_role("heading", name="Dotted notebook A5")).to_be_visible()


def cart(page: Page) -> None:
    add_to_cart(page, "NOTEBOOK-A5")  # under the free-shipping line: the cart shows a Shipping row
    page.goto("/cart")
    page.get_by_label("Discount code").fill("WELCOME10")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator(".extra-line", has_text="WELCOME10")).to_be_visible()


def checkout_with_errors(page: Page) -> None:
    add_to_cart(page, "NOTEBOOK-A5")
    page.goto("/checkout")
    page.get_by_role("button", name=re.compile("Place order")).click()
    expect(page.get_by_text("Please correct the fields marked below.")).to_be_visible()


def bank_transfer_order(page: Page, **changes: str) -> str:
    """An order waiting for a bank transfer (the order page shows instructions); its number."""
    add_to_cart(page, "NOTEBOOK-A5")
    place_order(page, "Bank transfer", **changes)
    expect(page.get_by_role("heading", name=re.compile("Waiting for your transfer"))).to_be_visible()
    return order_number(page)


def order_instructions(page: Page) -> None:
    bank_transfer_order(page, City=LONG_CITY)


def order_paid(page: Page) -> None:
    bank_transfer_order(page)
    _, reference = transfer_details(page)
    control = page.context.new_page()
    book_transfer(control, reference)
    control.close()
    expect(page.locator("#receipt")).to_contain_text("Paid — thank you!", timeout=10_000)


def order_show_code(page: Page) -> None:
    add_to_cart(page, "NOTEBOOK-A5")
    place_order(page, re.compile(r"\bSEQR\b"))
    expect(page.get_by_role("heading", name=re.compile("Waiting for your payment"))).to_be_visible()


def order_cancelled_with_retry(page: Page) -> None:
    """The shopper cancels in the SEQR app: the order page offers another try."""
    order_show_code(page)
    app = page.context.new_page()
    app.goto(sandbox_page(f"seqr/app/invoice/{invoice_reference(page)}"))
    SeqrApp(app).cancel()  # closed once SEQR says cancelled, not while its form is still on its way
    app.close()
    expect(page.get_by_role("heading", name="Payment cancelled")).to_be_visible(timeout=10_000)


def order_embedded_form(page: Page) -> None:
    """SeQura's identification form, open in form_v2's iframe on the order page (a Spanish shopper pays later)."""
    add_to_cart(page, "NOTEBOOK-A5")
    page.goto("/checkout")
    fill_details(page, **SPANISH)
    page.get_by_label("Country").first.select_option(label="Spain")
    page.locator("input[name=method][value='sequra:i1']").check()
    page.get_by_role("button", name=re.compile("Place order")).click()
    SequraForm(page).expect_step("identify")  # in form_v2's iframe


def confirm_email(page: Page) -> None:
    """Back from the provider in a browser that did not place the order (here: its cookies gone)."""
    secupay_hosted_checkout(page)
    page.context.clear_cookies()
    pay_by_card(page, CARD_OK)
    expect(page.get_by_role("heading", name="Payment successful")).to_be_visible()
    page.get_by_role("link", name="Back to the shop").click()
    expect(page.get_by_role("heading", name="Confirm your e-mail address to see your order")).to_be_visible()


def admin_login(page: Page) -> None:
    page.goto("/admin/login")
    expect(page.get_by_label("Password")).to_be_visible()


def admin_orders(page: Page) -> None:
    bank_transfer_order(page)
    log_in_admin(page)


def admin_order(page: Page) -> None:
    number = bank_transfer_order(page)
    log_in_admin(page)
    page.get_by_role("link", name=number).click()
    expect(page.get_by_role("heading", name=re.compile(f"Order {number}"))).to_be_visible()
    expect(page.locator(".diagram svg")).to_be_visible()


def admin_order_paid(page: Page) -> None:
    """An order paid with SEQR: the back office offers a refund."""
    order_show_code(page)
    number = order_number(page)
    app = page.context.new_page()
    app.goto(sandbox_page(f"seqr/app/invoice/{invoice_reference(page)}"))
    pay_in_app(app)
    app.close()
    expect(page.locator("#receipt")).to_contain_text("Paid — thank you!", timeout=10_000)
    log_in_admin(page)
    page.get_by_role("link", name=number).click()
    expect(page.get_by_role("button", name="Refund")).to_be_visible()


def admin_outbox(page: Page) -> None:
    log_in_admin(page)
    page.goto("/admin/outbox")
    expect(page.get_by_role("heading", level=1)).to_be_visible()


def demo_guide(page: Page) -> None:
    page.goto("/demo")
    expect(page.get_by_role("heading", level=1)).to_be_visible()


def sandbox_control(plugin: str) -> Callable[[Page], None]:
    def visit(page: Page) -> None:
        bank_transfer_order(page)  # something for the control pages to list
        page.goto(sandbox_page(f"{plugin}/"))
        expect(page.get_by_role("heading").first).to_be_visible()
    return visit


def bank_online_banking(page: Page) -> None:
    page.goto(sandbox_page("banktransfer/bank"))
    expect(page.get_by_label("Reference")).to_be_visible()


def secupay_hosted_checkout(page: Page) -> None:
    add_to_cart(page, "NOTEBOOK-A5")
    place_order(page, re.compile(r"Credit card\s*via secupay"))
    expect(page).to_have_url(re.compile(r"/sandbox/secupay/checkout\?"))
    expect(page.get_by_role("heading", name="Credit card")).to_be_visible()


def seqr_app(page: Page) -> None:
    order_show_code(page)
    page.goto(sandbox_page(f"seqr/app/invoice/{invoice_reference(page)}"))
    expect(page.get_by_role("heading", name=re.compile(r"Cartwheel order CW"))).to_be_visible()


def sequra_sms_inbox(page: Page) -> None:
    page.goto(sandbox_page("sequra/_control/sms"))
    expect(page.get_by_role("heading", name="SMS inbox")).to_be_visible()


VISITS: dict[str, Callable[[Page], None]] = {
    "catalog": catalog,
    "product": product,
    "cart": cart,
    "checkout-with-errors": checkout_with_errors,
    "order-instructions": order_instructions,
    "order-show-code": order_show_code,
    "order-embedded-form": order_embedded_form,
    "order-paid": order_paid,
    "order-cancelled-retry": order_cancelled_with_retry,
    "confirm-email": confirm_email,
    "admin-login": admin_login,
    "admin-orders": admin_orders,
    "admin-order": admin_order,
    "admin-order-paid": admin_order_paid,
    "admin-outbox": admin_outbox,
    "demo": demo_guide,
    "banktransfer-control": sandbox_control("banktransfer"),
    "banktransfer-online-banking": bank_online_banking,
    "secupay-control": sandbox_control("secupay"),
    "secupay-hosted-checkout": secupay_hosted_checkout,
    "seqr-control": sandbox_control("seqr"),
    "seqr-app": seqr_app,
    "sequra-control": sandbox_control("sequra"),
    "sequra-sms-inbox": sequra_sms_inbox,
}

"""SEQR Instant Checkout: a product page's code, scanned in the SEQR app, makes an order with the
delivery address stored in the app; the payer pays it with the PIN and the app's backURL shows
the receipt; the order confirmation waits in the back office's outbox."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from e2e.seqr_steps import pay_in_app
from e2e.steps import confirm_order_email, log_in_admin, shot


def test_instant_checkout_from_a_product_page(page: Page, new_context):
    page.goto("/products/MUG-ENAMEL")
    in_stock = int(re.search(r"(\d+) in stock", page.locator("article").inner_text()).group(1))
    code = page.locator(".seqr-instant")
    expect(code.get_by_role("heading", name="Buy it now with SEQR")).to_be_visible()
    expect(code.locator("#seqr-instant-qr img")).to_be_visible()  # drawn by SEQR's widget (the sandbox's stand-in)
    shot(page, "instant-1-product")

    with page.expect_popup() as popup:
        code.get_by_role("link", name="No phone at hand? Open the SEQR app here").click()
    app = popup.value
    expect(app.get_by_role("heading", name="Buy now")).to_be_visible()
    expect(app.locator(".card")).to_contain_text("Sven Svensson")
    shot(app, "instant-2-address")
    app.get_by_role("button", name="Confirm").click()  # SEQR calls the shop's createPurchase
    expect(app.get_by_role("heading", name=re.compile(r"Cartwheel order CW"))).to_be_visible()
    expect(app.locator("table")).to_contain_text("Enamel camping mug")
    number = app.get_by_role("heading", name=re.compile(r"Cartwheel order CW")).inner_text().split()[-1]
    receipt = pay_in_app(app)
    app.get_by_role("link", name="OK, back to the shop").click()
    confirm_order_email(app, "sven@example.com")  # the app placed the order, not this browser
    expect(app.get_by_role("heading", name=f"Order {number}")).to_be_visible()
    expect(app.locator("#receipt")).to_contain_text("Paid — thank you!")
    expect(app.locator("#receipt")).to_contain_text(receipt)
    expect(app.locator("#receipt")).to_contain_text("sven@example.com")
    shot(app, "instant-3-receipt")
    app.get_by_role("link", name="See it").click()
    expect(app.get_by_text(f"Your order {number} is confirmed")).to_be_visible()

    page.reload()
    expect(page.get_by_text(f"{in_stock - 1} in stock")).to_be_visible()

    merchant = new_context().new_page()
    log_in_admin(merchant)
    merchant.get_by_role("link", name="Outbox").click()
    expect(merchant.get_by_text(f"Your order {number} is confirmed")).to_be_visible()
    merchant.goto("/admin/")
    merchant.get_by_role("link", name=number).click()
    expect(merchant.locator("#order-status")).to_have_text("paid")
    expect(merchant.locator(".timeline")).to_contain_text(re.compile(r"createPurchase: invoice \d+"))
    expect(merchant.locator(".timeline")).to_contain_text("sendInvoice")
    shot(merchant, "instant-4-admin")


def test_on_a_phone_the_product_page_links_to_the_app(phone):
    page = phone.new_page()
    page.goto("/products/TEA-SENCHA")
    link = page.get_by_role("link", name="Buy now with SEQR")
    expect(link).to_be_visible()
    assert link.get_attribute("href").startswith("SEQR://SEQR.SE/000/ic?w=cartwheel&t=")
    shot(page, "instant-phone")

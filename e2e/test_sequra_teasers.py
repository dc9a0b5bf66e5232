"""SeQura's promotional teasers: what buying in instalments costs, shown before the checkout on
the listing, the product page and the cart, following the amount, with the instalment table
in a dialog; in English by default, in Spanish for a shopper whose browser asks for Spanish."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from e2e.steps import add_to_cart


def teaser(page: Page, place: str):
    return page.locator(f".sequra-teaser-{place}")


def test_teasers_follow_the_amount_on_listing_product_and_cart(page: Page):
    page.goto("/")
    expect(page.locator(".card", has_text="Daypack 20 L")).to_contain_text(re.compile(r"From €\d+\.\d\d/month"))
    expect(page.locator(".card", has_text="Ballpoint pen")).to_contain_text("Instalments with SeQura from €50.00")

    page.goto("/products/BACKPACK-20L")
    product = teaser(page, "product")
    expect(product).to_have_attribute("data-amount", "8900")
    expect(product).to_contain_text(re.compile(r"Or pay in instalments from €\d+\.\d\d/month with SeQura"))
    page.get_by_label("Quantity").fill("2")
    expect(product).to_have_attribute("data-amount", "17800")
    product.get_by_role("button", name="More info").click()
    dialog = page.get_by_role("dialog", name="Pay in instalments with SeQura")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("For a purchase of €178.00")
    expect(dialog.get_by_role("row")).to_have_count(4)  # the header, then 3, 6 and 12 instalments
    expect(dialog.get_by_role("row").nth(1)).to_contain_text(re.compile(r"3\s+€62\.33\s+€3\.00\s+€187\.00"))
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()

    add_to_cart(page, "PEN-BLUE")
    page.goto("/cart")
    cart = teaser(page, "cart")
    expect(cart).to_contain_text("Instalments with SeQura from €50.00")  # a pen and shipping: below 50 €
    page.get_by_label("Quantity of Ballpoint pen, blue").fill("12")
    page.get_by_role("button", name="Update").click()
    expect(cart).to_contain_text(re.compile(r"Or pay in instalments from €\d+\.\d\d/month"))


def test_a_spanish_shopper_reads_them_in_spanish(new_context):
    page = new_context(locale="es-ES").new_page()
    page.goto("/")
    expect(page.locator(".card", has_text="Daypack 20 L")).to_contain_text(re.compile(r"Desde \d+,\d\d\s€/mes"))
    page.goto("/products/LAMP-DESK")
    product = teaser(page, "product")
    expect(product).to_contain_text(re.compile(r"O paga a plazos desde \d+,\d\d\s€/mes con SeQura"))
    product.get_by_role("button", name="Más información").click()
    dialog = page.get_by_role("dialog", name="Paga a plazos con SeQura")
    expect(dialog).to_contain_text("Para una compra de 54,90\xa0€")  # money as the shop writes it in Spanish
    expect(dialog.get_by_role("columnheader", name="TAE")).to_be_visible()
    dialog.get_by_role("button", name="Cerrar").click()
    expect(dialog).to_be_hidden()
    page.get_by_role("button", name="Añadir a la cesta").click()  # the whole shop speaks Spanish to this browser
    expect(page.locator("#cart-message")).to_contain_text("a tu cesta")
    page.goto("/cart")
    expect(teaser(page, "cart")).to_contain_text(re.compile(r"desde \d+,\d\d\s€/mes"))

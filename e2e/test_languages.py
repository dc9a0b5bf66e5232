"""The shop in four languages, each through the provider its sales team demos: Spanish through
SeQura (chosen with the header's switcher), German through secupay and Swedish through SEQR (from
the browser's language), English through bank transfer. Each checks the page's language, how it
writes money, and the language of the provider's own page."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from e2e.pages.sequra_form import SequraForm
from e2e.steps import fill_details

NBSP = "\xa0"  # Babel keeps a number and its currency together

SPANISH = {"Correo electrónico": "fulano@example.com", "Teléfono móvil": "666 666 666", "Nombre": "Fulano",
           "Apellidos": "De Tal", "Calle y número": "Calle Mayor 1", "Código postal": "28013", "Ciudad": "Madrid"}
GERMAN = {"E-Mail": "erika@example.com", "Mobiltelefon": "+49 170 1234567", "Vorname": "Erika",
          "Nachname": "Mustermann", "Straße und Hausnummer": "Hauptstraße 5", "Postleitzahl": "10115", "Ort": "Berlin"}
SWEDISH = {"E-post": "sven@example.com", "Mobiltelefon": "+46 70 123 45 67", "Förnamn": "Sven",
           "Efternamn": "Svensson", "Gatuadress": "Drottninggatan 1", "Postnummer": "11151", "Ort": "Stockholm"}


def fill_in(page: Page, fields: dict[str, str]) -> None:
    """The checkout's customer and delivery fields, by their labels in the page's language."""
    for label, value in fields.items():
        page.get_by_label(label, exact=True).first.fill(value)


def add_notebook(page: Page, button: str, added: str) -> None:
    page.goto("/products/NOTEBOOK-A5")
    page.get_by_role("button", name=button).click()
    expect(page.locator("#cart-message")).to_contain_text(added)


def test_spanish_through_sequra(page: Page):
    page.goto("/")
    page.get_by_role("button", name="Español").click()  # a plain form: no script needed
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.get_by_role("heading", name="Cosas para el escritorio y el camino")).to_be_visible()
    expect(page.locator(".card", has_text="Dotted notebook A5").locator(".price")).to_have_text(f"14,50{NBSP}€")
    add_notebook(page, "Añadir a la cesta", "a tu cesta")
    page.goto("/checkout")
    fill_in(page, SPANISH)
    page.get_by_label("País").first.select_option("ES")
    page.get_by_label(re.compile("SeQura: Paga Después")).check()
    page.get_by_role("button", name=re.compile("Realizar pedido y pagar")).click()
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.get_by_role("heading", name=re.compile("Pago en curso"))).to_be_visible()
    form = SequraForm(page)  # SeQura's own form, in its iframe, in Spanish
    form.expect_step("identify")
    expect(form.form.get_by_role("button", name="Continuar")).to_be_visible()


def test_german_through_secupay(new_context):
    page = new_context(locale="de-DE").new_page()  # the browser asks for German
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    add_notebook(page, "In den Warenkorb", "in den Warenkorb gelegt")
    page.goto("/cart")
    expect(page.locator("#cart-total")).to_have_text(re.compile(rf"^\d+,\d\d{NBSP}€$"))
    page.goto("/checkout")
    fill_in(page, GERMAN)
    page.get_by_label(re.compile(r"Kreditkarte\s*über secupay")).check()
    page.get_by_role("button", name=re.compile("Bestellen und .* bezahlen")).click()
    expect(page).to_have_url(re.compile(r"/sandbox/secupay/checkout\?"))
    expect(page.locator("html")).to_have_attribute("lang", "de")  # secupay's hosted page, in German
    expect(page.get_by_role("button", name="Jetzt zahlen")).to_be_visible()


def test_swedish_through_seqr(new_context):
    page = new_context(locale="sv-SE").new_page()
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "sv")
    add_notebook(page, "Lägg i varukorgen", "har lagts i din varukorg")
    page.goto("/checkout")
    fill_in(page, SWEDISH)
    page.get_by_label("Land").first.select_option("SE")
    page.get_by_label(re.compile(r"\bSEQR\b")).check()
    page.get_by_role("button", name=re.compile("Beställ och betala")).click()
    expect(page.get_by_role("heading", name=re.compile("Väntar på din betalning"))).to_be_visible()
    expect(page.locator(".summary .total .num")).to_have_text(re.compile(rf"^\d+,\d\d{NBSP}€$"))
    with page.expect_popup() as popup:
        page.get_by_role("link", name="Ingen telefon till hands? Öppna SEQR-appen här").click()
    app = popup.value  # the payer's SEQR app, in the phone's language
    expect(app.locator("html")).to_have_attribute("lang", "sv")
    expect(app.get_by_role("heading", name=re.compile(r"Cartwheel, beställning CW"))).to_be_visible()
    expect(app.get_by_role("link", name="Bekräfta")).to_be_visible()


def test_english_through_bank_transfer(page: Page):
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    add_notebook(page, "Add to cart", "Added 1 × Dotted notebook A5")
    page.goto("/checkout")
    fill_details(page)
    page.get_by_label(re.compile("Bank transfer")).check()
    page.get_by_role("button", name=re.compile("Place order")).click()
    expect(page.get_by_role("heading", name=re.compile("Waiting for your transfer"))).to_be_visible()
    amount = page.locator("table.instructions tr", has_text="Amount").locator("code")
    expect(amount).to_have_text(re.compile(r"^€\d+\.\d\d$"))

"""The demo's shoppers: who checks out when a presenter presses "Try it" on the demo guide.

Each persona is what a plugin's provider expects of a customer (SeQura: a Spanish address and
mobile; SEQR: a Swedish payer), its checkout form filled in as a shopper would, and a cart that
fits every payment option it is used with. A plugin's DemoFlow names one by its key; magic names
that steer a sandbox (SeQura's "Reject Test") are personas of their own, so that the flow shows
who the provider sees. Used in sandbox mode only: the demo guide's "Try it" is not served for a
plugin at its real provider.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from shop.i18n import N_


@dataclass(frozen=True)
class Persona:
    key: str
    description: str  # who they are, in the demo guide's words (marked N_, translated where shown)
    details: Mapping[str, str]  # the checkout form's fields, by their names
    cart: tuple[tuple[str, int], ...]  # (product SKU, quantity)


def _spanish(given_names: str, surname: str) -> dict[str, str]:
    # SeQura sends its SMS code to a Spanish mobile (6xx or 7xx) and sells to Spanish addresses only.
    return {"email": "lucia@example.com", "phone": "+34 666 555 444", "date_of_birth": "1985-03-14",
            "given_names": given_names, "surname": surname, "line1": "Calle Mayor 1", "line2": "", "company": "",
            "postal_code": "28013", "city": "Madrid", "country_code": "ES", "invoice_same": "on"}


# Above SeQura's 50 € minimum for part payments, so that every SeQura flow fits the one cart.
SEQURA_CART = (("LAMP-DESK", 1), ("MUG-ENAMEL", 1))

PERSONAS: dict[str, Persona] = {p.key: p for p in (
    Persona("lucia", N_("Lucía García, a shopper in Madrid (SeQura approves her)"), _spanish("Lucía", "García"),
            SEQURA_CART),
    Persona("lucia-rejected", N_("Lucía \"Reject Test\": the surname SeQura's sandbox always rejects"),
            _spanish("Lucía", "Reject Test"), SEQURA_CART),
    Persona("lucia-reviewed", N_("\"Review Test Approve\": the name SeQura puts on hold for review, then approves"),
            _spanish("Review", "Test Approve"), SEQURA_CART),
    Persona("max", N_("Max Mustermann, a shopper in Berlin"),
            {"email": "max@example.com", "phone": "+49 170 1234567", "date_of_birth": "1965-12-31",
             "given_names": "Max", "surname": "Mustermann", "line1": "Hauptstraße 5", "line2": "", "company": "",
             "postal_code": "10115", "city": "Berlin", "country_code": "DE", "invoice_same": "on"},
            (("NOTEBOOK-A5", 2), ("PEN-BLUE", 1))),
    Persona("sven", N_("Sven Svensson, a SEQR user in Stockholm"),
            {"email": "sven@example.com", "phone": "+46 70 123 45 67", "date_of_birth": "1979-06-06",
             "given_names": "Sven", "surname": "Svensson", "line1": "Drottninggatan 1", "line2": "", "company": "",
             "postal_code": "111 51", "city": "Stockholm", "country_code": "SE", "invoice_same": "on"},
            (("TEA-SENCHA", 2),)),
)}

"""The shopper's language: chosen, negotiated, kept, and spoken down the whole request."""

import pytest
from sqlmodel import select

from shop.countries import country_list, or_list
from shop.i18n import current_locale, gettext, negotiate, supported, use_locale
from shop.models import Order, OutboxMessage, Payment
from shop.money import Money
from shop.payments.contract import Observation, PaymentStatus
from shop.testing.shopper import Shopper

from .rows import get, rows

pytestmark = pytest.mark.anyio
NBSP = "\xa0"


@pytest.mark.parametrize(("header", "expected"), [
    ("", "en"),
    ("es-ES,es;q=0.9,en;q=0.8", "es"),
    ("de-AT", "de"),  # a region of a supported language
    ("sv-SE;q=0.5, fr;q=0.9", "sv"),  # French is not spoken here: the next best is
    ("fr-FR, it", "en"),  # nothing supported: English
    ("en;q=0.1, de;q=0.8", "de"),  # by quality, not by position
    ("de;q=0, es", "es"),  # q=0 means "not this one"
    ("*", "en"),
    ("es;q=bad, de", "de"),
])
def test_accept_language_is_negotiated_by_quality(header, expected):
    assert negotiate(header) == expected


def test_unknown_or_regional_codes_fall_back_sensibly():
    assert supported("de_DE") == "de" and supported("pt-BR") == "en" and supported(None) == "en"
    with use_locale("sv"):
        assert current_locale() == "sv" and gettext("Your cart") == "Din varukorg"
        with use_locale("xx"):
            assert current_locale() == "en" and gettext("Your cart") == "Your cart"
        assert current_locale() == "sv"
    assert current_locale() == "en"


async def test_the_browser_language_sets_the_page_language_and_its_money(app):
    shopper = Shopper(app)
    try:
        page = (await shopper.get("/", headers={"accept-language": "de-DE,de;q=0.9"})).text
        assert '<html lang="de">' in page and "In den Warenkorb" in page and f",00{NBSP}€" in page
        english = (await shopper.get("/", headers={"accept-language": "fr"})).text
        assert '<html lang="en">' in english and "Add to cart" in english
    finally:
        await shopper.aclose()


async def test_the_switcher_keeps_the_choice_in_the_session_over_the_browser_language(shopper):
    sv = {"accept-language": "sv"}
    response = await shopper.post("/locale", {"locale": "es", "next": "/cart"})
    assert response.status_code == 303 and response.headers["location"] == "/cart"
    page = (await shopper.get("/cart", headers=sv)).text
    assert '<html lang="es">' in page and "Tu cesta" in page
    # The switcher is a plain form: each language a button, named in its own language.
    assert 'name="locale" value="sv" lang="sv"' in page and ">Svenska</button>" in page


async def test_the_switcher_refuses_foreign_targets_unknown_locales_and_forged_posts(shopper):
    response = await shopper.post("/locale", {"locale": "de", "next": "//evil.example/"})
    assert response.headers["location"] == "/"
    await shopper.post("/locale", {"locale": "xx", "next": "/"})
    assert '<html lang="de">' in (await shopper.get("/")).text  # the unknown code changed nothing
    forged = await shopper.post("/locale", {"locale": "sv", "next": "/", "csrf_token": "forged"})
    assert forged.status_code == 403
    assert '<html lang="de">' in (await shopper.get("/")).text


async def test_messages_made_deep_in_the_request_speak_its_language(shopper):
    await shopper.post("/locale", {"locale": "de", "next": "/"})
    added = await shopper.add("MUG-ENAMEL", 2)  # a flash, made in the handler
    assert added.status_code == 303
    assert "2 × " in (page := (await shopper.get("/cart")).text) and "in den Warenkorb gelegt." in page
    refused = await shopper.checkout("banktransfer:banktransfer", email="not-an-address")
    assert refused.status_code == 422
    assert "Diese E-Mail-Adresse sieht nicht richtig aus" in refused.text
    assert "Deutschland" in refused.text  # the country list, named by Babel in German


async def test_an_order_keeps_its_language_and_its_mail_speaks_it_whoever_sees_it_paid(app, shopper):
    await shopper.post("/locale", {"locale": "sv", "next": "/"})
    await shopper.add("MUG-ENAMEL")
    assert (await shopper.checkout("banktransfer:banktransfer")).status_code == 303
    with app.state.db() as session:
        payment = session.exec(select(Payment).order_by(Payment.id.desc())).first()
    order = get(app, Order, payment.order_id)
    assert order.locale == "sv"
    # The money is seen outside any request of the shopper's (an English-speaking callback, say).
    with use_locale("en"):
        await app.state.ledger.apply(payment.id, Observation(
            PaymentStatus.PAID, "credited", "credit:1", amount=Money(payment.amount_cents, payment.currency)))
    (mail,) = rows(app, OutboxMessage, order_id=order.id)
    assert mail.subject == f"Din beställning {order.number} är bekräftad"
    assert f"Hej {order.given_names}!" in mail.body and f"Vi har tagit emot 22,95{NBSP}€" in mail.body
    assert "Delsumma" in mail.body and "Spanien" in mail.body  # the lines and addresses too, countries by name
    assert '<html lang="sv">' in mail.html_body and "Leveransadress" in mail.html_body


def test_a_reason_names_its_countries_and_currencies_as_the_shoppers_language_lists_them():
    with use_locale("de"):
        assert country_list(("ES", "PT")) == "Spanien oder Portugal"
    with use_locale("es"):
        assert country_list(("FR", "IT", "ES")) == "Francia, Italia o España"
    with use_locale("sv"):
        assert or_list(("EUR", "SEK")) == "EUR eller SEK"
        assert gettext("Only for addresses in %(countries)s.") % {"countries": country_list(("DE",))} == (
            "Bara för adresser i Tyskland.")
    with use_locale("en"):
        assert country_list(("DE", "AT")) == "Germany or Austria"

"""Each provider is told the shopper's language, and its hosted pages speak it where the provider does."""

import httpx
import pytest

from plugins.secupay.plugin import _sentence
from plugins.seqr.sandbox.state import TEST_PIN
from shop.i18n import use_locale
from shop.models import Order, Payment
from shop.payments.contract import PaymentStatus
from shop.testing.shopper import BASE_URL, Shopper, make_settings, running_app

from .rows import get, rows

pytestmark = pytest.mark.anyio


@pytest.fixture
async def store(tmp_path):
    async with running_app(make_settings(tmp_path), plugin_ids=["secupay", "seqr", "sequra"]) as app:
        shopper = Shopper(app)
        try:
            yield app, shopper
        finally:
            await shopper.aclose()


def sandbox(app, plugin: str):
    return app.state.sandboxes[plugin].state.sandbox


def order_transaction(app):
    """The order's Smart Transaction, not the probe the plugin sends to learn the contract's methods."""
    (stx,) = [stx for stx in sandbox(app, "secupay").stx.values()
              if "which methods the contract offers" not in stx.request.get("transactionRef", "")]
    return stx


async def place(shopper: Shopper, locale: str, method: str, **changes):
    await shopper.post("/locale", {"locale": locale, "next": "/"})
    await shopper.add("MUG-ENAMEL", 5)  # above SeQura's instalment minimum
    response = await shopper.checkout(method, **changes)
    assert response.status_code == 303, response.text
    return response


async def test_secupay_shows_a_german_shopper_its_page_in_german(store):
    app, shopper = store
    response = await place(shopper, "de", "secupay:creditcard")
    stx = order_transaction(app)
    assert stx.request["application_context"]["language"] == "de"
    hosted = await shopper.http.get(response.headers["location"], follow_redirects=True)
    assert '<html lang="de">' in hosted.text


async def test_secupay_shows_a_swedish_shopper_its_page_in_english_as_it_knows_no_swedish(store):
    app, shopper = store
    await place(shopper, "sv", "secupay:creditcard")
    stx = order_transaction(app)
    assert stx.request["application_context"]["language"] == "en"


async def test_sequra_is_told_the_shoppers_language_and_offers_in_it(store):
    app, shopper = store
    await shopper.post("/locale", {"locale": "es", "next": "/"})
    await shopper.add("MUG-ENAMEL", 5)
    page = (await shopper.get("/checkout")).text
    assert "cuotas mensuales, desde" in page and "monthly" not in page  # the description in Spanish
    assert "SeQura: Paga Fraccionado" in page  # the product's own name, as SeQura gives it
    assert "Recibe tu pedido y paga en 7 días" in page  # SeQura's own claim, in the shopper's language
    await shopper.checkout("sequra:pp3")
    (order,) = sandbox(app, "sequra").orders.values()
    assert order.payload["customer"]["language_code"] == "es-ES"


async def test_sequra_offers_describe_plans_in_english_for_an_english_shopper(store):
    app, shopper = store
    await shopper.add("MUG-ENAMEL", 5)
    page = (await shopper.get("/checkout")).text
    assert "monthly instalments, from €" in page and "cuotas" not in page
    assert "Receive your order first, then pay later at no cost" in page and "Recibe tu pedido" not in page


async def test_seqr_invoices_are_titled_in_the_shoppers_language(store):
    app, shopper = store
    await place(shopper, "sv", "seqr:seqr")
    (invoice,) = sandbox(app, "seqr").invoices.values()
    assert invoice.data["title"] == f"Cartwheel, beställning {rows(app, Order)[0].number}"


async def test_what_a_read_back_tells_the_shopper_is_in_the_orders_language_whoever_asks(store):
    app, shopper = store
    seqr = sandbox(app, "seqr")
    seqr.scenarios.hold_callbacks = True  # the read-back below is the only way the news arrives
    await place(shopper, "sv", "seqr:seqr")
    (payment,) = rows(app, Payment)
    seqr.scan(payment.reference)
    assert seqr.confirm(payment.reference, TEST_PIN) == "paid"
    assert await app.state.attempts.refresh(payment.id, "reconciler")  # no shopper's request: English around it
    paid = get(app, Payment, payment.id)
    assert paid.status == "paid" and paid.detail.startswith("Betald med SEQR, kvitto ")


async def test_a_callback_speaks_the_orders_language_to_the_shopper_too(store):
    app, shopper = store
    seqr = sandbox(app, "seqr")
    seqr.scenarios.hold_callbacks = True
    await place(shopper, "de", "seqr:seqr")
    (payment,) = rows(app, Payment)
    seqr.scan(payment.reference)
    assert seqr.confirm(payment.reference, TEST_PIN) == "paid"
    note = next(n for n in seqr.held if n.reference == payment.reference)
    # SEQR's notification, as SEQR sends it: no cookie, no Accept-Language.
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as provider:
        answer = await provider.post(note.url, headers=dict(note.headers), content=note.body)
    assert answer.status_code < 300
    assert get(app, Payment, payment.id).detail.startswith("Mit SEQR bezahlt, Beleg ")


def test_secupay_tells_a_german_shopper_in_german_why_a_payment_failed():
    with use_locale("de"):
        failed = _sentence(PaymentStatus.FAILED, "creditcard", None)
    assert failed.startswith("secupay hat die Zahlung per Karte abgelehnt. Es wurde kein Geld abgebucht")

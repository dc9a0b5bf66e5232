"""The checkout offers only what can succeed: an option a plugin says cannot be used for the
order's countries or total is shown disabled with the reason, refused when posted anyway, and
a provider's refusal at "Place order" is shown at its field and leaves no order behind."""

import re

import pytest

from shop.models import Order, OrderLine, Payment, PaymentEvent, Product
from shop.testing.shopper import Shopper, make_settings, running_app

from .rows import rows

pytestmark = pytest.mark.anyio
SPAIN_ONLY = "Only for delivery and invoice addresses in Spain."


@pytest.fixture
async def store(tmp_path):
    async with running_app(make_settings(tmp_path), plugin_ids=["banktransfer", "sequra"]) as app:
        shopper = Shopper(app)
        await shopper.add("MUG-ENAMEL", 4)  # enough for every SeQura product
        yield app, shopper
        await shopper.aclose()


def disabled_methods(html: str) -> set[str]:
    return set(re.findall(r'value="([a-z0-9_]+:[^"]+)" required\s+disabled', html))


async def test_the_options_for_a_country_disable_seQura_with_the_reason_and_keep_the_choice(store):
    app, shopper = store
    german = await shopper.get("/checkout/options", params={"country_code": "DE", "method": "banktransfer:banktransfer"})
    assert german.status_code == 200 and 'id="payment-options"' in german.text
    assert disabled_methods(german.text) == {"sequra:i1", "sequra:sp1", "sequra:pp3"}
    assert SPAIN_ONLY in german.text
    assert re.search(r'value="banktransfer:banktransfer" required\s+checked', german.text)
    spanish = await shopper.get("/checkout/options", params={"country_code": "ES"})
    assert disabled_methods(spanish.text) == set() and SPAIN_ONLY not in spanish.text
    # An invoice address in Germany counts too, once it is not the delivery address.
    split = await shopper.get("/checkout/options", params={"country_code": "ES", "invoice_country_code": "DE"})
    assert disabled_methods(split.text) == {"sequra:i1", "sequra:sp1", "sequra:pp3"}


async def test_the_checkout_page_starts_with_the_options_for_its_country(store):
    app, shopper = store
    page = await shopper.get("/checkout")
    assert disabled_methods(page.text) == {"sequra:i1", "sequra:sp1", "sequra:pp3"}  # it starts in Germany
    assert 'hx-get="/checkout/options"' in page.text


async def test_posting_an_unavailable_option_anyway_places_no_order(store):
    app, shopper = store
    (mug,) = rows(app, Product, sku="MUG-ENAMEL")
    response = await shopper.checkout("sequra:i1", country_code="DE")
    assert response.status_code == 422
    assert f'<p class="error" id="e-method">{SPAIN_ONLY}</p>' in response.text
    assert rows(app, Order) == [] and rows(app, Product, sku="MUG-ENAMEL")[0].stock == mug.stock
    assert not any(e.operation.startswith("POST") for e in rows(app, PaymentEvent))  # SeQura was not asked


async def test_without_js_the_shopper_asks_for_the_options_of_the_country_typed(store):
    app, shopper = store
    response = await shopper.checkout("", country_code="ES", action="update-options")
    assert response.status_code == 200 and disabled_methods(response.text) == set()
    assert "Please" not in response.text.split('id="payment-options"')[0].split("<h1>")[1]  # no errors shown
    assert rows(app, Order) == []


async def test_a_refusal_at_place_order_shows_at_its_field_and_leaves_no_order_behind(tmp_path, database_url):
    # A shop that believes SeQura sells to Germany, and a SeQura that does not. On PostgreSQL
    # too: its foreign keys hold the order's rows to the order until each is gone.
    settings = make_settings(tmp_path, DATABASE_URL=database_url, SEQURA_COUNTRIES="ES,DE")
    async with running_app(settings, plugin_ids=["sequra"]) as app:
        shopper = Shopper(app)
        try:
            await shopper.add("MUG-ENAMEL", 4)
            (mug,) = rows(app, Product, sku="MUG-ENAMEL")
            response = await shopper.checkout("sequra:i1", country_code="DE")
        finally:
            await shopper.aclose()
        assert response.status_code == 422
        field = response.text.split('id="f-country_code"')[1].split("</div>")[0]
        assert "SeQura is not available for addresses in this country" in field
        assert response.text.count("SeQura is not available") == 1  # once, at its field
        assert "not allowed for this merchant" not in response.text
        for table in (Order, OrderLine, Payment):
            assert rows(app, table) == [], table
        assert [e for e in rows(app, PaymentEvent) if e.payment_id or e.order_id] == []  # listing options: no order
        assert rows(app, Product, sku="MUG-ENAMEL")[0].stock == mug.stock

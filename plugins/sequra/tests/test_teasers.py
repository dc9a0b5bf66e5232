"""SeQura's promotional teasers: figures from the credit agreements, the product's limits and
dates, a cache that keeps page views off SeQura, and the pages that show them."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime

import pytest

from plugins.sequra.answers import CreditAgreements, PaymentMethods
from plugins.sequra.sandbox import catalogue
from plugins.sequra.teasers import Teasers, teaser_for
from shop.money import Money
from shop.payments.contract import ProviderUnavailable

pytestmark = pytest.mark.anyio
NOW = datetime(2026, 12, 1, tzinfo=UTC)
METHODS = PaymentMethods.model_validate(catalogue.payment_methods("dummy_automated_tests", None))


def agreements(total: int) -> CreditAgreements:
    return CreditAgreements.model_validate(catalogue.credit_agreements("dummy_automated_tests", total))


def test_the_teaser_is_the_cheapest_monthly_instalment_of_the_sandbox_fee_table():
    teaser = teaser_for(Money(15000), "pp3", METHODS, agreements(15000), NOW)
    assert [p.instalment_count for p in teaser.plans] == [3, 6, 12]
    # 150 € in 12: 12,50 € + 3,00 € fee (the pp3 fee table's first row)
    assert teaser.cheapest.instalment_count == 12 and teaser.cheapest.instalment_total.value == 1550
    assert teaser.minimum is None


def test_below_the_minimum_says_from_where_and_above_the_maximum_shows_nothing():
    below = teaser_for(Money(4999), "pp3", METHODS, None, NOW)
    assert below.minimum == Money(5000) and below.plans == ()
    assert teaser_for(Money(300001), "pp3", METHODS, agreements(300001), NOW) is None


def test_a_product_outside_its_dates_is_not_promoted():
    data = catalogue.payment_methods("dummy_automated_tests", None)
    for group in data["payment_options"]:
        for method in group["methods"]:
            method["starts_at"] = "2027-01-01T00:00:00Z"
    assert teaser_for(Money(15000), "pp3", PaymentMethods.model_validate(data), agreements(15000), NOW) is None


def test_the_form_charges_what_the_teaser_promised():
    """The first instalment the form asks for is the teaser's 3-instalment line."""
    teaser = teaser_for(Money(8900), "pp3", METHODS, agreements(8900), NOW)
    three = next(p for p in teaser.plans if p.instalment_count == 3)
    assert three.instalment_total.value == round(8900 / 3) + catalogue.instalment_fee("pp3", 8900)


class FakeSequra:
    def __init__(self) -> None:
        self.calls = 0
        self.slow = asyncio.Event()
        self.slow.set()
        self.down = False

    async def methods(self) -> PaymentMethods:
        return METHODS

    async def agreements(self, amount: Money) -> CreditAgreements:
        self.calls += 1
        await self.slow.wait()
        if self.down:
            raise ProviderUnavailable("down")
        return agreements(amount.minor)


async def test_cached_per_amount_one_call_for_many_views():
    sequra = FakeSequra()
    teasers = Teasers("pp3", 60, sequra.methods, sequra.agreements)
    assert teasers.peek(Money(15000)) == (False, None)
    await asyncio.gather(*(teasers.wait_for(Money(15000), 1) for _ in range(5)))
    known, teaser = teasers.peek(Money(15000))
    assert known and teaser.cheapest.instalment_total.value == 1550
    assert sequra.calls == 1  # single flight, then the cache


async def test_a_slow_sequra_is_not_waited_for_and_fills_the_cache_later():
    sequra = FakeSequra()
    sequra.slow.clear()
    teasers = Teasers("pp3", 60, sequra.methods, sequra.agreements)
    assert await teasers.wait_for(Money(15000), 0.05) is None  # the page goes on without it
    sequra.slow.set()
    for _ in range(100):
        if teasers.peek(Money(15000))[0]:
            break
        await asyncio.sleep(0.01)
    assert teasers.peek(Money(15000))[1] is not None and sequra.calls == 1


async def test_a_sequra_that_is_down_gives_no_teaser_and_is_not_asked_on_every_view():
    sequra = FakeSequra()
    sequra.down = True
    teasers = Teasers("pp3", 60, sequra.methods, sequra.agreements)
    assert await teasers.wait_for(Money(15000), 1) is None
    assert await teasers.wait_for(Money(15000), 1) is None
    assert sequra.calls == 1


# ---------------------------------------------------------------------- on the shop's pages

DIALOG = re.compile(r'<dialog id="sequra-plans-product-BACKPACK-20L" class="sequra-plans" '
                    r'aria-labelledby="sequra-plans-product-BACKPACK-20L-title">')


async def test_pages_show_the_teasers_warmed_at_start(world):
    await world.plugin.warm_teasers()
    page = await world.shopper.get("/products/BACKPACK-20L")
    assert "Or pay in instalments from €" in page.text and DIALOG.search(page.text)
    assert 'hx-include="input[name=quantity]"' in page.text
    listing = await world.shopper.get("/")
    assert "/month with SeQura" in listing.text  # 89 € backpack, 54,90 € lamp
    assert "Instalments with SeQura from €50.00" in listing.text  # a 4,95 € pen is below pp3's minimum
    spanish = await world.shopper.get("/products/BACKPACK-20L", headers={"Accept-Language": "es-ES,es;q=0.9"})
    assert "O paga a plazos desde" in spanish.text and "€/mes con SeQura" in spanish.text and "TAE" in spanish.text


async def test_the_quantity_updates_the_product_teaser_priced_by_the_shop(world):
    one = await world.shopper.get("/pay/sequra/teaser/product/LAMP-DESK?quantity=1")
    two = await world.shopper.get("/pay/sequra/teaser/product/LAMP-DESK?quantity=2")
    assert 'data-amount="5490"' in one.text and 'data-amount="10980"' in two.text


async def cart_teaser(shopper) -> str:
    """The cart's teaser: in the page when cached, else what its placeholder loads."""
    page = (await shopper.get("/cart")).text
    loader = re.search(r'hx-get="(/pay/sequra/teaser\?[^"]+)"', page)
    if loader:
        return (await shopper.get(loader.group(1).replace("&amp;", "&"))).text
    return page[page.index('<div class="sequra-teaser'):]


async def test_the_cart_teaser_follows_the_cart_total(world):
    await world.shopper.add("PEN-BLUE", 1)  # 4,95 € + 4,95 € shipping: below pp3's 50 €
    assert "Instalments with SeQura from €50.00" in await cart_teaser(world.shopper)
    await world.shopper.post("/cart/update", {"sku": "PEN-BLUE", "quantity": "20"}, headers={"HX-Request": "true"})
    teaser = await cart_teaser(world.shopper)
    assert 'data-amount="9900"' in teaser and "Or pay in instalments from €" in teaser


async def test_an_amount_the_shop_did_not_sign_is_refused(world):
    response = await world.shopper.get("/pay/sequra/teaser?amount=123456&sig=forged&place=cart&key=cart")
    assert response.status_code == 400


async def test_the_merchant_chooses_where_teasers_show(world_with):
    world = await world_with(SEQURA_TEASER_PLACES="cart")
    await world.plugin.warm_teasers()
    assert "sequra-teaser" not in (await world.shopper.get("/products/BACKPACK-20L")).text
    assert "sequra-teaser" not in (await world.shopper.get("/")).text


async def test_a_page_never_waits_on_sequra(world):
    """SeQura hanging: the pages render at once with a placeholder, which then comes back empty."""
    hang = asyncio.Event()

    async def hanging(*args, **kwargs):
        await hang.wait()

    world.plugin.teasers._fetch_agreements = hanging
    world.plugin.teasers._cache.clear()
    world.plugin.promotion.wait = 0.1
    page = await asyncio.wait_for(world.shopper.get("/products/LAMP-DESK"), 2)
    assert "sequra-loading" in page.text and "sequra-teaser" not in page.text
    url = re.search(r'hx-get="(/pay/sequra/teaser\?[^"]+)"', page.text).group(1).replace("&amp;", "&")
    loaded = await asyncio.wait_for(world.shopper.get(url), 2)
    assert loaded.status_code == 200 and loaded.text == ""  # shown without the teaser
    hang.set()

"""The checkout's SeQura terms: kept a short while so that views of the checkout do not each ask
SeQura twice; errors are not kept, and SeQura is asked again once the answer has expired."""

from __future__ import annotations

import asyncio

import pytest

from plugins.sequra.answers import CreditAgreements, PaymentMethods
from plugins.sequra.sandbox import catalogue
from plugins.sequra.terms import Terms
from shop.money import Money
from shop.payments.contract import ProviderUnavailable

from .conftest import make_order

pytestmark = pytest.mark.anyio


class CountingSequra:
    """SeQura's two calls, counted; ``down`` makes them fail, ``gate`` holds them."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.down = False
        self.gate = asyncio.Event()
        self.gate.set()

    async def merchant_payment_methods(self) -> PaymentMethods:
        self.calls.append("methods")
        await self.gate.wait()
        if self.down:
            raise ProviderUnavailable("down")
        return PaymentMethods.model_validate(catalogue.payment_methods("dummy_automated_tests", None))

    async def credit_agreements(self, total: Money, *, locale: str, country: str) -> CreditAgreements:
        self.calls.append(f"agreements {total.minor} {locale} {country}")
        return CreditAgreements.model_validate(catalogue.credit_agreements("dummy_automated_tests", total.minor))


async def test_many_views_ask_once_and_each_total_has_its_own_agreements():
    sequra = CountingSequra()
    terms = Terms(lambda: sequra, lifetime=60)
    sequra.gate.clear()
    views = [asyncio.ensure_future(terms.payment_methods()) for _ in range(5)]
    await asyncio.sleep(0)
    sequra.gate.set()
    await asyncio.gather(*views)
    await terms.payment_methods()
    for total in (15000, 15000, 8900):
        await terms.credit_agreements(Money(total), locale="es-ES", country="ES")
    assert sequra.calls == ["methods", "agreements 15000 es-ES ES", "agreements 8900 es-ES ES"]


async def test_an_error_is_not_kept_and_an_expired_answer_is_asked_again():
    sequra = CountingSequra()
    now = [1000.0]
    terms = Terms(lambda: sequra, lifetime=60, clock=lambda: now[0])
    sequra.down = True
    for _ in range(2):
        with pytest.raises(ProviderUnavailable):
            await terms.payment_methods()
    sequra.down = False
    await terms.payment_methods()
    assert sequra.calls == ["methods"] * 3

    now[0] += 59
    await terms.payment_methods()
    assert sequra.calls == ["methods"] * 3
    now[0] += 2
    await terms.payment_methods()
    assert sequra.calls == ["methods"] * 4


async def test_a_lifetime_of_zero_asks_every_time():
    sequra = CountingSequra()
    terms = Terms(lambda: sequra, lifetime=0)
    await terms.payment_methods()
    await terms.payment_methods()
    assert sequra.calls == ["methods", "methods"]


async def test_checkout_views_of_the_store_ask_sequra_once(world):
    """The plugin's options: the second view of the same total is answered without SeQura."""
    asked: list[str] = []
    world.plugin.runtime.http.event_hooks["request"].append(lambda request: _note(asked, request))
    first = await world.plugin.options(make_order())
    second = await world.plugin.options(make_order())
    assert first == second and {o.option_id for o in first} == {"i1", "sp1", "pp3"}
    assert sorted(asked) == ["credit_agreements", "payment_methods"]


async def _note(asked: list[str], request) -> None:
    asked.append(request.url.path.rsplit("/", 1)[-1])

"""secupay offers only the methods the merchant's contract offers (the payment links it returns),
and an answer of another shape is a clear error and an unavailable option, not a guess."""

from __future__ import annotations

import logging
from dataclasses import replace

import pytest

from plugins.secupay.plugin import SecupayPlugin
from plugins.secupay.sandbox.state import SMALL_CONTRACT
from shop.payments.answers import UNREADABLE
from shop.payments.contract import PluginRuntime, ProviderError, StartContext

from .conftest import SB, make_order, make_payment

pytestmark = pytest.mark.anyio


@pytest.fixture
def small(http, settings):
    """A merchant whose contract offers cards and prepayment only."""
    runtime = PluginRuntime(http=http, public_url="http://shop.test", sandbox_url=SB)
    return SecupayPlugin(replace(settings, contract_id=SMALL_CONTRACT), runtime)


async def test_the_checkout_lists_only_what_the_contract_offers(small, sandbox):
    options = await small.options(make_order())
    assert [o.option_id for o in options] == ["general", "creditcard", "prepaid"]
    assert options[0].detail == "Credit card, Prepayment (bank transfer)"
    probes = len(sandbox.stx)
    await small.options(make_order())
    assert len(sandbox.stx) == probes == 1  # learnt once, then remembered


async def test_every_new_payment_teaches_the_methods_again(small, sandbox):
    await small.start(make_payment(option="creditcard"), StartContext())
    assert small.contract_methods.cached() == ("creditcard", "prepaid")
    await small.options(make_order())
    assert len(sandbox.stx) == 1  # no probe: the payment's own links were enough


async def test_a_method_the_contract_lacks_is_refused_not_sent_to_the_general_page(small):
    with pytest.raises(ProviderError) as caught:
        await small.start(make_payment(option="invoice"), StartContext())
    assert "Invoice cannot be paid with secupay" in caught.value.message


async def test_secupay_unreachable_leaves_only_the_general_page(plugin, monkeypatch):
    from shop.payments.contract import ProviderUnavailable

    async def down(body):
        raise ProviderUnavailable("down")

    monkeypatch.setattr(plugin.client, "create_smart_transaction", down)
    assert [o.option_id for o in await plugin.options(make_order())] == ["general"]


@pytest.mark.parametrize("answer", [{"status": "created"}, {"id": 42}, {"id": "STX_1", "payment_links": ["x"]},
                                    "<html>"])
async def test_an_answer_of_another_shape_shows_secupay_unavailable_and_fails_the_start(plugin, monkeypatch,
                                                                                        caplog, answer):
    async def odd(body):
        return answer

    monkeypatch.setattr(plugin.client, "create_smart_transaction", odd)
    with caplog.at_level(logging.WARNING, logger="shop.payments.answers"):
        options = await plugin.options(make_order())
    assert [(o.option_id, o.unavailable) for o in options] == [("general", UNREADABLE % {"provider": "secupay"})]
    assert "secupay answered the new payment in an unexpected shape" in caplog.text
    with pytest.raises(ProviderError) as caught:  # the core keeps this on the payment's timeline
        await plugin.start(make_payment(), StartContext())
    assert caught.value.code == "unexpected_answer"


async def test_checkouts_arriving_together_make_one_probe(small, sandbox, monkeypatch):
    import asyncio

    real = small.client.create_smart_transaction

    async def over_the_network(body):  # secupay takes a moment: the checkouts overlap
        await asyncio.sleep(0.02)
        return await real(body)

    monkeypatch.setattr(small.client, "create_smart_transaction", over_the_network)
    await asyncio.gather(*(small.options(make_order()) for _ in range(5)))
    assert len(sandbox.stx) == 1

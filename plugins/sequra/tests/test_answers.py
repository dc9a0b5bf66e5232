"""SeQura answers in a shape the shop does not know: logged, and the option shown unavailable
with its reason instead of vanishing from the checkout."""

from __future__ import annotations

import logging

import httpx
import pytest

from plugins.sequra.offers import TERMS_UNREADABLE
from shop.payments.answers import UnexpectedAnswer

from .conftest import make_order

pytestmark = pytest.mark.anyio


def answering(world, path_end: str, body) -> None:
    """SeQura answers ``body`` (200, JSON) to the calls whose path ends with ``path_end``."""
    client = world.plugin.client
    real = client._call

    async def call(method, url, **kwargs):
        if url.endswith(path_end):
            return httpx.Response(200, json=body, request=httpx.Request(method, url))
        return await real(method, url, **kwargs)

    client._call = call


@pytest.mark.parametrize("body", [
    {"pp3": {"instalment_count": 3}},  # a plan object where a list of plans is expected
    {"pp3": [{"instalment_count": 3, "instalment_total": 5300}]},  # amounts as bare numbers
    ["pp3"],
])
async def test_credit_agreements_of_another_shape_make_credit_unavailable_with_a_reason(world, body, caplog):
    answering(world, "/credit_agreements", body)
    with caplog.at_level(logging.WARNING, logger="shop.payments.answers"):
        options = {o.option_id: o for o in await world.plugin.options(make_order())}
    assert set(options) == {"i1", "sp1", "pp3"}  # nothing vanished
    assert options["i1"].unavailable == ""  # pay later needs no credit terms
    assert options["pp3"].unavailable == TERMS_UNREADABLE and options["sp1"].unavailable == TERMS_UNREADABLE
    assert "SeQura answered its credit agreements in an unexpected shape" in caplog.text


async def test_payment_methods_of_another_shape_show_sequra_unavailable(world, caplog):
    answering(world, "/payment_methods", {"payment_options": [{"methods": [{"title": "no product code"}]}]})
    with caplog.at_level(logging.WARNING, logger="shop.payments.answers"):
        options = await world.plugin.options(make_order())
    assert len(options) == 1 and "SeQura's answer could not be read" in options[0].unavailable
    assert "payment_options.0.methods.0.product" in caplog.text


async def test_a_body_that_is_not_json_is_a_shape_error_too(world):
    client = world.plugin.client
    real = client._call

    async def call(method, url, **kwargs):
        if url.endswith("/payment_methods"):
            return httpx.Response(200, text="<html>maintenance</html>", request=httpx.Request(method, url))
        return await real(method, url, **kwargs)

    client._call = call
    with pytest.raises(UnexpectedAnswer) as caught:
        await client.merchant_payment_methods()
    assert caught.value.code == "unexpected_answer"


async def test_methods_outside_their_dates_are_not_offered(world):
    from datetime import UTC, datetime

    from plugins.sequra.answers import PaymentMethods
    from plugins.sequra.offers import payment_options
    from shop.money import Money

    methods = PaymentMethods.model_validate({"payment_options": [{"title": "Paga Después", "methods": [
        {"product": "i1", "starts_at": "2026-01-01T00:00:00Z", "ends_at": "2026-02-01T00:00:00Z"}]}]})
    during = payment_options("sequra", "SeQura", Money(1000), methods, None, datetime(2026, 1, 15, tzinfo=UTC))
    after = payment_options("sequra", "SeQura", Money(1000), methods, None, datetime(2026, 2, 1, tzinfo=UTC))
    assert [o.option_id for o in during] == ["i1"] and after == []

"""The bank's answers are read into a validated model: another shape is one clear ProviderError."""

from __future__ import annotations

import httpx
import pytest

from plugins.banktransfer.client import BankClient
from shop.money import Money
from shop.payments.answers import UnexpectedAnswer

pytestmark = pytest.mark.anyio


def bank_answering(body) -> BankClient:
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=body))
    return BankClient(httpx.AsyncClient(transport=transport), "http://bank.test", "key")


async def test_an_expected_credit_is_read_with_its_fields():
    credit = await bank_answering({"id": "ec_1", "status": "credited", "received": 1945, "currency": "EUR",
                                   "iban": "DE00", "created_at": "2026-12-01T00:00:00Z"}).expected_credit("ec_1")
    assert (credit.id, credit.status, credit.received, credit.currency) == ("ec_1", "credited", 1945, "EUR")


@pytest.mark.parametrize("body", [{"status": "credited"}, {"id": "ec_1", "status": 7}, ["ec_1"],
                                  {"id": "ec_1", "status": "credited", "received": "a lot"}])
async def test_an_answer_of_another_shape_is_an_unexpected_answer(body):
    with pytest.raises(UnexpectedAnswer) as raised:
        await bank_answering(body).expect_credit(reference="CW-1", amount=Money(1945, "EUR"),
                                                 notify_url="http://shop.test/cb", iban="DE00")
    assert "The bank answered the new expected credit in a shape the shop does not know" in raised.value.message

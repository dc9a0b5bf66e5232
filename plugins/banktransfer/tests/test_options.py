import datetime as dt
from decimal import Decimal

import pytest

from plugins.banktransfer.plugin import BankTransferPlugin
from plugins.banktransfer.settings import BankTransferSettings
from shop.money import Money
from shop.payments.contract import Address, Customer, LineKind, OrderLine, OrderSnapshot, PluginRuntime

pytestmark = pytest.mark.anyio


def order_in(currency: str) -> OrderSnapshot:
    address = Address("Ada", "Lovelace", "Calle Mayor 1", "28013", "Madrid", "ES")
    line = OrderLine(LineKind.PRODUCT, "MUG", "Mug", 1, Money(1800, currency), Decimal("19"))
    return OrderSnapshot("CW-1", (line,), Customer("ada@example.com", "Ada", "Lovelace"), address, address, "h",
                         dt.datetime(2026, 12, 1, tzinfo=dt.UTC))


async def test_a_sepa_transfer_is_offered_in_euro_and_disabled_with_the_reason_otherwise():
    plugin = BankTransferPlugin(BankTransferSettings(), PluginRuntime(http=None, public_url="", sandbox_url=""))
    (euro,) = await plugin.options(order_in("EUR"))
    assert not euro.unavailable
    (krona,) = await plugin.options(order_in("SEK"))
    assert krona.unavailable == "Bank transfer takes payments in euro only."

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
from decimal import Decimal

import pytest

from shop.money import Money
from shop.payments.contract import (
    Address,
    Customer,
    LineKind,
    OrderLine,
    OrderSnapshot,
    PaymentAttempt,
    PaymentStatus,
    PaymentUrls,
)

from .fakeshop import World

SANDBOX_OPTIONS = {"review_delay": 0.05, "slow_seconds": 0.05, "event_backoff": 0.01}


@pytest.fixture
def anyio_backend():
    return "asyncio"


def make_order(number: str = "1042", *, lines=None, given="Fulano", surname="De Tal",
               email="test@sequra.es", country="ES") -> OrderSnapshot:
    lines = lines if lines is not None else (
        OrderLine(LineKind.PRODUCT, "SKU1", "Shirt", 2, Money(5000), Decimal("21")),
        OrderLine(LineKind.SHIPPING, "std", "Standard", 1, Money(450), Decimal("21")),
    )
    address = Address(given, surname, "Carrer d'Alí Bei, 7", "08010", "Barcelona", country, phone="666666666")
    return OrderSnapshot(number, tuple(lines), Customer(email, given, surname, "666666666", "es"), address, address,
                         "cart-hash-77", dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC))


def make_payment(order: OrderSnapshot | None = None, *, id: int = 7, option: str = "i1", token: str = "tok7",
                 **kw) -> PaymentAttempt:
    order = order or make_order()
    urls = PaymentUrls(f"http://shop.test/pay/sequra/cb/{token}", f"http://shop.test/pay/sequra/return/{token}")
    return PaymentAttempt(id, order, order.total, option, PaymentStatus.CREATED, urls, **kw)


@pytest.fixture
async def world(tmp_path):
    """The whole store in-process with SeQura and its sandbox (quick review and retries)."""
    async with World.open(tmp_path, SANDBOX_OPTIONS) as w:
        yield w


@pytest.fixture
async def world_with(tmp_path):
    """Another store, set up through SeQura's settings (env ``SEQURA_<FIELD>``)."""
    numbers = itertools.count(1)
    async with contextlib.AsyncExitStack() as stack:
        async def make(**env: str) -> World:
            where = tmp_path / f"store-{next(numbers)}"
            where.mkdir()
            return await stack.enter_async_context(World.open(where, SANDBOX_OPTIONS, **env))

        yield make

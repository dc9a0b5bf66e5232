from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from plugins.seqr.client import Principal, SeqrClient
from plugins.seqr.sandbox import create_sandbox
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

SANDBOX = "http://sandbox.test"
ENDPOINT = f"{SANDBOX}/soap/merchant/cashregister-2"
TERMINAL = Principal("public_test_shop_terminal", "12345678")
REPO_ROOT = Path(__file__).resolve().parents[3]
# SEQR's own published WSDL: present beside the repository (as in CI), never copied into it.
SEQR_WSDL = REPO_ROOT / ".." / "shared" / "specs" / "seqr" / "ERSWSExternalClientService.wsdl"


@pytest.fixture
def anyio_backend():
    return "asyncio"


class Shop:
    """A stand-in for the shop's side of the wire: records what SEQR's sandbox sends it."""

    def __init__(self) -> None:
        self.received: list[httpx.Request] = []
        self.status = 200
        self.statuses: list[int] = []  # answers to give first, one per request
        self.create_purchase_answer: dict = {"invoiceReferenceId": "0"}

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.received.append(request)
        if request.url.path.endswith("createPurchase"):
            return httpx.Response(200, json=self.create_purchase_answer)
        return httpx.Response(self.statuses.pop(0) if self.statuses else self.status, text="ok")


@pytest.fixture
def shop():
    return Shop()


@pytest.fixture
async def app(shop):
    outbound = httpx.AsyncClient(transport=httpx.MockTransport(shop.handler))
    app = create_sandbox(outbound)
    yield app
    await app.state.sandbox.aclose()
    await outbound.aclose()


@pytest.fixture
def sb(app):
    return app.state.sandbox


@pytest.fixture
async def http(app):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=SANDBOX) as client:
        yield client


@pytest.fixture
def client(http):
    return SeqrClient(http, ENDPOINT, TERMINAL, reseller=Principal("public_test_shop", "1234", "RESELLERUSER", "9900"))


def make_order(number: str = "1001", currency: str = "EUR") -> OrderSnapshot:
    address = Address("Sven", "Svensson", "Drottninggatan 1", "11151", "Stockholm", "SE")
    return OrderSnapshot(
        number=number,
        lines=(
            OrderLine(LineKind.PRODUCT, "MUG-1", "Enamel mug", 2, Money(1250, currency), Decimal("25")),
            OrderLine(LineKind.SHIPPING, "shipping", "Shipping", 1, Money(490, currency), Decimal("25")),
            OrderLine(LineKind.DISCOUNT, "WELCOME", "Welcome discount", 1, Money(-200, currency), Decimal("25")),
        ),
        customer=Customer("sven@example.com", "Sven", "Svensson"),
        delivery_address=address,
        invoice_address=address,
        cart_hash="abc",
        created_at=datetime(2026, 11, 23, tzinfo=UTC),
    )


def make_payment(order: OrderSnapshot | None = None, **changes) -> PaymentAttempt:
    order = order or make_order()
    fields = dict(
        id=7, order=order, amount=order.total, option="seqr", status=PaymentStatus.CREATED,
        urls=PaymentUrls(callback="http://shop.test/pay/seqr/cb/tok123",
                         return_base="http://shop.test/pay/seqr/return/tok123"),
    )
    fields.update(changes)
    return PaymentAttempt(**fields)

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import httpx
import pytest

from plugins.secupay.client import SecupayClient
from plugins.secupay.plugin import SecupayPlugin
from plugins.secupay.sandbox import create_sandbox
from plugins.secupay.settings import EXAMPLE_CLIENT_ID, EXAMPLE_CLIENT_SECRET, SecupaySettings
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
    PluginRuntime,
)

SB = "http://sandbox.test"


@pytest.fixture
def anyio_backend():
    return "asyncio"


class ShopInbox:
    """Plays the shop's push endpoint: records every push, answers what the test sets."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.answers: list[int] = []  # status per call; 200 once exhausted

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        status = self.answers.pop(0) if self.answers else 200
        return httpx.Response(status, text="ok")


@pytest.fixture
def inbox():
    return ShopInbox()


@pytest.fixture
def app(inbox):
    outbound = httpx.AsyncClient(transport=httpx.MockTransport(inbox.handler))
    return create_sandbox(outbound, retry_delays=(0.01, 0.02, 0.03), late_delay=0.05, slow_delay=0.05)


@pytest.fixture
def sandbox(app):
    return app.state.sandbox


@pytest.fixture
async def http(app):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=SB) as client:
        yield client


@pytest.fixture
def client(http):
    return SecupayClient(http, base_url=SB, client_id=EXAMPLE_CLIENT_ID, client_secret=EXAMPLE_CLIENT_SECRET)


@pytest.fixture
def settings():
    return SecupaySettings(base_url=SB)


@pytest.fixture
def plugin(http, settings):
    return SecupayPlugin(settings, PluginRuntime(http=http, public_url="http://shop.test", sandbox_url=SB))


def make_order(*, lines=None, delivery=None, currency="EUR", language="de") -> OrderSnapshot:
    def eur(minor):
        return Money(minor, currency)

    lines = lines or (
        OrderLine(LineKind.PRODUCT, "8050", "ACME ball pen Modern Line 8050", 2, eur(1595), Decimal("19")),
        OrderLine(LineKind.PRODUCT, "8051", "ACME pen case Modern Line", 1, eur(1795), Decimal("19")),
        OrderLine(LineKind.SHIPPING, "shipping", "Standard delivery", 1, eur(350), Decimal("19")),
        OrderLine(LineKind.DISCOUNT, "WELCOME5", "Coupon €5.00", 1, eur(-500), Decimal("19")),
    )
    invoice = Address("Max", "Mustermann", "Musterstr. 11", "09123", "Musterstadt", "DE", line2="App. 302",
                      phone="+49 555 5555555")
    return OrderSnapshot(
        number="ORD-1001", lines=tuple(lines),
        customer=Customer("max@example.org", "Max", "Mustermann", phone="+49 555 5555555", language=language,
                          date_of_birth="1965-12-31"),
        delivery_address=delivery or invoice, invoice_address=invoice, cart_hash="abc",
        created_at=datetime(2026, 11, 23, tzinfo=UTC),
    )


def make_payment(order=None, *, option="general", reference=None, data=None, amount=None) -> PaymentAttempt:
    order = order or make_order()
    return PaymentAttempt(
        id=1, order=order, amount=amount or order.total, option=option, status=PaymentStatus.CREATED,
        urls=PaymentUrls(callback="http://shop.test/pay/secupay/cb/TOKEN",
                         return_base="http://shop.test/pay/secupay/return/TOKEN"),
        reference=reference, data=data or {},
    )


def started_payment(payment: PaymentAttempt, started) -> PaymentAttempt:
    from dataclasses import replace

    return replace(payment, reference=started.reference, data=started.data, status=PaymentStatus.PENDING)


def example_body(**changes) -> dict:
    """A valid create request; tests change one thing at a time."""
    body = {
        "contract": {"id": "GCR_KTSST836QYITQJM1JGYIZ4F4OLKI04"},
        "intent": "sale",
        "customer": {"contact": {
            "forename": "Max", "surname": "Mustermann", "email": "max@example.org",
            "address": {"street": "Musterstr.", "street_number": "11", "postal_code": "09123",
                        "city": "Musterstadt", "country": "DE"}}},
        "basket": {"products": [
            {"id": 1, "desc": "Ball pen", "priceOne": 1595, "tax": 19, "quantity": 2},
            {"id": 2, "item_type": "coupon", "desc": "Voucher", "priceOne": 500, "tax": 19, "quantity": 1},
        ]},
        "basket_info": {"sum": 2690, "currency": "EUR"},
        "application_context": {"return_urls": {
            "url_success": "http://shop.test/s", "url_error": "http://shop.test/e",
            "url_abort": "http://shop.test/a", "url_push": "http://shop.test/cb"}},
        "payment_context": {"auto_capture": True},
    }
    body.update(changes)
    return body

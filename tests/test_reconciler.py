from datetime import timedelta

import pytest
from sqlmodel import select

from shop.models import Order, Payment, Product, utcnow

from .rows import change

pytestmark = pytest.mark.anyio


def one(app, model, **where):
    with app.state.db() as session:
        query = select(model)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        return session.exec(query).one()




async def test_an_unpaid_order_expires_and_gives_its_stock_back(app, shopper):
    before = one(app, Product, sku="LAMP-DESK").stock
    await shopper.add("LAMP-DESK", 2)
    await shopper.checkout("banktransfer:banktransfer")
    order = one(app, Order)
    assert one(app, Product, sku="LAMP-DESK").stock == before - 2  # held for the order
    assert (await app.state.reconciler.run_once())["expired"] == 0
    change(app, Order, order.id, expires_at=utcnow() - timedelta(seconds=1))
    assert (await app.state.reconciler.run_once())["expired"] == 1
    assert one(app, Order).status == "expired"
    assert one(app, Payment).status == "expired"
    assert one(app, Product, sku="LAMP-DESK").stock == before
    assert (await app.state.reconciler.run_once())["expired"] == 0  # once only


async def test_a_stale_pending_payment_is_read_back_from_the_provider(app, shopper):
    await shopper.add("LAMP-DESK")
    await shopper.checkout("banktransfer:banktransfer")
    payment = one(app, Payment)
    bank = app.state.sandboxes["banktransfer"].state.sandbox
    bank.webhook_mode = "lost"  # the callback never arrives
    expected = bank.expected[payment.reference]
    bank.book(expected, expected.amount, "Ada")
    assert (await app.state.reconciler.run_once())["read"] == 0  # not stale yet
    stale = utcnow() - timedelta(seconds=app.state.settings.reconcile_after_seconds + 1)
    change(app, Payment, payment.id, status_changed_at=stale, last_fetched_at=stale)
    assert (await app.state.reconciler.run_once())["read"] == 1
    assert one(app, Payment).status == "paid"
    assert one(app, Order).status == "paid"

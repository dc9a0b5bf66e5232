"""Plugins never write order or payment tables themselves: orders they take outside the
checkout (SEQR Instant Checkout, SeQura's phone orders) go through the core's PluginServices,
and the write guard the contract kit runs under catches a plugin that does it anyway."""

from __future__ import annotations

import types

import pytest
from sqlmodel import select

from plugins.seqr.instant import issue_token
from shop.models import InstantPurchase, Order, Product
from shop.testing.shopper import Shopper, make_settings, running_app
from shop.testing.writeguard import plugin_writes

pytestmark = pytest.mark.anyio

PHONE_ORDER = {"given_names": "Fulano", "surname": "De Tal", "email": "fulano@example.com", "phone": "666 666 666",
               "line1": "Calle Mayor 1", "postal_code": "28013", "city": "Madrid", "country_code": "ES",
               "qty:LAMP-DESK": "1", "product": "i1", "channel": "phone"}


@pytest.fixture
async def store(tmp_path):
    async with running_app(make_settings(tmp_path), plugin_ids=["seqr", "sequra"]) as app:
        shopper = Shopper(app)
        try:
            yield app, shopper
        finally:
            await shopper.aclose()


def _read(app, read):
    with app.state.db() as session:
        return read(session)


async def test_orders_taken_by_plugins_are_placed_by_the_core(store):
    app, shopper = store
    pen = await app.state.db.run(_read, app, lambda s: s.exec(select(Product).where(Product.sku == "PEN-BLUE")).one())
    seqr = app.state.plugins["seqr"]
    token = issue_token(seqr.instant_secret(), seqr.settings.webshop_id, pen.id)
    with plugin_writes(app.state.engine) as written_by_plugins:
        purchase = await shopper.http.post("/pay/seqr/createPurchase", json={
            "purchaseToken": token, "clientName": "John Smith", "street": "Streetname 1", "city": "Stockholm",
            "country": "Sweden", "zip": "11122", "email": "john@example.com", "msisdn": "46700123456"})
        assert "invoiceReferenceId" in purchase.json(), purchase.text
        await shopper.login_admin()
        phone = await shopper.post("/admin/sequra/phone-order", PHONE_ORDER)
        assert phone.status_code == 303, phone.text[:500]
    assert written_by_plugins == []

    orders = await app.state.db.run(_read, app, lambda s: s.exec(select(Order).order_by(Order.id)).all())
    instant, by_phone = orders
    # The checkout's rules: numbered in sequence, stock held, an expiry; the Instant Checkout
    # order's shorter one, and its purchase code kept for the replay limit.
    assert [o.number[-5:] for o in orders] == ["00001", "00002"]
    assert all(o.stock_held for o in orders)
    left = await app.state.db.run(_read, app, lambda s: s.get(Product, pen.id).stock)
    assert left == pen.stock - 1
    assert (instant.expires_at - instant.created_at).total_seconds() <= seqr.settings.instant_order_expiry_seconds + 1
    assert by_phone.expires_at - by_phone.created_at > instant.expires_at - instant.created_at
    kept = await app.state.db.run(_read, app, lambda s: s.exec(select(InstantPurchase)).all())
    assert [k.order_id for k in kept] == [instant.id]


def _plugin_module() -> types.ModuleType:
    """A module under plugins. that writes an order itself, as a plugin must not."""
    module = types.ModuleType("plugins.rogue.plugin")
    exec(
        "def mark_paid(app, order_id):\n"
        "    from shop.models import Order\n"
        "    with app.state.db() as session:\n"
        "        order = session.get(Order, order_id)\n"
        "        order.status = 'paid'\n"
        "        session.add(order)\n"
        "        session.commit()\n",
        module.__dict__)
    return module


async def test_the_guard_catches_a_plugin_writing_an_order(store):
    app, shopper = store
    await shopper.login_admin()
    assert (await shopper.post("/admin/sequra/phone-order", PHONE_ORDER)).status_code == 303
    order_id = await app.state.db.run(_read, app, lambda s: s.exec(select(Order.id)).first())
    with plugin_writes(app.state.engine) as written_by_plugins:
        await app.state.db.write(_plugin_module().mark_paid, app, order_id)
    assert written_by_plugins and written_by_plugins[0].startswith('UPDATE "order"'), written_by_plugins
    assert written_by_plugins[0].endswith("by plugins.rogue.plugin.mark_paid")

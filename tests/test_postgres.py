"""The migrations and a whole checkout against a real PostgreSQL server this test starts."""

import asyncio

import pytest
from sqlmodel import SQLModel, select

from shop.cli import upgrade
from shop.models import Order, Payment
from shop.testing.shopper import Shopper, make_settings, running_app

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


async def test_migrations_and_a_checkout_on_postgres(postgres, tmp_path, monkeypatch):
    settings = make_settings(tmp_path, DATABASE_URL=postgres.url)
    upgrade(settings)
    monkeypatch.setattr(SQLModel.metadata, "create_all", lambda *a, **k: None)  # the migrations made them
    async with running_app(settings, plugin_ids=["banktransfer"]) as app:
        shopper = Shopper(app)
        try:
            await shopper.add("TEA-SENCHA", 3)
            order_id = await shopper.order_id_from(await shopper.checkout("banktransfer:banktransfer"))
            bank = app.state.sandboxes["banktransfer"].state.sandbox
            (expected,) = bank.expected.values()
            bank.book(expected, expected.amount, "Ada")
            for _ in range(100):
                status = (await shopper.get(f"/orders/{order_id}/status")).headers["x-status"]
                if status == "paid:paid":
                    break
                await asyncio.sleep(0.02)
            assert status == "paid:paid"
            with app.state.db() as session:
                assert session.exec(select(Order)).one().status == "paid"
                assert session.exec(select(Payment)).one().status == "paid"
            assert app.state.engine.dialect.name == "postgresql"
        finally:
            await shopper.aclose()

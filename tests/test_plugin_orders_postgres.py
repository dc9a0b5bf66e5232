"""Orders a plugin takes outside the checkout are placed by the core with the checkout's rules,
across OS processes on PostgreSQL: SEQR Instant Checkout purchases arriving at two store
processes at once sell the shelf and no more, and get distinct numbers in sequence."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from sqlalchemy import update
from sqlmodel import select

from plugins.seqr.instant import issue_token
from shop import db
from shop.models import InstantPurchase, Order, Product
from shop.testing.server import ServerProcess
from tests.postgres_databases import new_database

pytestmark = pytest.mark.anyio
SKU = "PEN-BLUE"
SHELF = 3
BUYERS = 8
PAYER = {"clientName": "John Smith", "street": "Streetname 1", "city": "Stockholm", "country": "Sweden",
         "zip": "11122", "email": "john@example.com", "msisdn": "46700123456"}


@pytest.mark.slow
async def test_instant_checkout_at_two_store_processes_sells_the_shelf_once(postgres, tmp_path):
    url = new_database(postgres)
    # The replay limit is not what is under test here: every buyer scans the same printed code.
    env = {"DATABASE_URL": url, "SEQR_INSTANT_UNPAID_ORDERS_PER_HOUR": "100"}
    first = ServerProcess(tmp_path, env)
    first.prepare()
    engine = db.make_engine(url)
    with engine.begin() as connection:
        connection.execute(update(Product).where(Product.sku == SKU).values(stock=SHELF))
    with db.session(engine) as session:
        pen_id = session.exec(select(Product.id).where(Product.sku == SKU)).one()
    token = issue_token(first.env["SECRET_KEY"], "cartwheel", pen_id)
    servers = [first.start()]
    try:
        servers.append(ServerProcess(tmp_path, env).start())
        async with httpx.AsyncClient(timeout=60) as http:
            answers = await asyncio.gather(*(
                http.post(f"{servers[n % 2].url}/pay/seqr/createPurchase", json={"purchaseToken": token, **PAYER})
                for n in range(BUYERS)))
        bodies = [a.json() for a in answers]
        invoiced = [b for b in bodies if "invoiceReferenceId" in b]
        refused = [b for b in bodies if b.get("errorCode") == "INVOICING_ERROR"]
        assert (len(invoiced), len(refused)) == (SHELF, BUYERS - SHELF), (
            bodies, "\n".join(server.log()[-3000:] for server in servers))

        with db.session(engine) as session:
            assert session.exec(select(Product.stock).where(Product.id == pen_id)).one() == 0
            orders = session.exec(select(Order).order_by(Order.number)).all()
            kept = session.exec(select(InstantPurchase)).all()
        # The refused took nothing: no order, no number (a rolled-back number is given back).
        assert len(orders) == SHELF and all(o.stock_held for o in orders)
        assert [int(o.number[-5:]) for o in orders] == list(range(1, SHELF + 1))
        assert {k.order_id for k in kept} == {o.id for o in orders}
    finally:
        for server in servers:
            server.stop()
        engine.dispose()

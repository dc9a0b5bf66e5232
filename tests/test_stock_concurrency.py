"""Stock cannot be oversold, however many workers sell from the shelf: every move is one
conditional UPDATE, an order takes all of its items or none, and an order's stock is given back
(or taken again) once even when several processes try at the same moment."""

import asyncio
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import event, update
from sqlmodel import select

from shop import db, stock
from shop.checkout import place_order
from shop.models import Order, OrderLine, Payment, Product
from shop.money import Money
from shop.payments.contract import Observation, PaymentStatus
from shop.testing.server import ServerProcess
from shop.testing.shopper import CSRF, CUSTOMER, Shopper, make_settings, running_app
from tests.buyers import DETAILS, buy_in_threads
from tests.postgres_databases import new_database
from tests.processes import run_together

pytestmark = pytest.mark.anyio
BUYERS = 20
SHELF = 3
SKU = "MUG-ENAMEL"
S = PaymentStatus


def stock_of(engine, sku: str = SKU) -> int:
    with db.session(engine) as session:
        return session.exec(select(Product.stock).where(Product.sku == sku)).one()


def set_stock(engine, sku: str, value: int) -> None:
    with engine.begin() as connection:
        connection.execute(update(Product).where(Product.sku == sku).values(stock=value))


# --------------------------------------------------------------------------- one order, all or nothing

async def test_an_order_short_of_one_item_takes_none_and_leaves_no_order(app):
    engine = app.state.engine
    set_stock(engine, "PEN-BLUE", 3)
    tea_before = stock_of(engine, "TEA-SENCHA")
    with db.session(engine) as session:
        tea, pen = (session.exec(select(Product).where(Product.sku == sku)).one() for sku in ("TEA-SENCHA", "PEN-BLUE"))
        pen_name = pen.name
        with pytest.raises(ValueError) as refused:
            place_order(session, app.state.settings, [(tea, 2), (pen, 5)], DETAILS)
        session.rollback()  # as every caller does when the order is refused
    assert str(refused.value) == f"Only 3 of {pen_name} left in stock: please change your cart."
    assert stock_of(engine, "TEA-SENCHA") == tea_before and stock_of(engine, "PEN-BLUE") == 3
    with db.session(engine) as session:
        assert session.exec(select(Order)).all() == []


# --------------------------------------------------------------------------- many buyers at once

@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.slow)])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/shop.db"
    return new_database(request.getfixturevalue("postgres"))


async def test_twenty_buyers_in_two_processes_of_the_last_three_mugs_get_three_orders(database_url, tmp_path):
    settings = make_settings(tmp_path, DATABASE_URL=database_url)
    async with running_app(settings, plugin_ids=["banktransfer"]) as app:
        engine = app.state.engine
        set_stock(engine, SKU, SHELF)
        mug = one_product(engine, SKU)

        outcomes = run_together(buy_in_threads, [(database_url, [mug.id] * (BUYERS // 2), 1)] * 2)

        numbers = [o for outcomes_of_one in outcomes for o in outcomes_of_one if o.startswith("CW")]
        refusals = [o for outcomes_of_one in outcomes for o in outcomes_of_one if not o.startswith("CW")]
        assert len(numbers) == len(set(numbers)) == SHELF
        assert refusals == [f"Only 0 of {mug.name} left in stock: please change your cart."] * (BUYERS - SHELF)
        assert stock_of(engine) == 0
        assert held_for_orders(engine) == SHELF


def one_product(engine, sku: str) -> Product:
    with db.session(engine) as session:
        return session.exec(select(Product).where(Product.sku == sku)).one()


def held_for_orders(engine, sku: str = SKU) -> int:
    with db.session(engine) as session:
        return sum(session.exec(select(OrderLine.quantity).join(Product).where(Product.sku == sku)))


async def shopper_with_a_mug(base_url: str) -> tuple[httpx.AsyncClient, str]:
    """A shopper whose cart holds one mug; returns its client and its CSRF token."""
    http = httpx.AsyncClient(base_url=base_url, timeout=60)
    token = CSRF.search((await http.get("/")).text).group(1)
    added = await http.post("/cart/add", data={"sku": SKU, "quantity": "1", "csrf_token": token})
    assert added.status_code in (200, 303), added.text
    return http, token


async def check_out(http: httpx.AsyncClient, token: str) -> httpx.Response:
    return await http.post("/checkout", data={**CUSTOMER, "method": "banktransfer:banktransfer", "csrf_token": token})


@pytest.mark.slow
async def test_twenty_shoppers_at_two_store_processes_on_postgres_get_the_last_three_mugs(postgres, tmp_path):
    url = new_database(postgres)
    first = ServerProcess(tmp_path, {"DATABASE_URL": url})
    first.prepare()
    engine = db.make_engine(url)
    set_stock(engine, SKU, SHELF)
    servers = [first.start()]
    try:
        servers.append(ServerProcess(tmp_path, {"DATABASE_URL": url}).start())
        # The carts one after the other (only the checkout is under test), then every checkout at once.
        shoppers = [await shopper_with_a_mug(servers[n % 2].url) for n in range(BUYERS)]
        try:
            answers = await asyncio.gather(*(check_out(http, token) for http, token in shoppers))
        finally:
            for http, _ in shoppers:
                await http.aclose()

        placed = [a for a in answers if a.status_code == 303 and a.headers["location"].startswith("/orders/")]
        refused = [a for a in answers if a.status_code == 409]
        assert (len(placed), len(refused)) == (SHELF, BUYERS - SHELF), (
            [a.status_code for a in answers], "\n".join(server.log()[-3000:] for server in servers))
        assert all("left in stock: please change your cart." in a.text for a in refused)
        assert stock_of(engine) == 0
        assert held_for_orders(engine) == SHELF
    finally:
        for server in servers:
            server.stop()
        engine.dispose()


# --------------------------------------------------------------------------- give back once, take again once

def _release_then_take(url: str, order_id: int, barrier) -> tuple[int, int]:
    """Give the order's stock back, then take it again, each at the same moment as the other
    processes and each after reading the order as they do; returns the stock seen after each."""
    engine = db.make_engine(url)
    seen = []
    try:
        for move in (stock.release, stock.take):
            with db.session(engine) as session:
                order = session.get(Order, order_id)  # every process has read the same flag
                barrier.wait()
                move(session, order)
                session.commit()
            barrier.wait()  # all committed
            seen.append(stock_of(engine))
    finally:
        engine.dispose()
    return tuple(seen)


@pytest.mark.slow
async def test_an_order_gives_its_stock_back_once_and_takes_it_again_once(postgres, tmp_path):
    settings = make_settings(tmp_path, DATABASE_URL=new_database(postgres))
    async with running_app(settings, plugin_ids=["banktransfer"]) as app:
        shopper = Shopper(app)
        try:
            await shopper.add(SKU, 2)
            assert (await shopper.checkout("banktransfer:banktransfer")).status_code == 303
        finally:
            await shopper.aclose()
        engine = app.state.engine
        with db.session(engine) as session:
            order_id = session.exec(select(Order.id)).one()
        held = stock_of(engine)

        seen = run_together(_release_then_take, [(settings.database_url, order_id)] * 2)

        assert seen == [(held + 2, held)] * 2


# --------------------------------------------------------------------------- a new checkout meets late money

@pytest.mark.slow
async def test_checking_out_again_does_not_cancel_an_order_that_money_just_reached(postgres, tmp_path):
    """The shopper checks out the same cart again: the earlier order, whose attempt had failed,
    is given up. Money for it arrives between the checkout reading it and cancelling it."""
    settings = make_settings(tmp_path, DATABASE_URL=new_database(postgres))
    async with running_app(settings, plugin_ids=["banktransfer"]) as app:
        engine, ledger = app.state.engine, app.state.ledger
        shopper = Shopper(app)
        try:
            await shopper.add(SKU, 1)
            assert (await shopper.checkout("banktransfer:banktransfer")).status_code == 303
            with db.session(engine) as session:
                first = session.exec(select(Payment)).one()
            await ledger.apply(first.id, Observation(S.FAILED, "declined", "declined"))
            before = stock_of(engine)

            def money_arrives_just_before_the_cancel(_conn, _cursor, statement, *_):
                if statement.startswith('UPDATE "order" SET status') and not arrived:
                    arrived.append(True)
                    late = Observation(S.PAID, "credited", "late", amount=Money(first.amount_cents))
                    with ThreadPoolExecutor(1) as other_worker:
                        other_worker.submit(asyncio.run, ledger.apply(first.id, late)).result()

            arrived = []
            event.listen(engine, "before_cursor_execute", money_arrives_just_before_the_cancel)
            try:
                assert (await shopper.checkout("banktransfer:banktransfer")).status_code == 303
            finally:
                event.remove(engine, "before_cursor_execute", money_arrives_just_before_the_cancel)
        finally:
            await shopper.aclose()

        assert arrived
        with db.session(engine) as session:
            earlier = session.get(Order, first.order_id)
            assert (earlier.status, earlier.stock_held) == ("paid", True)
            assert len(session.exec(select(Order)).all()) == 2
        assert stock_of(engine) == before - 1  # the earlier order keeps its mug, the new one takes another

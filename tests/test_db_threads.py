"""The event loop never waits on the database.

Every session runs in the database threads (``Database.run``): a lock held by another
connection stalls only the requests that need the locked data, while /health, the catalog and
the websockets of the same process keep answering. /ready says whether the database answers."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import socket
import sqlite3
import statistics
import time
from collections.abc import Iterator

import httpx
import psycopg
import pytest
from sqlmodel import SQLModel, select
from websockets.asyncio.client import connect

from plugins.seqr.instant import issue_token
from shop.app import create_app
from shop.db import Database, make_engine
from shop.models import Order, Payment, Product
from shop.testing.loopguard import database_calls_on_the_loop
from shop.testing.server import ServerProcess, free_port
from shop.testing.services import PostgresServer
from shop.testing.shopper import CUSTOMER, Shopper, make_settings, running_app

pytestmark = pytest.mark.anyio

HTMX = {"HX-Request": "true"}
HEALTHY_SECONDS = 0.1  # what /health may take while the database is locked
STALLED_SECONDS = 0.5  # no probe of a process whose loop is free takes this long
PROBES = 20  # /health probes, 0.1 s apart, while the lock is held


# --------------------------------------------------------------------------- every page, off the loop


async def test_no_page_runs_a_database_statement_on_the_event_loop(tmp_path):
    async with running_app(make_settings(tmp_path), plugin_ids=["banktransfer", "seqr", "sequra"]) as app:
        shopper = Shopper(app)
        try:
            with database_calls_on_the_loop(app.state.engine) as on_the_loop:
                await _visit_every_page_family(app, shopper)
        finally:
            await shopper.aclose()
    assert not on_the_loop, "database statements ran on the event loop:\n" + "\n".join(on_the_loop)


async def _visit_every_page_family(app, shopper: Shopper) -> None:
    async def ok(response: httpx.Response, status: int = 200) -> httpx.Response:
        assert response.status_code == status, (response.request.url, response.text[:300])
        return response

    # The catalog and the cart, plain and through htmx.
    await ok(await shopper.get("/"))
    await ok(await shopper.get("/products/PEN-BLUE"))
    await ok(await shopper.get("/products/NO-SUCH-THING"), 404)
    await ok(await shopper.add("PEN-BLUE", 2), 303)
    await ok(await shopper.post("/cart/add", {"sku": "MUG-ENAMEL", "quantity": "1"}, headers=HTMX))
    await ok(await shopper.post("/cart/update", {"sku": "MUG-ENAMEL", "quantity": "2"}, headers=HTMX))
    await ok(await shopper.post("/cart/remove", {"sku": "MUG-ENAMEL"}), 303)
    await ok(await shopper.post("/cart/code", {"code": "WELCOME10"}, headers=HTMX))
    await ok(await shopper.post("/cart/code", {"code": "NOT-A-CODE"}, headers=HTMX), 422)
    assert "(2)" in (await ok(await shopper.get("/cart", params={"count": "1"}))).text
    await ok(await shopper.get("/cart"))

    # The checkout, the order page and its status, a payment, the confirmation.
    await ok(await shopper.get("/checkout"))
    await ok(await shopper.post("/checkout", {**CUSTOMER, "email": "not an address", "method": "x:y"}), 422)
    public_id = await shopper.order_id_from(await ok(await shopper.checkout("banktransfer:banktransfer"), 303))
    page = await ok(await shopper.get(f"/orders/{public_id}"))
    number = re.search(r"<h1>Order ([^<]+)</h1>", page.text).group(1)
    await ok(await shopper.get(f"/orders/{public_id}/confirmation"), 404)
    bank = app.state.sandboxes["banktransfer"].state.sandbox
    (expected,) = bank.expected.values()
    bank.book(expected, expected.amount, "Ada")
    for _ in range(200):
        status = (await ok(await shopper.get(f"/orders/{public_id}/status"))).headers["x-status"]
        if status == "paid:paid":
            break
        await asyncio.sleep(0.02)
    assert status == "paid:paid"
    await ok(await shopper.get(f"/orders/{public_id}/confirmation"))
    await ok(await shopper.post(f"/orders/{public_id}/pay", {"method": "banktransfer:banktransfer"}), 303)

    # A return URL with a token nobody has.
    await ok(await shopper.get("/pay/banktransfer/return/no-such-token/done"), 404)

    # SEQR Instant Checkout: the app's createPurchase makes an order of one product.
    pen = await app.state.db.run(_product, app, "PEN-BLUE")
    seqr = app.state.plugins["seqr"]
    token = issue_token(seqr.instant_secret(), seqr.settings.webshop_id, pen.id)
    purchase = await shopper.http.post("/pay/seqr/createPurchase", json={
        "purchaseToken": token, "clientName": "John Smith", "street": "Streetname 1", "city": "Stockholm",
        "country": "Sweden", "zip": "11122", "email": "john@example.com", "msisdn": "46700123456"})
    assert "invoiceReferenceId" in (await ok(purchase)).json()

    # The back office, SeQura's phone orders and the demo page.
    await shopper.login_admin()
    await ok(await shopper.get("/admin/"))
    await ok(await shopper.get("/admin/", params={"status": "paid", "provider": "banktransfer"}))
    await ok(await shopper.get(f"/admin/orders/{number}"))
    await ok(await shopper.get("/admin/outbox"))
    payment_id = await app.state.db.run(_first_payment_id, app, number)
    await ok(await shopper.post(f"/admin/orders/{number}/payments/{payment_id}/cancel", {"confirmed": "yes"}), 303)
    await ok(await shopper.post(f"/admin/orders/{number}/payments/{payment_id}/refund", {"refund_amount": "1", "confirmed": "yes"}), 303)
    await ok(await shopper.get("/admin/sequra/phone-order"))
    phone_order = await shopper.post("/admin/sequra/phone-order", {
        "given_names": "Fulano", "surname": "De Tal", "email": "fulano@example.com", "phone": "666 666 666",
        "line1": "Calle Mayor 1", "postal_code": "28013", "city": "Madrid", "country_code": "ES",
        "qty:LAMP-DESK": "1", "product": "i1", "channel": "phone"})
    status_url = (await ok(phone_order, 303)).headers["location"]
    await ok(await shopper.get(status_url))
    await ok(await shopper.get(f"{status_url}/panel"))
    await ok(await shopper.get("/demo"))
    await ok(await shopper.post("/demo/reset"), 303)
    await ok(await shopper.get("/ready"))

    # The reconciler's pass over the open payments.
    await app.state.reconciler.run_once()


def _product(app, sku: str) -> Product:
    with app.state.db() as session:
        return session.exec(select(Product).where(Product.sku == sku)).one()


def _first_payment_id(app, number: str) -> int:
    with app.state.db() as session:
        return session.exec(select(Payment.id).join(Order, Order.id == Payment.order_id)
                            .where(Order.number == number).order_by(Payment.id)).first()


# --------------------------------------------------------------------------- writers wait their turn


async def test_a_write_that_reads_first_waits_for_another_writer_on_sqlite(tmp_path):
    db = Database(make_engine(f"sqlite:///{tmp_path}/shop.db"))
    SQLModel.metadata.create_all(db.engine)
    with db() as session:
        session.add(Product(sku="PEN-BLUE", name="Pen", price_cents=250, stock=5))
        session.commit()

    def take_one() -> int:
        with db() as session:
            pen = session.exec(select(Product).where(Product.sku == "PEN-BLUE")).one()  # reads, then writes
            pen.stock -= 1
            session.add(pen)
            session.commit()
            return pen.stock

    try:
        with sqlite_write_lock(tmp_path / "shop.db"):
            taking = asyncio.create_task(db.write(take_one))
            await asyncio.sleep(0.3)  # long enough for a transaction that cannot wait to fail
            assert not taking.done(), taking
        assert await taking == 4
    finally:
        db.close()


# --------------------------------------------------------------------------- /ready


async def test_ready_answers_when_the_database_does(app, shopper):
    ready = await shopper.get("/ready")
    assert (ready.status_code, ready.text) == (200, "ready")
    assert (await shopper.get("/health")).text == "ok"


@contextlib.asynccontextmanager
async def store_on(database_url: str, tmp_path):
    """A store whose database may not be there: its lifespan runs, nothing is seeded."""
    app = create_app(make_settings(tmp_path, DATABASE_URL=database_url), plugin_ids=["banktransfer"],
                     in_process=True, run_background=False)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://shop.test") as http:
            yield http


async def test_ready_answers_503_when_nothing_listens_where_the_database_should_be(tmp_path):
    async with store_on(f"postgresql+psycopg://cartwheel@127.0.0.1:{free_port()}/cartwheel", tmp_path) as http:
        ready = await http.get("/ready")
        assert ready.status_code == 503 and ready.text == "database: OperationalError"
        assert (await http.get("/health")).status_code == 200


async def test_ready_answers_503_in_two_seconds_when_the_database_does_not_answer(tmp_path):
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts connections, never says a word
        port = silent.getsockname()[1]
        async with store_on(f"postgresql+psycopg://cartwheel@127.0.0.1:{port}/cartwheel", tmp_path) as http:
            started = time.perf_counter()
            ready = await http.get("/ready")
            took = time.perf_counter() - started
            assert ready.status_code == 503 and ready.text == "database: no answer within 2 s"
            assert 1.9 < took < 3, took
            silent.close()  # the stuck connection attempt fails now: the store shuts down at once


@pytest.mark.slow
async def test_ready_answers_503_once_postgres_stops(tmp_path):
    postgres = PostgresServer().start()
    try:
        async with store_on(postgres.url, tmp_path) as http:
            assert (await http.get("/ready")).status_code == 200
            postgres.stop()
            ready = await http.get("/ready")
            assert ready.status_code == 503 and ready.text.startswith("database: "), ready.text
            assert (await http.get("/health")).status_code == 200
    finally:
        postgres.stop()


# --------------------------------------------------------------------------- a lock held elsewhere


class RemoteShopper(Shopper):
    """The in-process shopper's forms and cookies, against a served store."""

    def __init__(self, url: str) -> None:
        self.app = None
        self.http = httpx.AsyncClient(base_url=url, follow_redirects=False, timeout=30)
        self.token = ""

    def cookie_header(self) -> str:
        return "; ".join(f"{name}={value}" for name, value in self.http.cookies.items())


def serve(tmp_path, **env: str) -> ServerProcess:
    server = ServerProcess(tmp_path, {"RECONCILE_EVERY_SECONDS": "3600", **env})
    server.prepare()
    return server.start()


@pytest.fixture
def sqlite_store(tmp_path):
    server = serve(tmp_path)
    yield server, lambda: sqlite_write_lock(tmp_path / "shop.db")
    server.stop()


@pytest.fixture
def postgres_store(tmp_path, postgres):
    server = serve(tmp_path, DATABASE_URL=postgres.url)
    yield server, lambda: postgres_row_lock(postgres, "PEN-BLUE")
    server.stop()


@contextlib.contextmanager
def sqlite_write_lock(path) -> Iterator[None]:
    """Another connection holds SQLite's write lock: every writer waits for it, readers go on (WAL)."""
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("BEGIN IMMEDIATE")
        yield
        connection.execute("ROLLBACK")
    finally:
        connection.close()


@contextlib.contextmanager
def postgres_row_lock(postgres: PostgresServer, sku: str) -> Iterator[None]:
    """Another connection holds one product's row FOR UPDATE; returns once a store's
    transaction waits for it."""
    url = postgres.url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url) as locker:
        locker.execute("SELECT id FROM product WHERE sku = %s FOR UPDATE", (sku,))
        yield
        locker.rollback()


def postgres_lock_waits(postgres: PostgresServer) -> int:
    """How many transactions wait for a lock right now (another connection: pg_stat_activity
    is read once per transaction)."""
    url = postgres.url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url, autocommit=True) as watcher:
        return watcher.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'").fetchone()[0]


async def wait_until(condition, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the condition did not come true in time"
        await asyncio.sleep(0.02)


async def health_probes(http: httpx.AsyncClient) -> list[float]:
    """How long each of PROBES /health requests took, 0.1 s apart (a second if one got no answer)."""
    took = []
    for _ in range(PROBES):
        started = time.perf_counter()
        try:
            assert (await http.get("/health", timeout=1)).text == "ok"
        except httpx.TimeoutException:
            return [*took, time.perf_counter() - started]  # the process is stalled: no use asking again
        took.append(time.perf_counter() - started)
        await asyncio.sleep(0.1)
    return took


def assert_healthy(took: list[float]) -> None:
    """Within 100 ms as a rule; a busy machine may delay one probe, a stalled loop delays them all
    for as long as the lock is held."""
    assert statistics.median(took) < HEALTHY_SECONDS, f"/health took {sorted(took)} s while the database was locked"
    assert max(took) < STALLED_SECONDS, f"/health took {max(took):.3f} s once while the database was locked"


async def a_shopper_at_the_checkout(url: str, sku: str) -> RemoteShopper:
    shopper = RemoteShopper(url)
    assert (await shopper.add(sku)).status_code == 303
    assert (await shopper.get("/checkout")).status_code == 200
    return shopper


@pytest.mark.parametrize("database", ["sqlite", pytest.param("postgres", marks=pytest.mark.slow)])
async def test_a_lock_held_elsewhere_stalls_only_the_request_that_needs_the_data(database, request):
    server, locked = request.getfixturevalue(f"{database}_store")
    shopper = await a_shopper_at_the_checkout(server.url, "PEN-BLUE")
    probe = httpx.AsyncClient(base_url=server.url, timeout=2)
    checkout = None
    try:
        with locked():
            # Placing the order takes the pen off the shelf: it waits for the lock.
            checkout = asyncio.create_task(
                shopper.post("/checkout", {**CUSTOMER, "method": "banktransfer:banktransfer"}))
            if database == "postgres":
                await wait_until(lambda: postgres_lock_waits(request.getfixturevalue("postgres")) > 0)
            assert_healthy(await health_probes(probe))
            started = time.perf_counter()
            assert (await probe.get("/")).status_code == 200
            assert time.perf_counter() - started < 1, "the catalog needs no lock"
            assert (await probe.get("/ready")).status_code == 200, "a SELECT 1 needs no lock"
            if checkout.done():
                pytest.fail(f"the checkout ended while the lock was held ({checkout.result()}): it must wait for it")
        placed = await asyncio.wait_for(checkout, 30)
        assert placed.status_code == 303 and placed.headers["location"].startswith("/orders/"), placed.text[:300]
    finally:
        if checkout is not None:
            checkout.cancel()
        await probe.aclose()
        await shopper.aclose()


@pytest.mark.slow
async def test_a_payment_reaches_its_websocket_while_another_order_waits_for_a_lock(postgres_store, postgres):
    server, locked = postgres_store
    paying = RemoteShopper(server.url)
    await paying.add("TEA-SENCHA")
    public_id = await paying.order_id_from(await paying.checkout("banktransfer:banktransfer"))
    waiting = await a_shopper_at_the_checkout(server.url, "PEN-BLUE")
    ws_url = f"ws://127.0.0.1:{server.port}/orders/{public_id}/ws"
    try:
        async with connect(ws_url, additional_headers={"Cookie": paying.cookie_header()}, open_timeout=10) as socket_:
            assert json.loads(await socket_.recv())["status"] == "pending:awaiting_payment"
            with locked():
                checkout = asyncio.create_task(
                    waiting.post("/checkout", {**CUSTOMER, "method": "banktransfer:banktransfer"}))
                await wait_until(lambda: postgres_lock_waits(postgres) > 0)
                # The bank books the first order's transfer: its callback, the ledger and the push
                # to the websocket go through while the second order waits for the pen's row.
                # (A stalled store answers not the bank's webhook: the push never comes, the failure.)
                control = await paying.http.get(server.sandbox("banktransfer/"), timeout=2)
                credit_id, amount = re.search(r"name=id value='([^']+)'><input type=hidden name=amount "
                                              r"value='([^']+)'", control.text).groups()
                await paying.http.post(server.sandbox("banktransfer/book"), data={"id": credit_id, "amount": amount},
                                       timeout=2)
                pushed = json.loads(await asyncio.wait_for(socket_.recv(), 10))
                assert pushed["status"] == "paid:paid"
                assert not checkout.done()
            placed = await asyncio.wait_for(checkout, 30)
            assert placed.status_code == 303
    finally:
        await paying.aclose()
        await waiting.aclose()

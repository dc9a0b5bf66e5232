"""The settling where it breaks in real life: on PostgreSQL, and with the store's process killed
after SeQura confirmed and before the store recorded it."""

from __future__ import annotations

import re
import subprocess
import time
from dataclasses import replace
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import create_engine
from sqlmodel import Session, select

from plugins.sequra.settling import ATTENTION, Intent
from plugins.sequra.tests.conftest import SANDBOX_OPTIONS, make_payment
from plugins.sequra.tests.fakeshop import World
from shop.cli import seed, upgrade
from shop.models import Order, Payment, PaymentEvent
from shop.payments.contract import PaymentStatus
from shop.settings import Settings
from shop.testing.server import ROOT, SANDBOXES_SERVING, SHOP, ServerProcess, reserved_port, served_url
from shop.testing.services import PostgresServer
from shop.testing.shopper import CUSTOMER

pytestmark = pytest.mark.slow
CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')


@pytest.fixture
def postgres():
    server = PostgresServer().start()
    yield server
    server.stop()


def wait_for(what, check, seconds: float = 30.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if found := check():
            return found
        time.sleep(0.05)
    raise AssertionError(f"{what}: not within {seconds} s")


@pytest.mark.anyio
async def test_a_failed_confirm_is_retried_and_flagged_once_on_postgres(postgres, tmp_path):
    async with World.open(tmp_path, SANDBOX_OPTIONS, DATABASE_URL=postgres.url) as world:
        assert world.state.engine.dialect.name == "postgresql"
        started = await world.start(make_payment())
        world.sandbox.break_confirm = True
        await world.shopper_completes(started.reference)
        assert world.replies == [200] and world.intent().tries == 1
        world.age(61)
        await world.reconcile()
        world.age(120)
        await world.reconcile()
        with world.state.db() as session:
            order = session.get(Order, world.row().order_id)
        assert order.needs_attention and order.attention_reason == ATTENTION["confirmed"]
        world.sandbox.break_confirm = False
        world.age(300)
        assert (await world.reconcile())["settled"] == 1
        assert world.payment().status is PaymentStatus.PAID


def test_a_store_killed_after_seqUra_confirmed_finishes_it_once_restarted(postgres, tmp_path):
    # The store's port is chosen before it starts: SeQura's sandbox, started first so that it outlives
    # the store, calls only the shop's own address. The sandboxes bind any free port and say which.
    reserved = reserved_port()  # bound until the store starts: no parallel test is handed it
    store = ServerProcess(tmp_path, {"DATABASE_URL": postgres.url, "RECONCILE_EVERY_SECONDS": "1"},
                          port=reserved.getsockname()[1])
    settings = Settings.from_env(store.env)
    upgrade(settings)  # what `shop db upgrade` and `shop seed` do, without two more interpreters
    seed(settings)
    sandbox_log = (tmp_path / "sandboxes.log").open("a")
    # SeQura lives on while the store dies: the sandboxes in a process of their own.
    sandboxes = subprocess.Popen([str(SHOP), "sandboxes", "--port", "0"], env=store.env, cwd=ROOT,
                                 stdout=sandbox_log, stderr=subprocess.STDOUT)
    engine = create_engine(postgres.url)
    store.env["SANDBOX_URL"] = served_url(sandboxes, tmp_path / "sandboxes.log", SANDBOXES_SERVING)
    sequra = f"{store.env['SANDBOX_URL']}/sandbox/sequra"
    try:
        wait_for("the sandboxes", lambda: _answers(f"{store.env['SANDBOX_URL']}/health"))
        reserved.close()
        store.start("--no-sandboxes")
        with httpx.Client(base_url=store.url, timeout=10) as shop, httpx.Client(timeout=10) as outside:
            token = CSRF.search(shop.get("/").text).group(1)
            shop.post("/cart/add", data={"sku": "LAMP-DESK", "quantity": "1", "csrf_token": token})
            shop.get("/checkout")
            placed = shop.post("/checkout", data={**CUSTOMER, "method": "sequra:i1", "csrf_token": token})
            assert placed.status_code == 303 and placed.headers["location"].startswith("/orders/")
            with Session(engine) as session:
                payment = session.exec(select(Payment)).one()
            uuid = payment.reference

            # SeQura confirms at once and answers the shop's PUT late: the store dies meanwhile.
            outside.post(f"{sequra}/_control/scenario", data={"confirm_answer_delay": "60"})
            form = f"{sequra}/orders/{uuid}/form"
            outside.post(f"{form}/identify", data={"given_names": "Fulano", "surnames": "De Tal",
                                                   "date_of_birth": "1980-01-10", "mobile_phone": "666666666"})
            outside.post(f"{form}/otp", data={"code": "66666"})
            wait_for("SeQura confirmed", lambda: outside.get(f"{sequra}/_control/orders/{uuid}").json()["state"]
                     == "confirmed")
            store.process.kill()
            store.process.wait(timeout=10)
            with Session(engine) as session:
                row = session.get(Payment, payment.id)
                assert row.status == "pending" and row.data["confirm_intent"]["seen"] == "ipn"
                # The store stays down past the first back-off (10 s) before it is restarted.
                owed = Intent.of(row.data)
                row.data = {**row.data, **replace(owed, due=owed.due - timedelta(seconds=10)).as_data()}
                session.add(row)
                session.commit()

            outside.post(f"{sequra}/_control/scenario", data={"confirm_answer_delay": "0"})
            store.start("--no-sandboxes")  # the restart: its reconciler finds what is owed

            def paid():
                with Session(engine) as session:
                    return session.get(Payment, payment.id).status == "paid"
            wait_for("the payment paid after the restart", paid)
            with Session(engine) as session:
                order = session.get(Order, payment.order_id)
                moves = session.exec(select(PaymentEvent).where(
                    PaymentEvent.payment_id == payment.id, PaymentEvent.kind == "transition",
                    PaymentEvent.operation.endswith("-> paid"))).all()
                assert order.status == "paid" and len(moves) == 1
                assert session.get(Payment, payment.id).data["confirm_intent"] is None
            back = outside.get(f"{sequra}/_control/orders/{uuid}").json()
            assert back["state"] == "confirmed" and back["merchant_reference"]["order_ref_1"] == order.number
    finally:
        store.stop()
        sandboxes.terminate()
        try:
            sandboxes.wait(timeout=5)
        except subprocess.TimeoutExpired:  # still holding the late answer to the dead store
            sandboxes.kill()
            sandboxes.wait()
        sandbox_log.close()
        engine.dispose()


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False

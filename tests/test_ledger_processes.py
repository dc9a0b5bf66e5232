"""The ledger's lock, proven across OS processes: several store workers apply "paid" for the same
payment at the same moment (a callback, a read-back, the reconciler), each under its own dedupe
key so that only the lock (SQLite's BEGIN IMMEDIATE, PostgreSQL's SELECT ... FOR UPDATE) can
keep them apart. The payment moves into paid once, one confirmation is queued, and money that
comes after expiry takes the goods off the shelf once."""

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlmodel import select

from shop import db
from shop.models import Order, OutboxMessage, Payment, PaymentEvent, Product
from shop.money import Money
from shop.payments.bus import MemoryBus
from shop.payments.contract import Observation, PaymentStatus
from shop.payments.ledger import Ledger
from shop.testing.shopper import Shopper, make_settings, running_app
from tests.processes import run_together

pytestmark = pytest.mark.anyio
S = PaymentStatus
PROCESSES = 2
THREADS = 3  # per process: each applies on its own connection
SKU = "MUG-ENAMEL"


@pytest.fixture
def settings(database_url, tmp_path):  # on SQLite and on PostgreSQL
    return make_settings(tmp_path, DATABASE_URL=database_url)


def _apply_paid(url: str, payments: list[tuple[int, int]], tag: str, barrier) -> list[list[bool]]:
    """For each payment in turn, once every process is ready: THREADS observations of "paid" at once."""
    database = db.Database(db.make_engine(url))
    ledger = Ledger(database, MemoryBus())

    def paid(payment_id: int, amount: int, n: int) -> bool:
        observation = Observation(S.PAID, "credited", f"paid:{tag}:{n}", amount=Money(amount))
        return asyncio.run(ledger.apply(payment_id, observation, source=tag)).changed

    changed = []
    try:
        with ThreadPoolExecutor(THREADS) as pool:
            for payment_id, amount in payments:
                barrier.wait()
                changed.append(list(pool.map(paid, [payment_id] * THREADS, [amount] * THREADS, range(THREADS))))
    finally:
        database.close()
    return changed


def rows(engine, model, **where):
    with db.session(engine) as session:
        query = select(model)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        return list(session.exec(query))


async def bank_transfer_payments(app, count: int) -> list[Payment]:
    """``count`` shoppers each check out one unit by bank transfer: their payments, in order."""
    payments = []
    for _ in range(count):
        shopper = Shopper(app)
        try:
            await shopper.add(SKU, 1)
            assert (await shopper.checkout("banktransfer:banktransfer")).status_code == 303
        finally:
            await shopper.aclose()
        with db.session(app.state.engine) as session:
            payments.append(session.exec(select(Payment).order_by(Payment.id.desc())).first())
    return payments


async def test_paid_from_several_processes_at_once_moves_once_mails_once_and_takes_the_stock_once(settings):
    async with running_app(settings, plugin_ids=["banktransfer"]) as app:
        engine = app.state.engine
        payments = await bank_transfer_payments(app, 4)
        late = payments[2:]  # their orders expire first: the money comes late and takes the goods again
        for payment in late:
            assert await app.state.ledger.expire_order(payment.order_id, "test: unpaid in time")
        with engine.begin() as connection:  # sold out meanwhile: taking them again oversells
            connection.execute(Product.__table__.update().where(Product.sku == SKU).values(stock=0))

    work = [(p.id, p.amount_cents) for p in payments]
    changed = run_together(_apply_paid, [(settings.database_url, work, f"worker{n}") for n in range(PROCESSES)])

    for index, payment in enumerate(payments):
        moves = [e.operation for e in rows(engine, PaymentEvent, payment_id=payment.id, kind="transition")
                 if e.operation.endswith("-> paid")]
        assert len(moves) == 1, (payment.id, moves)
        assert sum(sum(of_one[index]) for of_one in changed) == 1  # one apply of the six changed it
        assert rows(engine, Payment, id=payment.id)[0].status == S.PAID
        assert len(rows(engine, OutboxMessage, order_id=payment.order_id)) == 1
    assert rows(engine, Product, sku=SKU)[0].stock == -len(late)  # each late order took its one mug once
    for payment in late:
        (order,) = rows(engine, Order, id=payment.order_id)
        assert order.attention_reason.count("oversold") == 1 and order.attention_reason.count("late payment") == 1


def _apply_words(url: str, payments: list[tuple[int, int]], word: str, barrier) -> None:
    """For each payment in turn, once every process is ready: THREADS observations of ``word`` at once."""
    database = db.Database(db.make_engine(url))
    ledger = Ledger(database, MemoryBus())
    status = S(word)

    def observe(payment_id: int, amount: int, n: int) -> None:
        asyncio.run(ledger.apply(payment_id, Observation(status, word, f"{word}:{n}", amount=Money(amount))))

    try:
        with ThreadPoolExecutor(THREADS) as pool:
            for payment_id, amount in payments:
                barrier.wait()
                list(pool.map(observe, [payment_id] * THREADS, [amount] * THREADS, range(THREADS)))
    finally:
        database.close()


async def test_authorized_and_paid_from_several_processes_at_once_confirm_the_sale_once(settings):
    """Authorized is a done sale as paid is: whichever of them the workers apply first sends the
    confirmation, and only that one (the check for it runs under the ledger's lock)."""
    async with running_app(settings, plugin_ids=["banktransfer"]) as app:
        engine = app.state.engine
        payments = await bank_transfer_payments(app, 3)

        work = [(p.id, p.amount_cents) for p in payments]
        run_together(_apply_words, [(settings.database_url, work, word) for word in ("authorized", "paid")])

        for payment in payments:
            assert rows(engine, Payment, id=payment.id)[0].status == S.PAID
            assert len(rows(engine, OutboxMessage, order_id=payment.order_id)) == 1

"""No single payment stops the reconciler; payments left `created` are settled; the first pass runs at start."""

import asyncio
import json
import secrets
from datetime import timedelta

import httpx
import pytest
from sqlmodel import SQLModel, select

from plugins.banktransfer.client import sign
from shop.app import create_app
from shop.db import session as db_session
from shop.models import Order, Payment, PaymentEvent, utcnow
from shop.payments.attempts import hash_token, token_for
from shop.seed import seed
from shop.testing.services import PostgresServer
from shop.testing.shopper import BASE_URL, Shopper, make_settings, running_app

from .rows import change, get
from .test_invariants import money_arrives_unannounced

pytestmark = pytest.mark.anyio
LONG_AGO = timedelta(hours=1)






def events(app, payment_id):
    with app.state.db() as session:
        return list(session.exec(select(PaymentEvent).where(PaymentEvent.payment_id == payment_id)
                                 .order_by(PaymentEvent.id)))


def bank_of(app):
    return app.state.sandboxes["banktransfer"].state.sandbox


async def bank_payment(app) -> Payment:
    """A new shopper's order paid by bank transfer: its payment, pending at the bank."""
    shopper = Shopper(app)
    try:
        await shopper.add("MUG-ENAMEL")
        assert (await shopper.checkout("banktransfer:banktransfer")).status_code == 303
    finally:
        await shopper.aclose()
    with app.state.db() as session:
        return session.exec(select(Payment).order_by(Payment.id.desc())).first()


def make_stale(app, payment: Payment) -> None:
    stale = utcnow() - LONG_AGO
    change(app, Payment, payment.id, status_changed_at=stale, last_fetched_at=stale)


def make_due(app, payment: Payment) -> None:
    change(app, Order, payment.order_id, expires_at=utcnow() - timedelta(seconds=1))


# --------------------------------------------------------------------------- one payment cannot stop a pass


async def test_an_unknown_status_word_flags_its_order_and_the_pass_goes_on(app):
    """The bank answers a word the plugin does not know for one payment: that payment's order
    is flagged with a plain reason and its timeline says why; the others are read and expired."""
    broken, lost, unpaid = await bank_payment(app), await bank_payment(app), await bank_payment(app)
    bank_of(app).expected[broken.reference].status = "on_hold"  # a status the plugin has never heard of
    money_arrives_unannounced(app, lost)
    for payment in (broken, lost):
        make_stale(app, payment)
    make_due(app, unpaid)

    counts = await app.state.reconciler.run_once()

    assert get(app, Payment, lost.id).status == "paid"
    assert get(app, Order, unpaid.order_id).status == "expired"
    assert counts["expired"] == 1 and counts["errors"] == 0
    order = get(app, Order, broken.order_id)
    assert get(app, Payment, broken.id).status == "pending"
    assert order.needs_attention
    assert order.attention_reason == ("Bank transfer answered something the shop does not understand: "
                                      "unknown expected-credit status 'on_hold'")
    (note,) = [e for e in events(app, broken.id) if e.operation == "reconciler: answer not understood"]
    assert "on_hold" in note.body

    make_stale(app, broken)
    await app.state.reconciler.run_once()  # the same answer again: flagged and noted once
    assert get(app, Order, broken.order_id).attention_reason == order.attention_reason
    assert sum(e.operation == "reconciler: answer not understood" for e in events(app, broken.id)) == 1


async def test_a_payment_or_order_that_fails_is_counted_and_the_pass_goes_on(app, monkeypatch):
    """Whatever escapes one payment's or one order's handling (here a database that refuses
    them) is logged and counted; the payments and orders after it are still handled."""
    broken, lost, stuck, unpaid = [await bank_payment(app) for _ in range(4)]
    money_arrives_unannounced(app, lost)
    for payment in (broken, lost):
        make_stale(app, payment)
    for payment in (stuck, unpaid):
        make_due(app, payment)

    refresh, expire = app.state.attempts.refresh, app.state.ledger.expire_order

    async def refresh_failing_for_one(payment_id, source):
        if payment_id == broken.id:
            raise RuntimeError("the database went away")
        return await refresh(payment_id, source)

    async def expire_failing_for_one(order_id, reason, now=None):
        if order_id == stuck.order_id:
            raise RuntimeError("the database went away")
        return await expire(order_id, reason, now)

    monkeypatch.setattr(app.state.attempts, "refresh", refresh_failing_for_one)
    monkeypatch.setattr(app.state.ledger, "expire_order", expire_failing_for_one)

    counts = await app.state.reconciler.run_once()

    assert counts["errors"] == 2 and app.state.reconciler.errors == 2
    assert get(app, Payment, lost.id).status == "paid"
    assert get(app, Order, unpaid.order_id).status == "expired"
    assert get(app, Order, stuck.order_id).status == "awaiting_payment"


# --------------------------------------------------------------------------- payments left `created`


def left_created(app, payment: Payment, **fields) -> None:
    """The payment as a crash before the provider's answer to start was applied leaves it."""
    change(app, Payment, payment.id, status="created", created_at=utcnow() - LONG_AGO, last_fetched_at=None, **fields)


async def test_a_payment_left_created_without_a_reference_fails_so_the_order_can_be_paid_again(app):
    payment = await bank_payment(app)
    # A second attempt on the order, written just before the shop stopped: no provider reference.
    salt = secrets.token_hex(16)
    with app.state.db() as session:
        crashed = Payment(order_id=payment.order_id, plugin="banktransfer", option="banktransfer",
                          amount_cents=payment.amount_cents, currency=payment.currency,
                          token_hash=hash_token(token_for(app.state.settings.secret_key, salt)), token_salt=salt,
                          created_at=utcnow() - LONG_AGO)
        session.add(crashed)
        session.commit()
    young = await bank_payment(app)
    change(app, Payment, young.id, status="created", reference=None)  # its start may still be under way

    counts = await app.state.reconciler.run_once()

    assert counts["created_settled"] == 1
    failed = get(app, Payment, crashed.id)
    assert failed.status == "failed" and "never reached Bank transfer" in failed.detail
    assert [e.operation for e in events(app, crashed.id) if e.kind == "transition"] == ["created -> failed"]
    assert get(app, Order, payment.order_id).status == "awaiting_payment"
    assert get(app, Payment, young.id).status == "created"
    assert (await app.state.reconciler.run_once())["created_settled"] == 0  # once


async def test_a_payment_left_created_is_read_back_where_the_provider_knows_it(app):
    payment = await bank_payment(app)
    money_arrives_unannounced(app, payment)
    left_created(app, payment)

    assert (await app.state.reconciler.run_once())["created_settled"] == 1
    assert get(app, Payment, payment.id).status == "paid"
    assert get(app, Order, payment.order_id).status == "paid"


async def test_a_payment_left_created_is_cancelled_at_a_provider_without_read_back(app, monkeypatch):
    payment = await bank_payment(app)
    monkeypatch.setattr(app.state.plugins["banktransfer"], "has_read_back", False)
    left_created(app, payment)

    assert (await app.state.reconciler.run_once())["created_settled"] == 1
    assert bank_of(app).expected[payment.reference].status == "cancelled"
    assert get(app, Payment, payment.id).status == "cancelled"


# --------------------------------------------------------------------------- the first pass


async def test_the_first_pass_runs_at_once_not_after_an_interval(app):
    """Money booked while the shop was down, its webhook lost: read at start, not 30 s later."""
    payment = await bank_payment(app)
    money_arrives_unannounced(app, payment)
    make_stale(app, payment)
    assert app.state.reconciler._interval() >= 30
    app.state.reconciler.start()
    try:
        for _ in range(250):
            if get(app, Payment, payment.id).status == "paid":
                break
            await asyncio.sleep(0.02)
        assert get(app, Payment, payment.id).status == "paid"
    finally:
        await app.state.reconciler.stop()


async def test_the_app_starts_its_reconciler_with_a_pass(tmp_path):
    app = create_app(make_settings(tmp_path), plugin_ids=["banktransfer"], in_process=True, run_background=True)
    SQLModel.metadata.create_all(app.state.engine)
    with db_session(app.state.engine) as session:
        seed(session)
    async with app.router.lifespan_context(app):
        for _ in range(250):
            if app.state.reconciler.passes:
                break
            await asyncio.sleep(0.02)
        assert app.state.reconciler.passes == 1


# --------------------------------------------------------------------------- on PostgreSQL


@pytest.mark.slow
async def test_an_unknown_status_word_is_flagged_once_on_postgres(tmp_path, monkeypatch):
    server = PostgresServer().start()
    try:
        async with running_app(make_settings(tmp_path, DATABASE_URL=server.url), plugin_ids=["banktransfer"]) as app:
            payment = await bank_payment(app)
            bank_of(app).expected[payment.reference].status = "on_hold"
            change(app, Order, payment.order_id, needs_attention=True, attention_reason="100% odd_order")
            for _ in range(2):
                make_stale(app, payment)
                await app.state.reconciler.run_once()
            order = get(app, Order, payment.order_id)
            assert order.attention_reason == ("100% odd_order; Bank transfer answered something the shop does "
                                              "not understand: unknown expected-credit status 'on_hold'")
            assert app.state.engine.dialect.name == "postgresql"
    finally:
        server.stop()


# --------------------------------------------------------------------------- the same answer in a callback


async def test_a_callback_whose_read_back_is_not_understood_is_flagged_and_asked_again(app):
    payment = await bank_payment(app)
    bank_of(app).expected[payment.reference].status = "on_hold"
    body = json.dumps({"id": "evt_x", "event": "credited", "expected_credit": payment.reference}).encode()
    secret = app.state.plugins["banktransfer"].settings.webhook_secret
    url = f"/pay/banktransfer/cb/{token_for(app.state.settings.secret_key, payment.token_salt)}"
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
                                 base_url=BASE_URL) as client:
        response = await client.post(url, content=body, headers={"content-type": "application/json",
                                                                  "x-bank-signature": sign(secret, body)})
    assert response.status_code == 503  # the bank sends it again later
    assert get(app, Payment, payment.id).status == "pending"
    assert "unknown expected-credit status 'on_hold'" in get(app, Order, payment.order_id).attention_reason
    assert [e.operation for e in events(app, payment.id) if e.kind == "note"] == ["callback: answer not understood"]


async def test_a_payment_left_created_that_cannot_be_read_is_asked_again_only_when_stale(app):
    payment = await bank_payment(app)
    bank_of(app).read_mode = "error"  # the bank answers 500 to every read
    left_created(app, payment)
    for _ in range(3):
        assert (await app.state.reconciler.run_once())["created_settled"] == 0
    assert get(app, Payment, payment.id).status == "created"
    assert sum(e.operation == "reconciler: left created: read-back failed" for e in events(app, payment.id)) == 1
    bank_of(app).read_mode = "ok"
    make_stale(app, payment)
    assert (await app.state.reconciler.run_once())["created_settled"] == 1
    assert get(app, Payment, payment.id).status == "pending"


async def test_the_merchant_sees_the_answer_not_understood_first_and_on_the_timeline(app, shopper):
    payment, other = await bank_payment(app), await bank_payment(app)
    bank_of(app).expected[payment.reference].status = "on_hold"
    make_stale(app, payment)
    await app.state.reconciler.run_once()
    number = get(app, Order, payment.order_id).number
    await shopper.login_admin()
    listing = (await shopper.get("/admin/")).text
    assert listing.index(number) < listing.index(get(app, Order, other.order_id).number)  # attention first
    page = (await shopper.get(f"/admin/orders/{number}")).text
    assert "Needs attention: Bank transfer answered something the shop does not understand" in page
    assert "reconciler: answer not understood" in page and "on_hold" in page

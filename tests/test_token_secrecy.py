"""Payment tokens stay secret: masked by value in the event log and the access log, and a return
link from elsewhere cannot cancel a payment nor show its order without the order's e-mail address."""

from __future__ import annotations

import json
import logging
import secrets

import pytest
from sqlmodel import select

from shop import admin_security
from shop.models import Order, Payment, PaymentEvent
from shop.money import Money
from shop.payments.attempts import token_for
from shop.payments.contract import Observation, PaymentStatus
from shop.payments.recorder import MASK, MAX_BODY, AccessLogTokenFilter, redact, redact_url
from shop.testing.shopper import Shopper

from .rows import get
from .test_invariants import money_arrives_unannounced, pending_payment, token_of

TOKEN = token_for("test-secret-key-0123456789", "salt")


def test_a_token_is_masked_wherever_it_stands():
    assert len(TOKEN) == 43
    urls = {"notify_url": f"https://shop.example/pay/sequra/cb/{TOKEN}",
            "return_url": f"https://shop.example/pay/sequra/return/{TOKEN}/done", "note": f"ref {TOKEN}."}
    for text in (redact(json.dumps({"merchant": urls}), "application/json"),
                 redact(f"back={TOKEN}&amount=12", "application/x-www-form-urlencoded"),
                 redact(f"<url>https://shop/return/{TOKEN}/abort</url>", "text/xml"),
                 redact_url(f"https://shop/pay/seqr/cb/{TOKEN}?x=1")):
        assert TOKEN not in text and (MASK in text or "%2A%2A%2A" in text)
    # Cut where it straddles the end, a token leaves none of its digits behind.
    straddling = redact("x" * (MAX_BODY - 20) + f" {TOKEN} tail", "text/plain")
    assert TOKEN[:19] not in straddling
    # Other identifiers (a SHA-256, a shorter hex id) are left as they are.
    digest, short = secrets.token_hex(32), secrets.token_hex(8)
    assert redact(f"sha={digest} id={short}", "text/plain") == f"sha={digest} id={short}"


def test_the_access_log_masks_callback_and_return_paths():
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:5000", "GET", f"/pay/secupay/return/{TOKEN}/abort", "1.1", 303), None)
    assert AccessLogTokenFilter().filter(record)
    assert record.getMessage() == f'127.0.0.1:5000 - "GET /pay/secupay/return/{MASK}/abort HTTP/1.1" 303'


@pytest.mark.anyio
async def test_an_abort_link_opened_elsewhere_does_not_cancel(app, shopper):
    payment = await pending_payment(app, shopper)
    abort = f"/pay/banktransfer/return/{token_of(app, payment)}/abort"
    stranger = Shopper(app)
    try:
        assert (await stranger.get(abort)).status_code == 303
    finally:
        await stranger.aclose()
    assert get(app, Payment, payment.id).status == "pending"
    assert (await shopper.get(abort)).status_code == 303  # the browser that started the checkout
    assert get(app, Payment, payment.id).status == "cancelled"


@pytest.mark.anyio
async def test_an_abort_link_replayed_after_the_payment_moved_on_cancels_nothing(app, shopper):
    payment = await pending_payment(app, shopper)
    await app.state.ledger.apply(payment.id, Observation(PaymentStatus.AUTHORIZED, "authorized", "auth-1",
                                                         amount=Money(payment.amount_cents)))
    assert (await shopper.get(f"/pay/banktransfer/return/{token_of(app, payment)}/abort")).status_code == 303
    assert get(app, Payment, payment.id).status == "authorized"


@pytest.mark.anyio
async def test_the_event_log_keeps_no_token(app, shopper):
    payment = await pending_payment(app, shopper)
    token = token_of(app, payment)
    await shopper.get(f"/pay/banktransfer/return/{token}/done")
    with app.state.db() as session:
        events = session.exec(select(PaymentEvent)).all()
    assert any("/cb/***" in event.body for event in events)  # the start call carried its callback URL
    assert not any(token in f"{event.operation} {event.body}" for event in events)


@pytest.mark.anyio
async def test_a_return_link_opened_elsewhere_reads_back_but_asks_for_the_email(app, shopper):
    """callbacks.py, handle_return: ``if not started_here: return await _email_check_page(...)``."""
    payment = await pending_payment(app, shopper)
    token, order = token_of(app, payment), get(app, Order, payment.order_id)
    money_arrives_unannounced(app, payment)
    stranger = Shopper(app)
    try:
        page = await stranger.get(f"/pay/banktransfer/return/{token}/done")
        assert page.status_code == 200 and "Confirm your e-mail address to see your order" in page.text
        assert order.public_id not in page.text and "ada@example.com" not in page.text
        assert get(app, Payment, payment.id).status == "paid"  # the read-back happened all the same
        assert (await stranger.get(f"/orders/{order.public_id}")).status_code == 404
    finally:
        await stranger.aclose()
    # The browser that started the checkout goes straight to its order.
    own = await shopper.get(f"/pay/banktransfer/return/{token}/done")
    assert own.status_code == 303 and own.headers["location"] == f"/orders/{order.public_id}"


@pytest.mark.anyio
async def test_the_right_email_grants_the_order_and_a_wrong_one_nothing(app, shopper):
    """callbacks.py, handle_email_check: ``if not _same_email(...)`` before ``grant_access``."""
    payment = await pending_payment(app, shopper)
    token, order = token_of(app, payment), get(app, Order, payment.order_id)
    confirm = f"/pay/banktransfer/confirm/{token}"
    stranger = Shopper(app)
    try:
        await stranger.get(f"/pay/banktransfer/return/{token}/done")
        assert (await stranger.post(confirm, {"email": "ada@example.com"}, csrf=False)).status_code == 403  # no CSRF
        wrong = await stranger.post(confirm, {"email": "eve@example.com"})
        assert wrong.status_code == 403 and "not the e-mail address of this order" in wrong.text
        assert (await stranger.get(f"/orders/{order.public_id}")).status_code == 404
        right = await stranger.post(confirm, {"email": " Ada@Example.com "})
        assert right.status_code == 303 and right.headers["location"] == f"/orders/{order.public_id}"
        assert (await stranger.get(f"/orders/{order.public_id}")).status_code == 200
        assert (await stranger.post("/pay/banktransfer/confirm/not-a-token", {"email": "x@y.z"})).status_code == 404
    finally:
        await stranger.aclose()


@pytest.mark.anyio
async def test_wrong_emails_for_one_order_are_limited_across_browsers(app, shopper):
    """callbacks.py, handle_email_check: ``if wait:`` (failures counted per order, in the database)."""
    payment = await pending_payment(app, shopper)
    token, order = token_of(app, payment), get(app, Order, payment.order_id)
    confirm = f"/pay/banktransfer/confirm/{token}"
    for attempt in range(admin_security.MAX_FAILURES):
        guesser = Shopper(app)  # a fresh browser each time: the count is not in the cookie
        try:
            await guesser.get(f"/pay/banktransfer/return/{token}/done")
            assert (await guesser.post(confirm, {"email": f"guess{attempt}@example.com"})).status_code == 403
        finally:
            await guesser.aclose()
    late = Shopper(app)
    try:
        await late.get(f"/pay/banktransfer/return/{token}/done")
        refused = await late.post(confirm, {"email": "ada@example.com"})  # even the right one, for now
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
        assert (await late.get(f"/orders/{order.public_id}")).status_code == 404
    finally:
        await late.aclose()

"""Payment tokens stay secret: masked by value in the event log and the access log, and a return
link from elsewhere cannot cancel a payment."""

from __future__ import annotations

import json
import logging
import secrets

import pytest
from sqlmodel import select

from shop.models import Payment, PaymentEvent
from shop.payments.attempts import token_for
from shop.payments.recorder import MASK, MAX_BODY, AccessLogTokenFilter, redact, redact_url
from shop.testing.shopper import Shopper

from .test_invariants import get, pending_payment, token_of

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
async def test_the_event_log_keeps_no_token(app, shopper):
    payment = await pending_payment(app, shopper)
    token = token_of(app, payment)
    await shopper.get(f"/pay/banktransfer/return/{token}/done")
    with app.state.db() as session:
        events = session.exec(select(PaymentEvent)).all()
    assert any("/cb/***" in event.body for event in events)  # the start call carried its callback URL
    assert not any(token in f"{event.operation} {event.body}" for event in events)

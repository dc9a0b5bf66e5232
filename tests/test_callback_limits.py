"""Callbacks are bounded: unknown tokens are counted before any body is read, bodies over the
limit get 413 unread, bodies that cannot be parsed get 400, and the recorder's redaction costs
what is kept, not what was sent."""

import json
import logging
import re
import sqlite3
import time

import httpx
import pytest
from sqlmodel import func, select

from shop.models import Payment, PaymentEvent
from shop.payments import callbacks
from shop.payments.attempts import token_for
from shop.payments.callbacks import MAX_CALLBACK_BYTES, UnknownCallbacks
from shop.payments.contract import CheckoutPlugin
from shop.payments.recorder import MAX_BODY, MAX_JSON_PARSED, redact
from shop.testing.server import ServerProcess
from shop.testing.shopper import BASE_URL, CSRF, CUSTOMER, Shopper, make_settings, running_app

pytestmark = pytest.mark.anyio
MB = 1024 * 1024
CHUNK = 64 * 1024


class Body:
    """A request body sent in chunks that counts how much of it the app pulled."""

    def __init__(self, size: int, byte: bytes = b"a") -> None:
        self.size = size
        self.byte = byte
        self.pulled = 0

    async def __aiter__(self):
        while self.pulled < self.size:
            chunk = self.byte * min(CHUNK, self.size - self.pulled)
            self.pulled += len(chunk)
            yield chunk


def event_count(app) -> int:
    with app.state.db() as session:
        return session.exec(select(func.count()).select_from(PaymentEvent)).one()


def callback_events(app, payment_id: int) -> list[PaymentEvent]:
    with app.state.db() as session:
        return list(session.exec(select(PaymentEvent).where(PaymentEvent.payment_id == payment_id,
                                                            PaymentEvent.kind == "callback")))


async def start_payment(app, plugin_id: str) -> tuple[Payment, str]:
    """A shopper checks out with this plugin: the payment and its callback URL."""
    shopper = Shopper(app)
    try:
        await shopper.add("NOTEBOOK-A5")
        page = await shopper.get("/checkout")
        method = re.findall(rf'value="({plugin_id}:[^"]*)"', page.text)[0]
        assert (await shopper.checkout(method)).status_code == 303
    finally:
        await shopper.aclose()
    with app.state.db() as session:
        payment = session.exec(select(Payment).order_by(Payment.id.desc())).first()
    return payment, f"/pay/{plugin_id}/cb/{token_for(app.state.settings.secret_key, payment.token_salt)}"


@pytest.fixture
async def client(app):
    # Errors come back as the 500 a provider would get, not as exceptions in the test.
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
                                 base_url=BASE_URL) as client:
        yield client


@pytest.fixture
async def several(tmp_path):
    async with running_app(make_settings(tmp_path), plugin_ids=["secupay", "sequra"]) as app:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
                                     base_url=BASE_URL) as client:
            yield app, client


# --------------------------------------------------------------------------- size


async def test_a_20_mb_body_is_refused_by_its_length_before_a_byte_is_read(app, client):
    payment, url = await start_payment(app, "banktransfer")
    body = Body(20 * MB)
    started = time.perf_counter()
    response = await client.post(url, content=body, headers={"content-length": str(body.size)})
    assert response.status_code == 413
    assert time.perf_counter() - started < 1
    assert body.pulled == 0
    (event,) = callback_events(app, payment.id)
    assert event.http_status == 413 and "refused unread" in event.operation and event.body == ""


async def test_a_chunked_body_is_cut_off_at_the_limit_while_it_streams(app, client):
    payment, url = await start_payment(app, "banktransfer")
    body = Body(20 * MB)  # no Content-Length: sent chunked
    response = await client.post(url, content=body)
    assert response.status_code == 413
    assert body.pulled <= MAX_CALLBACK_BYTES + CHUNK
    assert app.state.attempts.load(payment.id)[0].status == "pending"


async def test_a_plugin_may_declare_a_lower_limit(app, client, monkeypatch):
    _, url = await start_payment(app, "banktransfer")
    monkeypatch.setattr(app.state.plugins["banktransfer"], "max_callback_bytes", 1000, raising=False)
    assert (await client.post(url, content=b"{}" + b" " * 1000)).status_code == 413
    assert (await client.post(url, content=b"{}" + b" " * 900)).status_code == 403  # read: unsigned


# --------------------------------------------------------------------------- unknown tokens


async def test_unknown_tokens_are_counted_not_read_not_recorded_and_logged_once(app, client, caplog):
    await start_payment(app, "banktransfer")
    rows = event_count(app)
    bodies = [Body(100_000) for _ in range(50)]
    with caplog.at_level(logging.WARNING, logger="shop.payments.callbacks"):
        for n, body in enumerate(bodies):
            response = await client.post(f"/pay/banktransfer/cb/{n:043d}", content=body)
            assert response.status_code == 404
    assert sum(body.pulled for body in bodies) == 0
    assert event_count(app) == rows
    assert app.state.unknown_callbacks.total == 50
    lines = [r.getMessage() for r in caplog.records if "unknown tokens" in r.getMessage()]
    assert len(lines) <= 1, lines


def test_the_unknown_token_line_tells_how_many_came_since_the_last_one(caplog):
    now = [100.0]
    counter = UnknownCallbacks(every=60, clock=lambda: now[0])
    with caplog.at_level(logging.WARNING, logger="shop.payments.callbacks"):
        for _ in range(42):
            now[0] += 1
            counter.seen()
        now[0] += 60
        counter.seen()
    lines = [r.getMessage() for r in caplog.records]
    assert lines == ["1 callbacks with unknown tokens in the last 1 s",
                     "42 callbacks with unknown tokens in the last 101 s"]
    assert counter.total == 43


# --------------------------------------------------------------------------- bodies that cannot be parsed


DEEP_JSON = b"[" * 100_000 + b"]" * 100_000


async def test_json_nested_100000_deep_gets_400_when_it_says_it_is_json(app, client):
    payment, url = await start_payment(app, "banktransfer")
    response = await client.post(url, content=DEEP_JSON, headers={"content-type": "application/json"})
    assert response.status_code == 400
    (event,) = callback_events(app, payment.id)
    assert "malformed (JSON nested too deeply)" in event.operation
    assert event.body == "[JSON nested too deeply to redact: not kept]"


async def test_json_nested_100000_deep_gets_400_when_the_plugin_parses_it(several):
    app, client = several
    payment, url = await start_payment(app, "secupay")  # secupay reads its pushes as JSON whatever they say
    response = await client.post(url, content=DEEP_JSON)
    assert (response.status_code, response.text) == (400, "malformed")
    (event,) = callback_events(app, payment.id)
    assert "unreadable: RecursionError" in event.operation


async def test_a_malformed_form_body_gets_400(app, client):
    payment, url = await start_payment(app, "banktransfer")
    response = await client.post(url, content=b"a=1&&%zz=\xff",
                                 headers={"content-type": "application/x-www-form-urlencoded"})
    assert response.status_code == 400
    assert app.state.attempts.load(payment.id)[0].status == "pending"


async def test_a_plugin_whose_replies_predate_malformed_answers_400(several):
    app, client = several
    _, url = await start_payment(app, "sequra")  # SeQura's callback_reply has no entry for it
    response = await client.post(url, content=b"sq_state=approved&&&",
                                 headers={"content-type": "application/x-www-form-urlencoded"})
    assert response.status_code == 400


# --------------------------------------------------------------------------- the recorder


def test_redacting_a_20_mb_form_costs_what_is_kept():
    body = b"signature=abc&" + b"a=b&" * (5 * MB)
    started = time.perf_counter()
    kept = redact(body, "application/x-www-form-urlencoded")
    assert time.perf_counter() - started < 0.2
    assert len(kept) <= MAX_BODY and kept.startswith("signature=%2A%2A%2A&a=b")


def test_a_form_cut_inside_a_secret_keeps_none_of_it():
    kept = redact(b"a=" + b"x" * (MAX_BODY - 12) + b"&password=hunter2hunter2", "application/x-www-form-urlencoded")
    assert "hunter" not in kept


def test_xml_cut_inside_a_secret_keeps_none_of_it():
    body = "<r>" + "<item>x</item>" * 570 + "<password>" + "s3cr3t" * 1000 + "</password></r>"
    kept = redact(body, "text/xml")
    assert "s3cr3t" not in kept and kept.endswith("<item>x</item><password>")


def test_json_nested_past_the_parser_is_not_kept_and_raises_nothing():
    assert redact(DEEP_JSON, "application/json") == "[JSON nested too deeply to redact: not kept]"


def test_json_deeper_than_redaction_walks_is_masked_whole():
    # The parser reads 800 levels; walking them would take two frames each, past the recursion limit.
    body = "[" * 800 + '{"email": "ada@example.com"}' + "]" * 800
    kept = redact(body, "application/json")
    assert "ada@example.com" not in kept and '"***"' in kept


def test_json_longer_than_what_is_kept_is_still_masked_before_it_is_cut():
    body = json.dumps({"items": ["x" * 50] * 400, "customer": {"email": "ada@example.com"}})
    assert len(body) > MAX_BODY
    assert "ada@example.com" not in redact(body, "application/json")



def test_json_too_long_to_parse_quickly_is_not_kept():
    huge = json.dumps({"items": ["x" * 50] * 400_000, "email": "ada@example.com"}).encode()
    assert len(huge) > 20 * MB > MAX_JSON_PARSED
    started = time.perf_counter()
    kept = redact(huge, "application/json")
    assert time.perf_counter() - started < 0.2
    assert kept == f"[a JSON body of length {len(huge)}, too long to redact: not kept]"


def test_the_callback_limit_is_the_lower_of_the_core_and_the_plugin():
    class Small(CheckoutPlugin):
        max_callback_bytes = 10

    class Huge(CheckoutPlugin):
        max_callback_bytes = 100 * MAX_CALLBACK_BYTES

    assert callbacks.callback_limit(Small(None, None)) == 10
    assert callbacks.callback_limit(Huge(None, None)) == MAX_CALLBACK_BYTES
    assert callbacks.callback_limit(CheckoutPlugin(None, None)) == MAX_CALLBACK_BYTES  # declares none


# --------------------------------------------------------------------------- over real HTTP


@pytest.mark.slow
def test_a_served_store_refuses_20_mb_callbacks_at_once(tmp_path):
    """uvicorn in its own process: the 413 (declared or chunked) and the unknown token's 404
    come back in well under a second each, and only the known token's callbacks leave a row."""
    server = ServerProcess(tmp_path)
    server.prepare()
    server.start()
    try:
        with httpx.Client(base_url=server.url, timeout=30) as browser:
            csrf = CSRF.search(browser.get("/").text).group(1)
            browser.post("/cart/add", data={"sku": "MUG-ENAMEL", "quantity": "1", "csrf_token": csrf})
            checkout = {**CUSTOMER, "method": "banktransfer:banktransfer", "csrf_token": csrf}
            assert browser.post("/checkout", data=checkout).status_code == 303
        with sqlite3.connect(tmp_path / "shop.db") as db:
            (payment_id, salt), = db.execute("SELECT id, token_salt FROM payment").fetchall()
        url = f"{server.url}/pay/banktransfer/cb/{token_for(server.env['SECRET_KEY'], salt)}"
        body = b"a=b&" * (5 * MB)
        form = {"content-type": "application/x-www-form-urlencoded"}
        sent = [("declared", url, body, 413), ("chunked", url, (body[i:i + CHUNK] for i in range(0, len(body), CHUNK)), 413),
                ("unknown token", url[:-5] + "xxxxx", body, 404)]
        for name, target, content, status in sent:
            started = time.perf_counter()
            response = httpx.post(target, content=content, headers=form, timeout=30)
            assert (name, response.status_code) == (name, status)
            assert time.perf_counter() - started < 2, name
        assert httpx.get(f"{server.url}/health").text == "ok"
        with sqlite3.connect(tmp_path / "shop.db") as db:
            statuses = db.execute("SELECT http_status FROM paymentevent WHERE kind = 'callback'").fetchall()
            assert statuses == [(413,), (413,)]
            # The store's own calls out (SeQura's teasers warmed at start) have no payment; no callback is unattached.
            assert db.execute("SELECT count(*) FROM paymentevent WHERE payment_id IS NULL AND kind = 'callback'"
                              ).fetchone() == (0,)
    finally:
        server.stop()

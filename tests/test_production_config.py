"""A store pointed at the real providers, as a security tester finds it: nothing of the sandboxes
served, the demo reset refused, the back office closed to guessing."""

from __future__ import annotations

import asyncio
import html
import json
import os
import re
import subprocess
from pathlib import Path

import httpx
import pytest
from sqlmodel import Session, create_engine, select

from bench.shoppers import JOURNEYS, Journey
from bench.shoppers import Browser as HttpShopper
from shop.models import Payment, PaymentEvent
from shop.payments.attempts import token_for
from shop.testing.server import ROOT, SHOP, ServerProcess
from shop.testing.shopper import CUSTOMER

CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')
PLUGINS = ("banktransfer", "secupay", "seqr", "sequra")
STRONG_PASSWORD = "correct-horse-battery-staple"
# Every plugin at its real provider's address (never resolved: .invalid) with real-looking credentials.
PRODUCTION = {
    "ADMIN_PASSWORD": STRONG_PASSWORD, "FORWARDED_ALLOW_IPS": "127.0.0.1",  # the tests play the reverse proxy
    "BANKTRANSFER_BASE_URL": "https://bank.invalid/v1", "BANKTRANSFER_API_KEY": "bk_live_9f8e7d6c5b4a39281706",
    "BANKTRANSFER_WEBHOOK_SECRET": "whsec_live_0a1b2c3d4e5f60718293",
    "SECUPAY_BASE_URL": "https://connect.invalid", "SECUPAY_CLIENT_ID": "74d0c3a0f1b2e3d4c5b6a79880716253",
    "SECUPAY_CLIENT_SECRET": "f" * 64, "SECUPAY_CONTRACT_ID": "GCR_LIVE00000000000000000000000001",
    "SEQR_BASE_URL": "https://seqr.invalid/soap/merchant/cashregister-2", "SEQR_TERMINAL_ID": "cartwheel-live-1",
    "SEQR_PASSWORD": "seqr-live-password-2024",
    "SEQURA_BASE_URL": "https://live.sequra.invalid", "SEQURA_ACCOUNT_KEY": "cartwheel",
    "SEQURA_SECRET": "sequra-live-secret-0123456789",
}


class Browser:
    """A served store seen through one browser: cookies kept, CSRF token read from each page."""

    def __init__(self, base_url: str) -> None:
        # A new connection per request: each may reach another of the store's workers.
        self.http = httpx.Client(base_url=base_url, follow_redirects=False, timeout=10,
                                 limits=httpx.Limits(max_keepalive_connections=0))
        self.token = ""

    def get(self, path: str, **kwargs) -> httpx.Response:
        response = self.http.get(path, **kwargs)
        if found := CSRF.search(response.text):
            self.token = found.group(1)
        return response

    def post(self, path: str, data: dict | None = None, headers: dict | None = None) -> httpx.Response:
        if not self.token:
            self.get("/")
        return self.http.post(path, data={"csrf_token": self.token, **(data or {})}, headers=headers)

    def login(self, password: str, forwarded_for: str = "") -> httpx.Response:
        self.get("/admin/login")
        headers = {"x-forwarded-for": forwarded_for} if forwarded_for else None
        return self.post("/admin/login", {"password": password, "next": "/admin/"}, headers)


@pytest.fixture(scope="module")
def production(tmp_path_factory) -> ServerProcess:
    server = ServerProcess(tmp_path_factory.mktemp("production"), PRODUCTION, workers=2)
    server.prepare()
    server.start()
    yield server
    server.stop()


def test_a_production_store_serves_nothing_of_the_sandboxes(production):
    assert production.sandbox_url == "" and "Sandboxes (" not in production.log(), "no sandbox process is started"
    for plugin_id in PLUGINS:
        for path in ("", "_control/orders", "control/state.json", "control/webshop", "v1/expected-credits"):
            assert httpx.get(f"{production.url}/sandbox/{plugin_id}/{path}").status_code == 404
    assert "live:        banktransfer, secupay, seqr, sequra" in production.log()

    browser = Browser(production.url)
    assert browser.get("/demo").status_code == 404  # no demo guide, no personas: nothing of a demo is served
    assert browser.post("/demo/try/sequra/0").status_code == 404
    assert browser.login(STRONG_PASSWORD).status_code == 303
    browser.get("/admin/")
    assert browser.get("/demo/reset").status_code == 403
    assert browser.post("/demo/reset").status_code == 403


def test_the_demo_password_does_not_open_a_store_with_real_providers(tmp_path: Path, production):
    env = {**os.environ, **production.env, "PORT": "9", "DATABASE_URL": f"sqlite:///{tmp_path}/x.db"}
    for weak in ("demo-admin", "elevenchars"):
        result = subprocess.run([str(SHOP), "serve"], env={**env, "ADMIN_PASSWORD": weak}, cwd=ROOT,
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 2
        assert result.stderr.strip().splitlines() == [
            "shop: setting error: ADMIN_PASSWORD: banktransfer, secupay, seqr, sequra talk to real providers; "
            "set a password of at least 12 characters other than the demo one"]
    assert STRONG_PASSWORD not in production.log()  # never printed; the demo's would be


def test_logout_ends_the_session_for_every_copy_of_its_cookie(production):
    browser = Browser(production.url)
    assert browser.login(STRONG_PASSWORD).status_code == 303
    assert browser.get("/admin/").status_code == 200
    copied = Browser(production.url)
    copied.http.cookies.update(browser.http.cookies)
    assert copied.get("/admin/").status_code == 200
    assert browser.post("/admin/logout").status_code == 303
    answer = copied.get("/admin/")
    assert answer.status_code == 303 and answer.headers["location"].startswith("/admin/login")


def test_wrong_passwords_lock_the_address_out_across_workers(production):
    """Last in this module: it locks 127.0.0.1 out of the production store's back office."""
    browser = Browser(production.url)
    for _ in range(10):
        assert browser.login("a-wrong-guess-123").status_code == 401
    refused = browser.login(STRONG_PASSWORD)  # even the right one, while locked out
    assert refused.status_code == 429
    assert 500 <= int(refused.headers["retry-after"]) <= 601
    assert "/admin/" not in str(refused.headers.get("location", ""))
    # Through the trusted proxy, another shopper's address is its own: not locked out.
    assert Browser(production.url).login(STRONG_PASSWORD, forwarded_for="203.0.113.5").status_code == 303


def test_a_demo_store_keeps_its_secrets(tmp_path: Path):
    """The sandboxes in use are served, but what only tests read back (SeQura's orders with the
    payers' personal data) is not; the SEQR sandbox posts only to the store; a checkout's payment
    token is in neither the access log nor the event log."""
    server = ServerProcess(tmp_path, {"SANDBOX_TEST_READBACKS": "0"})
    server.prepare()
    server.start()
    try:
        assert httpx.get(server.sandbox("sequra/")).status_code == 200
        assert httpx.get(server.sandbox("sequra/_control/sms")).status_code == 200  # the payer's phone, for demos
        for path in ("sequra/_control/orders", "sequra/_control/deliveries", "sequra/_control/orders/x",
                     "secupay/control/state.json"):
            assert httpx.get(server.sandbox(path)).status_code == 404, path
        # A webshop URL elsewhere than the store is not registered: the sandbox never posts there.
        elsewhere = "http://127.0.0.1:9/pay/seqr/createPurchase"
        httpx.post(server.sandbox("seqr/control/webshop"), data={"webshop_id": "probe", "url": elsewhere})
        answer = httpx.post(server.sandbox("seqr/app/instant"), data={"w": "probe", "t": "x"})
        assert "No createPurchase URL is registered" in answer.text
        page = httpx.get(f"{server.url}/demo").text
        assert "Sandbox control page" in page and "/demo/reset" in page and "Live:" not in page

        browser = Browser(server.url)
        assert browser.post("/cart/add", {"sku": "MUG-ENAMEL", "quantity": "1"}).status_code == 303
        browser.get("/checkout")
        assert browser.post("/checkout", {**CUSTOMER, "method": "banktransfer:banktransfer"}).status_code == 303
        engine = create_engine(server.env["DATABASE_URL"])
        with Session(engine) as session:
            payment = session.exec(select(Payment)).one()
        token = token_for(server.env["SECRET_KEY"], payment.token_salt)
        assert browser.get(f"/pay/banktransfer/return/{token}/done").status_code == 303
        assert "/pay/banktransfer/return/***/done" in server.log() and token not in server.log()
        with Session(engine) as session:
            events = session.exec(select(PaymentEvent)).all()
        engine.dispose()
        assert any("/cb/***" in event.body for event in events)
        assert not any(token in f"{event.operation} {event.body}" for event in events)

        # The Instant Checkout code any product page prints, replayed: three unpaid orders, then no more.
        code = INSTANT_CODE.search(httpx.get(f"{server.url}/products/LAMP-DESK").text)
        purchase = {"purchaseToken": code.group(1), **INSTANT_PAYER}
        answers = [httpx.post(f"{server.url}/pay/seqr/createPurchase", json=purchase).json() for _ in range(4)]
        assert ["invoiceReferenceId" in answer for answer in answers] == [True, True, True, False]
        assert answers[3]["errorCode"] == "INVOICING_ERROR"

        # No trusted proxy configured: X-Forwarded-For is not believed, the peer's address counts.
        for _ in range(10):
            assert browser.login("a-wrong-guess-123", forwarded_for="203.0.113.1").status_code == 401
        assert browser.login("demo-admin", forwarded_for="203.0.113.2").status_code == 429
    finally:
        server.stop()


INSTANT_CODE = re.compile(r'"purchaseToken": "([^"]+)"')  # in the page's call to SEQR's widget
INSTANT_PAYER = {"clientName": "Sven Svensson", "street": "Drottninggatan 1", "city": "Stockholm",
                 "country": "Sweden", "state": "", "zip": "11151", "email": "sven@example.com",
                 "msisdn": "46701234567"}
PROXY = "127.0.0.2"  # the reverse proxy's address: a shopper connecting from 127.0.0.1 is not it
SOLICITED_PAYLOAD = re.compile(r"<h2>Solicited payload</h2><pre>(.*?)</pre>", re.DOTALL)


def test_behind_a_proxy_each_providers_checkout_leaves_no_token_and_sequra_gets_the_shoppers_address(tmp_path: Path):
    """A checkout through each provider (HTTP-level shoppers, back by the return URL): no payment
    token in the access log nor in the event log; another browser sees an order only with its
    e-mail address. SeQura's ``customer.ip_number`` is the address
    the trusted proxy forwarded, and the peer's own when a shopper sends X-Forwarded-For itself."""
    server = ServerProcess(tmp_path, {"FORWARDED_ALLOW_IPS": PROXY})
    server.prepare()
    server.start()
    engine = create_engine(server.env["DATABASE_URL"])
    try:
        references = asyncio.run(_every_providers_checkout(server, engine))

        sequra = {address: _sequra_customer(server, references[address])["ip_number"] for address in references}
        assert sequra == {"203.0.113.7": "203.0.113.7", "203.0.113.8": "127.0.0.1"}

        with Session(engine) as session:
            payments = session.exec(select(Payment)).all()
            events = session.exec(select(PaymentEvent)).all()
        assert {p.plugin for p in payments} == {"banktransfer", "secupay", "seqr", "sequra"}
        tokens = [token_for(server.env["SECRET_KEY"], p.token_salt) for p in payments]
        log = server.log()
        for plugin_id in ("banktransfer", "secupay", "seqr", "sequra"):
            assert f"/pay/{plugin_id}/return/***/" in log, plugin_id  # the check below looked at return lines
        assert "/pay/sequra/cb/***" in log  # and at a provider's callback
        assert not [t for t in tokens if t in log]
        assert not [t for t in tokens for e in events if t in f"{e.operation} {e.body}"]
    finally:
        engine.dispose()
        server.stop()


async def _every_providers_checkout(server: ServerProcess, engine) -> dict[str, str]:
    """Each payment method, paid, the shopper then back at the shop by its return URL; returns
    SeQura's order ids by the address each SeQura shopper claimed in X-Forwarded-For."""
    sequra_orders = {}
    for method, via_proxy in (("banktransfer:banktransfer", True), ("secupay:creditcard", True),
                              ("seqr:seqr", True), ("sequra:i1", True), ("sequra:i1", False)):
        claimed = "203.0.113.7" if via_proxy else "203.0.113.8"
        shopper = HttpShopper(server.url)
        await shopper.http.aclose()
        shopper.http = httpx.AsyncClient(
            base_url=server.url, timeout=60, headers={"x-forwarded-for": claimed},
            transport=httpx.AsyncHTTPTransport(local_address=PROXY if via_proxy else "127.0.0.1",
                                               limits=httpx.Limits(max_keepalive_connections=0)))
        try:
            journey = Journey(method)
            await JOURNEYS[method](shopper, journey, server.sandbox_url, "MUG-ENAMEL", True)
            assert journey.outcome in ("paid", "paid in the app", "transfer sent"), (method, journey.outcome)
            plugin_id = method.partition(":")[0]
            with Session(engine) as session:
                payment = session.exec(select(Payment).where(Payment.plugin == plugin_id)
                                       .order_by(Payment.id.desc())).first()
            token = token_for(server.env["SECRET_KEY"], payment.token_salt)
            back = await shopper.get(f"/pay/{plugin_id}/return/{token}/done")
            assert back.status_code == 303 and back.headers["location"].startswith("/orders/"), method
            if plugin_id == "sequra":
                sequra_orders[claimed] = journey.reference
            if plugin_id == "banktransfer":
                await _a_stranger_needs_the_email(server, token, back.headers["location"])
        finally:
            await shopper.aclose()
    return sequra_orders


async def _a_stranger_needs_the_email(server: ServerProcess, token: str, order_path: str) -> None:
    stranger = HttpShopper(server.url)
    try:
        page = await stranger.get(f"/pay/banktransfer/return/{token}/done")
        assert page.status_code == 200 and "Confirm your e-mail address" in page.text
        confirm = f"/pay/banktransfer/confirm/{token}"
        wrong = await stranger.post(confirm, data={"email": "eve@example.com", "csrf_token": await stranger.csrf_token()})
        assert wrong.status_code == 403 and (await stranger.get(order_path)).status_code == 404
        right = await stranger.post(confirm, data={"email": "bench@example.com", "csrf_token": stranger.token})
        assert right.status_code == 303 and (await stranger.get(order_path)).status_code == 200
    finally:
        await stranger.aclose()


def _sequra_customer(server: ServerProcess, uuid: str) -> dict:
    """The customer block of the order payload the SeQura sandbox was sent (its read-back page)."""
    page = httpx.get(server.sandbox(f"sequra/_control/orders/{uuid}"), headers={"accept": "text/html"})
    assert page.status_code == 200
    return json.loads(html.unescape(SOLICITED_PAYLOAD.search(page.text).group(1)))["customer"]

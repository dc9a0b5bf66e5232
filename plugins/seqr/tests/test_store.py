"""SEQR inside the whole store (in-process, sandbox over ASGI): Instant Checkout from a product
page to a paid, confirmed order, createPurchase's refusals, and the reconciler reading a payment
whose notification was lost before SEQR's 20 s commit window ends."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlmodel import select

from plugins.seqr.instant import issue_token
from plugins.seqr.sandbox.driver import Driver
from plugins.seqr.sandbox.state import TEST_PIN
from shop.models import InstantPurchase, Order, OutboxMessage, Payment, PaymentEvent, Product
from shop.payments.contract import PaymentStatus
from shop.seed import reset
from shop.testing.shopper import CUSTOMER, Shopper, make_settings, running_app

pytestmark = pytest.mark.anyio

SAMPLE = {"clientName": "John Smith", "street": "Streetname 1", "city": "Stockholm", "country": "Sweden",
          "state": "", "zip": "11122", "email": "very.happy@shopping.com", "msisdn": "483344323423"}
JSON = {"Accept": "application/json", "Content-Type": "application/json;charset=UTF-8"}


@pytest.fixture
async def store(tmp_path):
    async with running_app(make_settings(tmp_path), plugin_ids=["seqr", "banktransfer"]) as app:
        shopper = Shopper(app)
        try:
            yield app, shopper, Driver(app.state.sandboxes["seqr"].state.sandbox)
        finally:
            await shopper.aclose()


def product(app, sku: str) -> Product:
    with app.state.db() as session:
        return session.exec(select(Product).where(Product.sku == sku)).one()


def token_for(app, sku: str) -> str:
    plugin = app.state.plugins["seqr"]
    return issue_token(plugin.instant_secret(), plugin.settings.webshop_id, product(app, sku).id)


async def create_purchase(shopper: Shopper, **payload):
    return await shopper.http.post("/pay/seqr/createPurchase", json=payload, headers=JSON)


def latest(app, model):
    with app.state.db() as session:
        return session.exec(select(model).order_by(model.id.desc())).first()


# --------------------------------------------------------------------------- the read-back window


async def test_a_lost_notification_is_read_by_the_reconciler_inside_the_commit_window(store):
    app, shopper, driver = store
    plugin, reconciler = app.state.plugins["seqr"], app.state.reconciler
    # Read after 5 s, by a loop that wakes every 2.5 s: at most 7.5 s, well inside SEQR's 20 s.
    assert reconciler._read_back_after(plugin) == 5
    assert reconciler._read_back_after(plugin) + reconciler._interval() < 20
    await shopper.add("NOTEBOOK-A5")
    response = await shopper.checkout("seqr:seqr")
    assert response.status_code == 303
    payment = latest(app, Payment)
    driver.sandbox.scenarios.hold_callbacks = True
    driver.sandbox.scenarios.notification = "lost"
    driver.sandbox.scan(payment.reference)
    assert driver.sandbox.confirm(payment.reference, TEST_PIN) == "paid"  # the notification never comes

    assert (await reconciler.run_once())["read"] == 0  # just changed: not stale yet
    with app.state.db() as session:  # 6 s later, as the reconciler's clock sees it
        row = session.get(Payment, payment.id)
        row.status_changed_at -= timedelta(seconds=6)
        if row.last_fetched_at:
            row.last_fetched_at -= timedelta(seconds=6)
        session.add(row)
        session.commit()
    driver.advance(6)  # SEQR's clock too: the window has 14 s left
    assert (await reconciler.run_once())["read"] == 1
    assert latest(app, Payment).status == PaymentStatus.PAID
    invoice = driver.sandbox.invoices[payment.reference]
    assert invoice.committed and invoice.status == "PAID"
    driver.advance(30)  # the window passes: a read payment is never reversed
    driver.sandbox.sweep()
    assert invoice.status == "PAID" and not driver.sandbox.sms


# --------------------------------------------------------------------------- the product page


async def test_the_product_page_shows_an_instant_checkout_code_for_that_product(store):
    app, shopper, _ = store
    page = await shopper.get("/products/MUG-ENAMEL")
    assert page.status_code == 200
    assert "Buy it now with SEQR" in page.text
    token = re.search(r'"purchaseToken": "([^"]+)"', page.text).group(1)
    assert token == token_for(app, "MUG-ENAMEL")
    init = re.search(r"<script>(if \(window\.seqrQRCode\).*?)</script>", page.text).group(1)
    csp = page.headers["content-security-policy"]
    assert "seqrQRCode-0.0.1.min.js" in page.text and _hash(init) in csp  # the widget's call runs


async def test_a_sold_out_product_shows_no_code(store):
    app, shopper, _ = store
    with app.state.db() as session:
        row = session.exec(select(Product).where(Product.sku == "MUG-ENAMEL")).one()
        row.stock = 0
        session.add(row)
        session.commit()
    page = await shopper.get("/products/MUG-ENAMEL")
    assert "Buy it now with SEQR" not in page.text


# --------------------------------------------------------------------------- createPurchase


async def test_instant_checkout_from_the_app_to_a_paid_confirmed_order(store):
    app, shopper, driver = store
    stock = product(app, "MUG-ENAMEL").stock
    page = await shopper.get("/products/MUG-ENAMEL")
    token = re.search(r'"purchaseToken": "([^"]+)"', page.text).group(1)
    # The payer's app: scan the code SEQR's widget drew, see the stored address, confirm. SEQR
    # calls createPurchase.
    code = f"HTTP://SEQR.SE/000/ic?w=cartwheel&t={token}"
    scanned = await shopper.http.get("/sandbox/seqr/app", params={"code": code})
    assert scanned.status_code == 303
    instant = await shopper.http.get(scanned.headers["location"])
    assert "Deliver to" in instant.text and "Sven Svensson" in instant.text
    query = parse_qs(urlsplit(scanned.headers["location"]).query)
    confirmed = await shopper.http.post("/sandbox/seqr/app/instant", data={"w": query["w"][0], "t": query["t"][0]})
    assert confirmed.status_code == 303, confirmed.text
    reference = confirmed.headers["location"].rstrip("/").rsplit("/", 1)[-1]

    order, payment = latest(app, Order), latest(app, Payment)
    assert payment.reference == reference and payment.status == PaymentStatus.PENDING
    assert (order.email, order.given_names, order.surname, order.delivery_address["country_code"]) == (
        "sven@example.com", "Sven", "Svensson", "SE")
    assert product(app, "MUG-ENAMEL").stock == stock - 1  # held for the order
    assert order.expires_at - order.created_at <= timedelta(seconds=600 + 5)
    invoice = driver.sandbox.invoices[reference]
    assert invoice.data["notification_url"].startswith("http://127.0.0.1:8000/pay/seqr/cb/")
    assert [row["sku"] for row in invoice.data["rows"]][0] == "MUG-ENAMEL"

    # The payer pays with the PIN; the notification arrives; the ledger confirms the order.
    driver.sandbox.scenarios.hold_callbacks = True
    driver.sandbox.scan(reference)
    assert driver.sandbox.confirm(reference, TEST_PIN) == "paid"
    note = driver.sandbox.held.pop()
    answer = await shopper.http.post(note.url, content=note.body, headers=note.headers)
    assert answer.status_code == 200
    assert latest(app, Order).status == "paid"
    message = latest(app, OutboxMessage)
    assert message.order_id == order.id and message.recipient == "sven@example.com"
    assert product(app, "MUG-ENAMEL").stock == stock - 1
    assert invoice.committed

    # The event log has the incoming createPurchase, without the payer's details.
    with app.state.db() as session:
        events = session.exec(select(PaymentEvent).where(PaymentEvent.order_id == order.id)).all()
    [incoming] = [e for e in events if e.operation.startswith("createPurchase")]
    assert incoming.operation == f"createPurchase: invoice {reference}" and incoming.http_status == 200
    assert "Sven" not in incoming.body and "sven@example.com" not in incoming.body and "Sweden" in incoming.body


async def test_create_purchase_answers_the_invoice_reference(store):
    app, shopper, driver = store
    response = await create_purchase(shopper, purchaseToken=token_for(app, "PEN-BLUE"), **SAMPLE)
    assert response.status_code == 200
    reference = response.json()["invoiceReferenceId"]
    assert driver.sandbox.invoices[reference].status == "ISSUED"
    order = latest(app, Order)
    assert (order.given_names, order.surname, order.phone) == ("John", "Smith", "+483344323423")


@pytest.mark.parametrize(("change", "message"), [
    ("seqr sample token", "not made by this shop"),
    ("token of another product", "not made by this shop"),
    ("no token", "not made by this shop"),
    ("country not delivered to", "We do not deliver to Norway"),
    ("bad postcode", "postcode"),
    ("sold out", "sold out"),
    ("product gone", "no longer sold"),
])
async def test_create_purchase_refusals_make_no_order(store, change, message):
    app, shopper, driver = store
    payload = {"purchaseToken": token_for(app, "PEN-BLUE"), **SAMPLE}
    if change == "seqr sample token":
        payload["purchaseToken"] = "29834231890234"
    elif change == "token of another product":
        token = token_for(app, "PEN-BLUE")
        payload["purchaseToken"] = f"{product(app, 'MUG-ENAMEL').id}.{token.split('.', 1)[1]}"
    elif change == "no token":
        del payload["purchaseToken"]
    elif change == "country not delivered to":
        payload["country"] = "Norway"
    elif change == "bad postcode":
        payload["zip"] = "?"
    elif change in ("sold out", "product gone"):
        with app.state.db() as session:
            row = session.exec(select(Product).where(Product.sku == "PEN-BLUE")).one()
            if change == "sold out":
                row.stock = 0
                session.add(row)
            else:
                payload["purchaseToken"] = issue_token(app.state.plugins["seqr"].instant_secret(), "cartwheel", 999)
            session.commit()
    response = await create_purchase(shopper, **payload)
    assert response.status_code == 200
    assert response.json()["errorCode"] == "INVOICING_ERROR"
    assert message in response.json()["errorMessage"]
    assert latest(app, Order) is None and not driver.sandbox.invoices


@pytest.mark.parametrize("body", [b"", b"not json", b"[1, 2]", b'"a string"'])
async def test_create_purchase_needs_a_json_object(store, body):
    app, shopper, _ = store
    response = await shopper.http.post("/pay/seqr/createPurchase", content=body, headers=JSON)
    assert response.status_code == 400 and response.json()["errorCode"] == "SYSTEM_ERROR"
    assert latest(app, Order) is None


async def test_create_purchase_takes_post_only(store):
    _, shopper, _ = store
    assert (await shopper.http.get("/pay/seqr/createPurchase")).status_code == 405


async def test_when_seqr_refuses_the_invoice_the_order_gives_its_stock_back(store):
    app, shopper, driver = store
    stock = product(app, "PEN-BLUE").stock
    driver.sandbox.scenarios.soap = "unavailable"
    response = await create_purchase(shopper, purchaseToken=token_for(app, "PEN-BLUE"), **SAMPLE)
    assert response.status_code == 200 and response.json()["errorCode"] == "INVOICING_ERROR"
    assert "cannot be reached" in response.json()["errorMessage"]
    order = latest(app, Order)
    assert order.status == "expired" and latest(app, Payment).status == PaymentStatus.FAILED
    assert product(app, "PEN-BLUE").stock == stock


async def test_an_unpaid_instant_checkout_order_expires_soon(store):
    app, shopper, _ = store
    stock = product(app, "PEN-BLUE").stock
    await create_purchase(shopper, purchaseToken=token_for(app, "PEN-BLUE"), **SAMPLE)
    order = latest(app, Order)
    assert await app.state.ledger.expire_order(order.id, "test", now=order.expires_at + timedelta(seconds=1))
    assert product(app, "PEN-BLUE").stock == stock


async def test_the_shoppers_own_checkout_still_works_beside_it(store):
    app, shopper, _ = store
    await shopper.add("PEN-BLUE")
    response = await shopper.checkout("seqr:seqr")
    assert response.status_code == 303
    page = await shopper.get(response.headers["location"])
    assert "No phone at hand? Open the SEQR app here" in page.text
    assert CUSTOMER["email"] == latest(app, Order).email


def set_stock(app, sku: str, stock: int) -> None:
    with app.state.db() as session:
        row = session.exec(select(Product).where(Product.sku == sku)).one()
        row.stock = stock
        session.add(row)
        session.commit()


async def test_replayed_purchase_codes_do_not_sell_out_a_product(store):
    """A purchase code is printed for anyone: replays of it, or many codes from one caller, hold
    at most three unpaid orders an hour; a paid one no longer counts."""
    app, shopper, _ = store
    set_stock(app, "MUG-ENAMEL", 5)
    token = token_for(app, "MUG-ENAMEL")
    answers = [(await create_purchase(shopper, purchaseToken=token, **SAMPLE)).json() for _ in range(5)]
    assert [("invoiceReferenceId" in a) for a in answers] == [True, True, True, False, False]
    assert answers[3] == {"errorCode": "INVOICING_ERROR",
                          "errorMessage": "Too many unpaid orders from this code: pay one of them or try again later."}
    assert product(app, "MUG-ENAMEL").stock == 2
    # Another product's code from the same caller: the caller's limit holds too.
    refused = (await create_purchase(shopper, purchaseToken=token_for(app, "PEN-BLUE"), **SAMPLE)).json()
    assert refused["errorCode"] == "INVOICING_ERROR"
    # Once an order is paid (or expired), the code may be used again.
    with app.state.db() as session:
        order = session.exec(select(Order).order_by(Order.id)).first()
        order.status = "paid"
        session.add(order)
        session.commit()
    assert "invoiceReferenceId" in (await create_purchase(shopper, purchaseToken=token, **SAMPLE)).json()


async def test_the_demo_reset_clears_instant_checkout_orders(store):
    app, shopper, _ = store
    assert "invoiceReferenceId" in (await create_purchase(shopper, purchaseToken=token_for(app, "PEN-BLUE"),
                                                          **SAMPLE)).json()
    with app.state.db() as session:
        reset(session)
        assert session.exec(select(InstantPurchase)).all() == [] and session.exec(select(Order)).all() == []


def _hash(source: str) -> str:
    import base64
    import hashlib

    return "'sha256-" + base64.b64encode(hashlib.sha256(source.encode()).digest()).decode() + "'"

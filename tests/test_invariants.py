"""What must hold whatever the order of events: each test fails when the one line that keeps
it is taken out (the line is named in each test's docstring)."""

from datetime import timedelta

import httpx
import pytest
from sqlmodel import select

from shop.models import Order, OutboxMessage, Payment, Product, utcnow
from shop.money import Money
from shop.payments.attempts import token_for
from shop.payments.contract import Observation, PaymentStatus, StartContext
from shop.testing.shopper import BASE_URL, Shopper, make_settings, running_app

from .rows import change, get, rows

pytestmark = pytest.mark.anyio
S = PaymentStatus








async def pending_payment(app, shopper, method: str = "banktransfer:banktransfer") -> Payment:
    await shopper.add("MUG-ENAMEL")
    assert (await shopper.checkout(method)).status_code == 303
    with app.state.db() as session:
        return session.exec(select(Payment).order_by(Payment.id.desc())).first()


def token_of(app, payment: Payment) -> str:
    return token_for(app.state.settings.secret_key, payment.token_salt)


def money_arrives_unannounced(app, payment: Payment) -> None:
    bank = app.state.sandboxes["banktransfer"].state.sandbox
    bank.webhook_mode = "lost"
    expected = bank.expected[payment.reference]
    bank.book(expected, expected.amount, "Ada")


# --------------------------------------------------------------------------- the ledger


async def test_amount_and_currency_are_checked_for_authorized_as_well_as_paid(app, shopper):
    """ledger.py: ``if target in MONEY_HELD and not self._amount_matches(payment, obs)``."""
    payment = await pending_payment(app, shopper)
    wrong_amount = Observation(S.AUTHORIZED, "authorised", "a1", amount=Money(1, payment.currency))
    wrong_currency = Observation(S.AUTHORIZED, "authorised", "a2", amount=Money(payment.amount_cents, "SEK"))
    for observation in (wrong_amount, wrong_currency):
        result = await app.state.ledger.apply(payment.id, observation)
        assert not result.changed and "amount mismatch" in result.ignored_reason
    assert get(app, Payment, payment.id).status == S.PENDING
    order = get(app, Order, payment.order_id)
    assert order.status == "awaiting_payment" and order.needs_attention


async def test_a_paid_payment_never_moves_back_to_failed(app, shopper):
    """ledger.py: ``S.PAID: frozenset({S.REFUNDED})`` among the legal moves."""
    payment = await pending_payment(app, shopper)
    await app.state.ledger.apply(payment.id, Observation(S.PAID, "credited", "p1",
                                                         amount=Money(payment.amount_cents, payment.currency)))
    for key in ("cart-changed:1", f"never-started:{payment.id}", "start-failed:1"):
        result = await app.state.ledger.apply(payment.id, Observation(S.FAILED, "failed", key, detail="declined"))
        assert not result.changed
    assert get(app, Payment, payment.id).status == S.PAID
    assert get(app, Order, payment.order_id).status == "paid"


async def test_one_confirmation_mail_per_order_however_often_paid_is_seen(app, shopper):
    """ledger.py: ``if status == S.PAID and order.paid_at is None`` before the mail is queued."""
    payment = await pending_payment(app, shopper)
    amount = Money(payment.amount_cents, payment.currency)
    for key in ("credit:1", "credit:2", "manual-receipt"):  # the same fact, seen three ways
        await app.state.ledger.apply(payment.id, Observation(S.PAID, "credited", key, amount=amount))
    second, started, error = await app.state.attempts.start(payment.order_id, "banktransfer", "banktransfer",
                                                            StartContext())
    assert started is not None, error
    await app.state.ledger.apply(second.id, Observation(S.PAID, "credited", "credit:3", amount=amount))
    assert len(rows(app, OutboxMessage, order_id=payment.order_id)) == 1


# --------------------------------------------------------------------------- the reconciler


async def test_a_pass_that_reads_a_payment_paid_does_not_expire_its_order(app, shopper):
    """ledger.py, expire_order: ``if order.status != "awaiting_payment": return False`` (re-read
    under its lock: the pass chose the order as due before it read the payment)."""
    payment = await pending_payment(app, shopper)
    (mug,) = rows(app, Product, sku="MUG-ENAMEL")
    money_arrives_unannounced(app, payment)
    stale = utcnow() - timedelta(hours=1)
    change(app, Payment, payment.id, status_changed_at=stale, last_fetched_at=stale)
    change(app, Order, payment.order_id, expires_at=utcnow() - timedelta(seconds=1))

    counts = await app.state.reconciler.run_once()

    assert counts["read"] == 1 and counts["expired"] == 0
    assert get(app, Payment, payment.id).status == S.PAID
    assert get(app, Order, payment.order_id).status == "paid"
    assert rows(app, Product, sku="MUG-ENAMEL")[0].stock == mug.stock  # still taken for the order


# --------------------------------------------------------------------------- return URLs


async def test_a_return_url_reads_the_provider_back_before_the_page(app, shopper):
    """callbacks.py, handle_return: ``await state.attempts.refresh(payment.id, ...)``."""
    payment = await pending_payment(app, shopper)
    money_arrives_unannounced(app, payment)
    response = await shopper.get(f"/pay/banktransfer/return/{token_of(app, payment)}/done")
    assert response.status_code == 303 and response.headers["location"].startswith("/orders/")
    assert get(app, Payment, payment.id).status == S.PAID  # before the browser follows the redirect


async def test_abort_cancels_the_attempt_at_the_provider(app, shopper):
    """callbacks.py, handle_return: ``await _cancel_abandoned(state, plugin, payment.id, ...)``."""
    payment = await pending_payment(app, shopper)
    response = await shopper.get(f"/pay/banktransfer/return/{token_of(app, payment)}/abort")
    assert response.status_code == 303 and response.headers["location"] == "/checkout"
    assert app.state.sandboxes["banktransfer"].state.sandbox.expected[payment.reference].status == "cancelled"
    assert get(app, Payment, payment.id).status == S.CANCELLED


# --------------------------------------------------------------------------- tokens


async def test_a_token_is_accepted_only_on_its_own_plugins_urls(tmp_path):
    """attempts.py, find_by_token: ``payment.plugin == plugin_id``."""
    async with running_app(make_settings(tmp_path), plugin_ids=["seqr", "secupay"]) as app:
        shopper = Shopper(app)
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
                                   base_url=BASE_URL)
        try:
            payment = await pending_payment(app, shopper, "seqr:seqr")
            token = token_of(app, payment)
            elsewhere = await client.post(f"/pay/secupay/cb/{token}", content=b"{}",
                                          headers={"content-type": "application/json"})
            assert elsewhere.status_code == 404
            assert (await shopper.get(f"/pay/secupay/return/{token}/done")).status_code == 404
            assert app.state.unknown_callbacks.total == 1
            assert (await client.post(f"/pay/seqr/cb/{token}", content=b"")).status_code != 404
        finally:
            await client.aclose()
            await shopper.aclose()

"""Keys built from provider data have no length limit: a secupay read-back names every refund in
its dedupe key. They are stored whatever their length, stay unique, and repeats are still found."""

import pytest
from sqlmodel import select

from plugins.secupay.plugin import _key as secupay_key
from shop.models import Payment, PaymentEvent, Refund, fitted_key
from shop.money import Money
from shop.payments.contract import Observation, PaymentStatus, RefundSeen
from shop.testing.shopper import make_settings

pytestmark = pytest.mark.anyio
S = PaymentStatus
KEY_COLUMN = PaymentEvent.__table__.c.dedupe_key.type.impl.length


@pytest.fixture
def settings(database_url, tmp_path):  # on SQLite and on PostgreSQL
    return make_settings(tmp_path, DATABASE_URL=database_url)


def test_a_key_that_fits_is_kept_and_a_longer_one_becomes_its_start_and_its_digest():
    assert fitted_key("STX_1:completed", 200) == "STX_1:completed"
    long = "STX_1:completed:" + "x" * 300
    fitted = fitted_key(long, 200)
    assert len(fitted) == 200 and fitted.startswith("STX_1:completed:") and fitted == fitted_key(long, 200)
    assert fitted_key(long + "y", 200) != fitted  # the digest is of the whole key: still unique


async def paid_payment(app, shopper):
    await shopper.add("MUG-ENAMEL", 1)
    assert (await shopper.checkout("banktransfer:banktransfer")).status_code == 303
    with app.state.db() as session:
        payment = session.exec(select(Payment).order_by(Payment.id.desc())).first()
    await app.state.ledger.apply(payment.id, Observation(S.PAID, "credited", "k1", amount=Money(payment.amount_cents)))
    return payment


async def test_eight_partial_refunds_make_a_long_key_that_is_stored_once(app, shopper):
    payment = await paid_payment(app, shopper)
    refunds = tuple(RefundSeen(f"PCI_{n:02d}REFUND0000000000000000000000", Money(100)) for n in range(8))
    key = secupay_key("STX_8K3NTQ2F92XHF5B6HJWEVQ5YD5KAPP", "completed", "PCI_2FY48DT0P2X6G636N5QK64UK2ADZAZ", 1,
                      refunds)
    assert len(key) > KEY_COLUMN
    observation = Observation(S.PAID, "completed / accepted (1)", key, amount=Money(payment.amount_cents),
                              refunds=refunds)

    first = await app.state.ledger.apply(payment.id, observation)
    again = await app.state.ledger.apply(payment.id, observation)

    assert first.changed and not first.duplicate and first.status == S.PAID
    assert again.duplicate and not again.changed
    with app.state.db() as session:
        (stored,) = session.exec(select(PaymentEvent.dedupe_key).where(PaymentEvent.payment_id == payment.id,
                                                                       PaymentEvent.dedupe_key.like("STX_%")))
        assert len(session.exec(select(Refund).where(Refund.payment_id == payment.id)).all()) == 8
    assert stored == fitted_key(key, KEY_COLUMN) and len(stored) == KEY_COLUMN


async def test_refunded_outside_the_shop_under_a_long_key_books_one_refund(app, shopper):
    payment = await paid_payment(app, shopper)
    key = "STX_8K3NTQ2F92XHF5B6HJWEVQ5YD5KAPP:refunded:" + ",".join(f"PCI_{n:030d}" for n in range(8))
    refunded = Observation(S.REFUNDED, "refunded", key)

    first = await app.state.ledger.apply(payment.id, refunded)
    again = await app.state.ledger.apply(payment.id, refunded)

    assert first.changed and first.status == S.REFUNDED
    assert again.duplicate
    with app.state.db() as session:
        (refund,) = session.exec(select(Refund).where(Refund.payment_id == payment.id))
    assert refund.amount_cents == payment.amount_cents
    assert refund.provider_id == fitted_key(f"external:{key}", 80)

import pytest
from sqlmodel import select

from shop.models import Order, Payment, PaymentEvent, Product, Refund
from shop.money import Money
from shop.payments.contract import Observation, PaymentStatus, RefundSeen
from shop.payments.ledger import Ledger, path

from .rows import rows

pytestmark = pytest.mark.anyio
S = PaymentStatus


def test_legal_paths():
    assert path(S.CREATED, S.PENDING) == [S.PENDING]
    assert path(S.CREATED, S.PAID) == [S.PENDING, S.PAID]
    assert path(S.PENDING, S.PAID) == [S.PAID]
    assert path(S.AUTHORIZED, S.PAID) == [S.PAID]
    assert path(S.PAID, S.PAID) == []
    assert path(S.PAID, S.PENDING) is None
    assert path(S.PAID, S.CANCELLED) is None
    assert path(S.FAILED, S.PENDING) is None
    assert path(S.PENDING, S.REFUNDED) is None


async def pending_payment(app, shopper):
    await shopper.add("MUG-ENAMEL", 1)
    response = await shopper.checkout("banktransfer:banktransfer")
    assert response.status_code == 303
    with app.state.db() as session:
        return session.exec(select(Payment).order_by(Payment.id.desc())).first()




async def test_a_repeated_observation_is_recorded_and_changes_nothing(app, shopper):
    payment = await pending_payment(app, shopper)
    paid = Observation(S.PAID, "credited", "k1", amount=Money(payment.amount_cents))
    first = await app.state.ledger.apply(payment.id, paid)
    second = await app.state.ledger.apply(payment.id, paid)
    assert first.changed and not second.changed and second.duplicate
    events = rows(app, PaymentEvent, payment_id=payment.id)
    assert sum(e.operation == "pending -> paid" for e in events) == 1
    assert any(e.kind == "ignored" and e.operation.startswith("duplicate") for e in events)


async def test_a_read_back_that_repeats_what_the_shop_knows_still_counts_as_a_read(app, shopper):
    """Otherwise the reconciler reads an unchanged payment again on every pass, not once per interval."""
    payment = await pending_payment(app, shopper)
    still_open = Observation(S.PENDING, "open", "k-open")
    await app.state.ledger.apply(payment.id, still_open)
    first_read = rows(app, Payment, id=payment.id)[0].last_fetched_at
    await app.state.ledger.apply(payment.id, still_open)
    assert rows(app, Payment, id=payment.id)[0].last_fetched_at > first_read


async def test_a_backward_observation_changes_nothing(app, shopper):
    payment = await pending_payment(app, shopper)
    await app.state.ledger.apply(payment.id, Observation(S.PAID, "credited", "k1", amount=Money(payment.amount_cents)))
    result = await app.state.ledger.apply(payment.id, Observation(S.PENDING, "open", "k2"))
    assert not result.changed and result.status == S.PAID


async def test_a_wrong_amount_never_marks_paid_and_flags_the_order(app, shopper):
    payment = await pending_payment(app, shopper)
    result = await app.state.ledger.apply(payment.id, Observation(S.PAID, "credited", "k1", amount=Money(1)))
    assert not result.changed and "amount mismatch" in result.ignored_reason
    (order,) = rows(app, Order, id=payment.order_id)
    assert order.needs_attention and order.status == "awaiting_payment"
    wrong_currency = Observation(S.PAID, "credited", "k2", amount=Money(payment.amount_cents, "SEK"))
    assert not (await app.state.ledger.apply(payment.id, wrong_currency)).changed


async def test_money_held_without_an_amount_is_not_trusted_from_a_provider_that_reports_amounts(app, shopper):
    """Bank transfer's bank says what arrived: its PAID without an amount is not taken as paid."""
    payment = await pending_payment(app, shopper)
    assert app.state.plugins["banktransfer"].reports_amount
    for status, key in ((S.AUTHORIZED, "a1"), (S.PAID, "p1")):
        result = await app.state.ledger.apply(payment.id, Observation(status, "credited", key))
        assert not result.changed and "no amount" in result.ignored_reason
    (order,) = rows(app, Order, id=payment.order_id)
    assert order.needs_attention and order.status == "awaiting_payment"
    # Statuses that hold no money need no amount.
    assert (await app.state.ledger.apply(payment.id, Observation(S.FAILED, "rejected", "f1"))).changed


async def test_money_held_without_an_amount_is_taken_from_a_provider_that_never_reports_one(app, shopper):
    """SeQura checks the amount the shop sends at confirmation instead: its PAID carries none,
    and the payment's timeline says the amount was not reported."""
    payment = await pending_payment(app, shopper)
    app.state.ledger = Ledger(app.state.db, app.state.bus, amount_unreported_by=["banktransfer"])
    result = await app.state.ledger.apply(payment.id, Observation(S.PAID, "confirmed", "p1"))
    assert result.changed and result.status == S.PAID
    events = rows(app, PaymentEvent, payment_id=payment.id)
    assert any(e.operation == "confirmed: amount not reported" for e in events)


async def test_late_money_is_kept_flagged_and_takes_the_stock_again(app, shopper):
    payment = await pending_payment(app, shopper)
    (mug,) = rows(app, Product, sku="MUG-ENAMEL")
    assert await app.state.ledger.expire_order(payment.order_id, "test")
    assert rows(app, Product, sku="MUG-ENAMEL")[0].stock == mug.stock + 1
    result = await app.state.ledger.apply(payment.id, Observation(S.PAID, "credited", "late", amount=Money(payment.amount_cents)))
    assert result.changed and result.late
    (late,) = rows(app, Payment, id=payment.id)
    (order,) = rows(app, Order, id=payment.order_id)
    assert late.status == S.PAID and late.late_payment
    assert order.status == "paid" and order.needs_attention and "late payment" in order.attention_reason
    assert rows(app, Product, sku="MUG-ENAMEL")[0].stock == mug.stock


async def test_partial_refunds_keep_it_paid_and_the_last_one_refunds_it(app, shopper):
    payment = await pending_payment(app, shopper)
    await app.state.ledger.apply(payment.id, Observation(S.PAID, "credited", "k1", amount=Money(payment.amount_cents)))
    await app.state.ledger.record_refund(payment.id, RefundSeen("r1", Money(500)))
    await app.state.ledger.record_refund(payment.id, RefundSeen("r1", Money(500)))  # the same refund again
    assert rows(app, Payment, id=payment.id)[0].status == S.PAID
    assert len(rows(app, Refund, payment_id=payment.id)) == 1
    await app.state.ledger.record_refund(payment.id, RefundSeen("r2", Money(payment.amount_cents - 500)))
    assert rows(app, Payment, id=payment.id)[0].status == S.REFUNDED
    assert rows(app, Order, id=payment.order_id)[0].status == "refunded"


async def test_paying_publishes_one_status_message_and_queues_a_confirmation(app, shopper):
    payment = await pending_payment(app, shopper)
    (order,) = rows(app, Order, id=payment.order_id)
    async with app.state.bus.subscribe(order.public_id) as queue:
        await app.state.ledger.apply(payment.id, Observation(S.PAID, "credited", "k1", amount=Money(payment.amount_cents)))
        await app.state.ledger.apply(payment.id, Observation(S.PAID, "credited", "k1", amount=Money(payment.amount_cents)))
        message = queue.get_nowait()
        assert message == {"order": order.public_id, "payment": payment.id, "status": "paid", "order_status": "paid"}
        assert queue.empty()
    from shop.models import OutboxMessage
    (mail,) = rows(app, OutboxMessage, order_id=order.id)
    assert mail.recipient == "ada@example.com" and order.number in mail.subject


async def test_a_second_payment_on_a_paid_order_is_flagged_as_double(app, shopper):
    payment = await pending_payment(app, shopper)
    await app.state.ledger.apply(payment.id, Observation(S.PAID, "credited", "k1", amount=Money(payment.amount_cents)))
    from shop.payments.contract import StartContext
    second, started, error = await app.state.attempts.start(payment.order_id, "banktransfer", "banktransfer", StartContext())
    assert started is not None, error
    await app.state.ledger.apply(second.id, Observation(S.PAID, "credited", "k2", amount=Money(payment.amount_cents)))
    (order,) = rows(app, Order, id=payment.order_id)
    assert order.needs_attention and "double payment" in order.attention_reason


async def test_refunded_at_the_provider_books_the_remainder_as_one_refund(app, shopper):
    payment = await pending_payment(app, shopper)
    await app.state.ledger.apply(payment.id, Observation(S.PAID, "credited", "k1", amount=Money(payment.amount_cents)))
    await app.state.ledger.record_refund(payment.id, RefundSeen("r1", Money(300)))
    result = await app.state.ledger.apply(payment.id, Observation(S.REFUNDED, "refunded", "k2"))
    assert result.changed and result.status == S.REFUNDED
    refunds = {r.provider_id: r.amount_cents for r in rows(app, Refund, payment_id=payment.id)}
    assert refunds == {"r1": 300, "external:k2": payment.amount_cents - 300}
    events = rows(app, PaymentEvent, payment_id=payment.id)
    assert not any(e.kind == "ignored" for e in events)
    assert sum(e.operation == "paid -> refunded" for e in events) == 1
    again = await app.state.ledger.apply(payment.id, Observation(S.REFUNDED, "refunded", "k2"))
    assert again.duplicate and len(rows(app, Refund, payment_id=payment.id)) == 2

"""Money moves in the back office only after the merchant says yes: a refund, a cancel, a
capture or a plugin action that asks a question first shows a confirmation page (the JS dialog
sends the form already confirmed); and an action is offered only while the payment allows it."""

import re

import pytest
from sqlmodel import select

from shop.models import Order, Payment, Refund
from shop.money import Money
from shop.payments.contract import Observation, PaymentStatus

from .rows import rows

pytestmark = pytest.mark.anyio
S = PaymentStatus


async def paid_order(app, shopper) -> tuple[str, Payment]:
    await shopper.add("MUG-ENAMEL", 1)
    assert (await shopper.checkout("banktransfer:banktransfer")).status_code == 303
    with app.state.db() as session:
        payment = session.exec(select(Payment).order_by(Payment.id.desc())).first()
    number = rows(app, Order, id=payment.order_id)[0].number
    await shopper.login_admin()
    return number, payment


async def test_cancelling_asks_first_and_moves_nothing_until_confirmed(app, shopper):
    number, payment = await paid_order(app, shopper)
    url = f"/admin/orders/{number}/payments/{payment.id}/cancel"
    asked = await shopper.post(url)
    assert asked.status_code == 200 and "Please confirm" in asked.text
    assert f"Cancel this payment of {Money(payment.amount_cents).display()}?" in asked.text
    assert re.search(rf'<form method="post" action="{url}"', asked.text)
    assert '<input type="hidden" name="confirmed" value="yes">' in asked.text
    assert rows(app, Payment, id=payment.id)[0].status == S.PENDING
    done = await shopper.post(url, {"confirmed": "yes"})
    assert done.status_code == 303
    assert rows(app, Payment, id=payment.id)[0].status == S.CANCELLED


async def test_a_plugin_action_with_a_question_asks_it_before_running(app, shopper):
    number, payment = await paid_order(app, shopper)
    url = f"/admin/orders/{number}/payments/{payment.id}/action/mark_received"
    asked = await shopper.post(url)
    assert "Has the full amount arrived on the account?" in asked.text
    assert rows(app, Payment, id=payment.id)[0].status == S.PENDING
    assert (await shopper.post(url, {"confirmed": "yes"})).status_code == 303
    assert rows(app, Payment, id=payment.id)[0].status == S.PAID


async def test_a_refund_asks_with_the_amount_and_keeps_it_for_the_confirmed_post(app, shopper):
    number, payment = await paid_order(app, shopper)
    await app.state.ledger.apply(payment.id, Observation(S.PAID, "credited", "k", amount=Money(payment.amount_cents)))
    url = f"/admin/orders/{number}/payments/{payment.id}/refund"
    asked = await shopper.post(url, {"refund_amount": "1.50", "reason": "scratched"})
    assert f"Refund €1.50 of order {number} to the customer?" in asked.text
    assert '<input type="hidden" name="refund_amount" value="1.50">' in asked.text
    assert rows(app, Refund, payment_id=payment.id) == []


async def test_a_cancelled_bank_transfer_offers_no_mark_received_nor_cancel(app, shopper):
    number, payment = await paid_order(app, shopper)
    page = (await shopper.get(f"/admin/orders/{number}")).text
    assert "Mark transfer received" in page and "Cancel payment" in page
    await shopper.post(f"/admin/orders/{number}/payments/{payment.id}/cancel", {"confirmed": "yes"})
    page = (await shopper.get(f"/admin/orders/{number}")).text
    assert "Mark transfer received" not in page and "Cancel payment" not in page
    refused = await shopper.post(f"/admin/orders/{number}/payments/{payment.id}/action/mark_received",
                                 {"confirmed": "yes"})
    assert refused.status_code == 303
    assert rows(app, Payment, id=payment.id)[0].status == S.CANCELLED

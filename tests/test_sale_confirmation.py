"""Authorized is a done sale for the shopper: the cart empties and the confirmation is queued as
on paid, once; letting the authorization go cancels the order and puts its goods back, once."""

import pytest
from sqlmodel import select

from shop.mailer import email_of
from shop.models import CartLine, Order, OutboxMessage, Payment, Product
from shop.money import Money
from shop.payments.contract import Observation, PaymentStatus

from .rows import rows

pytestmark = pytest.mark.anyio
S = PaymentStatus


async def placed(app, shopper):
    await shopper.add("MUG-ENAMEL", 2)
    response = await shopper.checkout("banktransfer:banktransfer")
    assert response.status_code == 303
    with app.state.db() as session:
        return session.exec(select(Payment).order_by(Payment.id.desc())).first()


def authorized(payment, key="auth"):
    return Observation(S.AUTHORIZED, "authorized", key, amount=Money(payment.amount_cents))


async def test_authorized_empties_the_cart_and_queues_the_confirmation_once(app, shopper):
    payment = await placed(app, shopper)
    (order,) = rows(app, Order, id=payment.order_id)
    assert rows(app, CartLine, cart_id=order.cart_id)
    await app.state.ledger.apply(payment.id, authorized(payment))
    assert rows(app, CartLine, cart_id=order.cart_id) == []
    assert len(rows(app, OutboxMessage, order_id=order.id)) == 1
    # Captured later: the sale was confirmed already, no second mail.
    await app.state.ledger.apply(payment.id, Observation(S.PAID, "captured", "cap", amount=Money(payment.amount_cents)))
    assert len(rows(app, OutboxMessage, order_id=order.id)) == 1
    assert rows(app, Order, id=order.id)[0].status == "paid"


@pytest.mark.parametrize("ending", [S.CANCELLED, S.EXPIRED])
async def test_letting_an_authorization_go_cancels_the_order_releases_stock_once_and_tells_the_page(
        app, shopper, ending):
    payment = await placed(app, shopper)
    (mug,) = rows(app, Product, sku="MUG-ENAMEL")  # two held by the order
    await app.state.ledger.apply(payment.id, authorized(payment))
    (order,) = rows(app, Order, id=payment.order_id)
    async with app.state.bus.subscribe(order.public_id) as queue:
        await app.state.ledger.apply(payment.id, Observation(ending, str(ending), "gone"))
        assert queue.get_nowait() == {"order": order.public_id, "payment": payment.id, "status": str(ending),
                                      "order_status": "cancelled"}
    assert rows(app, Order, id=order.id)[0].status == "cancelled"
    assert rows(app, Product, sku="MUG-ENAMEL")[0].stock == mug.stock + 2
    await app.state.ledger.apply(payment.id, Observation(ending, str(ending), "gone-again"))
    assert rows(app, Product, sku="MUG-ENAMEL")[0].stock == mug.stock + 2


async def test_a_failed_attempt_on_an_unpaid_order_leaves_it_open_for_another_try(app, shopper):
    payment = await placed(app, shopper)
    await app.state.ledger.apply(payment.id, Observation(S.FAILED, "declined", "no"))
    assert rows(app, Order, id=payment.order_id)[0].status == "awaiting_payment"


async def test_the_confirmation_has_lines_totals_addresses_and_method_as_text_and_html(app, shopper):
    payment = await placed(app, shopper)
    await app.state.ledger.apply(payment.id, authorized(payment))
    (order,) = rows(app, Order, id=payment.order_id)
    (mail,) = rows(app, OutboxMessage, order_id=order.id)
    total = Money(order.total_cents, order.currency).display()
    for body in (mail.body, mail.html_body):
        assert "2 x Enamel camping mug" in body or ("Enamel camping mug" in body and ">2<" in body)
        assert "Shipping" in body and "Total" in body and total in body
        assert "Calle Mayor 1" in body and "28013 Madrid" in body
        assert "Bank transfer" in body
    assert "<table" in mail.html_body and "<table" not in mail.body
    email = email_of(mail)
    assert email.is_multipart()
    assert [part.get_content_type() for part in email.iter_parts()] == ["text/plain", "text/html"]

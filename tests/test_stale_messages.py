"""A message goes when the state it describes changes: a refused discount code once a code is
applied, a provider's sentence about an earlier state ("SeQura is reviewing your order") once
the payment moves, and "you left the payment page" where the shop cannot know the shopper left."""

from types import SimpleNamespace

import pytest
from sqlmodel import select

from shop.models import Order, Payment
from shop.payments.callbacks import _why_back
from shop.payments.contract import Observation, PaymentStatus

from .rows import rows

pytestmark = pytest.mark.anyio
S = PaymentStatus
HTMX = {"HX-Request": "true"}
CLEARS_ERRORS = '<div id="cart-message" aria-live="polite" hx-swap-oob="true"></div>'


async def test_applying_a_valid_code_clears_the_refused_codes_error(app, shopper):
    await shopper.add("MUG-ENAMEL", 1)
    refused = await shopper.post("/cart/code", {"code": "NOPE"}, headers=HTMX)
    assert refused.status_code == 422 and "The code NOPE is not valid." in refused.text
    assert CLEARS_ERRORS not in refused.text
    applied = await shopper.post("/cart/code", {"code": "WELCOME10"}, headers=HTMX)
    assert applied.status_code == 200 and "Code WELCOME10 applied." in applied.text
    assert CLEARS_ERRORS in applied.text
    assert CLEARS_ERRORS not in (await shopper.get("/cart")).text  # the page itself has its own, once


async def test_a_new_state_drops_the_sentence_of_the_old_one(app, shopper):
    await shopper.add("MUG-ENAMEL", 1)
    await shopper.checkout("banktransfer:banktransfer")
    with app.state.db() as session:
        payment = session.exec(select(Payment)).one()
    await app.state.ledger.apply(payment.id, Observation(S.PENDING, "on_hold", "hold",
                                                         detail="SeQura is reviewing your order."))
    assert rows(app, Payment, id=payment.id)[0].detail == "SeQura is reviewing your order."
    await app.state.ledger.apply(payment.id, Observation(S.CANCELLED, "cancelled", "gone"))
    assert rows(app, Payment, id=payment.id)[0].detail == ""
    (order,) = rows(app, Order, id=payment.order_id)
    order_page = (await shopper.get(f"/orders/{order.public_id}")).text
    assert "Payment cancelled" in order_page and "reviewing" not in order_page


def test_back_from_a_provider_without_read_back_does_not_claim_the_shopper_left():
    without = SimpleNamespace(name="SeQura", has_read_back=False)
    with_read_back = SimpleNamespace(name="secupay", has_read_back=True)
    closed = SimpleNamespace(status=S.CANCELLED, detail="Cancelled in the shop; SeQura had not confirmed the order")
    message, _ = _why_back(without, closed, started_here=True)
    assert "You left" not in message and "not completed" in message
    assert _why_back(with_read_back, closed, started_here=True)[0].startswith("You left the payment page")
    declined = SimpleNamespace(status=S.FAILED, detail="")
    assert _why_back(with_read_back, declined, started_here=True) == (
        "secupay declined the payment; no money was taken. Please choose another way to pay.", "error")

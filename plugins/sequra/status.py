"""SeQura's words -> Cartwheel payment status: one table.

The words come from three places: order states (solicited, approved, needs_review, confirmed,
on_hold, shipped, cancelled; "rejected" is the form's terminal outcome), the IPN's ``sq_state``
(approved, needs_review, cancelled) and the events webhook's ``event`` (cancelled, cancel,
risk_assessment).

Choices:
- ``confirmed`` is PAID, not AUTHORIZED. Once the shop's confirm PUT is accepted, SeQura owes
  the merchant the whole amount and carries the shopper's credit; there is no capture call and
  no amount the merchant still has to claim (shipping is reported, not captured). Refunds and
  cancellation afterwards go through the Order Update API as refunds.
- ``approved`` alone (IPN received, shop has not confirmed) is still PENDING: the order only
  exists once the confirm PUT succeeds, and a 409 there cancels it.
- ``needs_review`` / ``on_hold`` are PENDING: SeQura decides within about a minute.
- ``cancelled`` (review failed, or SeQura cancelled) and ``cancel`` (SeQura asks the shop to
  cancel a confirmed order, which the plugin then does) are CANCELLED.
- ``rejected`` (the form turned the shopper down; no IPN) is FAILED.
- ``risk_assessment`` carries information only; it maps to None: "no change".
"""

from __future__ import annotations

from shop.payments.contract import PaymentStatus

STATUS: dict[str, PaymentStatus | None] = {
    "solicited": PaymentStatus.PENDING,
    "approved": PaymentStatus.PENDING,
    "needs_review": PaymentStatus.PENDING,
    "on_hold": PaymentStatus.PENDING,
    "confirmed": PaymentStatus.PAID,
    "shipped": PaymentStatus.PAID,
    "rejected": PaymentStatus.FAILED,
    "cancelled": PaymentStatus.CANCELLED,
    "cancel": PaymentStatus.CANCELLED,
    "risk_assessment": None,
}

# What the shop PUTs in answer to each IPN state.
CONFIRM_STATE = {"approved": "confirmed", "needs_review": "on_hold"}

IPN_STATES = frozenset({"approved", "needs_review", "cancelled"})
EVENTS = frozenset({"cancelled", "cancel", "risk_assessment"})


def to_status(word: str) -> PaymentStatus | None:
    """Raises KeyError for a word SeQura is not known to use: better loud than guessed."""
    return STATUS[word]

"""secupay statuses -> Cartwheel's PaymentStatus.

Two layers: the Smart Transaction's status word, and the Payment Transaction's *simple* status
(an int; the detailed status is German display text). Once a Payment Transaction exists its
simple status is the finer fact and wins; before that the Smart Transaction's word decides."""

from __future__ import annotations

from shop.payments.contract import PaymentStatus as S

STX_STATUS: dict[str, S] = {
    "created": S.PENDING,  # the shopper is (or was) in the hosted checkout
    "processing": S.PENDING,  # loyalty part-payment in progress
    "approved": S.AUTHORIZED,  # authorised, waiting for capture (auto_capture off)
    "pending": S.PENDING,  # capture requested: prepaid transfer awaited, risk check
    "ok": S.PAID,
    "received": S.PAID,  # intent "order": like ok
    "shipped": S.PAID,
    "collection": S.PAID,
    "collected": S.PAID,
    "failed": S.FAILED,
    "cancelled": S.CANCELLED,
}

SIMPLE_STATUS: dict[int, S] = {
    0: S.PENDING,  # proceed: initial
    1: S.PAID,  # accepted
    2: S.AUTHORIZED,  # authorized (prepaid waiting: see payment_status)
    3: S.FAILED,  # denied
    4: S.PAID,  # issue (chargeback): money was paid; the merchant must look at it
    5: S.CANCELLED,  # void (refunded, when refunds exist: see payment_status)
    6: S.PAID,  # issue_resolved
    7: S.CANCELLED,  # refund flagged (as void)
    8: S.PENDING,  # created
    9: S.PAID,  # paid (invoice money received)
    10: S.PENDING,  # pending: prepaid transfer or risk check awaited
    11: S.AUTHORIZED,  # subscription_approved
    12: S.FAILED,  # subscription_declined
    13: S.PENDING,  # on_hold
    14: S.AUTHORIZED,  # waiting_for_shipment: invoice, the merchant captures on shipping
    15: S.AUTHORIZED,  # container_authorized
    16: S.FAILED,  # container_denied
}

SIMPLE_TEXT: dict[int, str] = {
    0: "proceed", 1: "accepted", 2: "authorized", 3: "denied", 4: "issue", 5: "void",
    6: "issue_resolved", 7: "refund", 8: "created", 9: "paid", 10: "pending",
    11: "subscription_approved", 12: "subscription_declined", 13: "on_hold",
    14: "waiting_for_shipment", 15: "container_authorized", 16: "container_denied",
}

# Bank-transfer methods: "authorized" there means the transfer is still awaited (the API's
# own prepaid example shows simple status 2 while waiting; pretix reads 10 for it).
_TRANSFER_AWAITED = {"prepaid"}


def stx_status(word: str | None) -> S:
    return STX_STATUS.get((word or "").lower(), S.PENDING)


def payment_status(stx: str | None, simple: int | None, method: str | None = None,
                   refunded: bool = False) -> S:
    """The status of one payment from what the Smart and Payment Transactions say."""
    if simple is None or simple not in SIMPLE_STATUS:
        return stx_status(stx)
    if (stx or "").lower() == "cancelled":
        return S.CANCELLED
    if simple == 2 and method in _TRANSFER_AWAITED:
        return S.PENDING
    if simple in (5, 7) and refunded:
        # Void after money moved: still paid; the refunds themselves make it refunded.
        return S.PAID
    return SIMPLE_STATUS[simple]

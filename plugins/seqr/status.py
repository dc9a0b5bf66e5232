"""SEQR invoice status -> Cartwheel payment status."""

from __future__ import annotations

from shop.payments.contract import PaymentStatus

# Every invoiceStatus value SEQR's schema allows (EXPIRED since the 2.10 libraries).
STATUSES: dict[str, PaymentStatus] = {
    "ISSUED": PaymentStatus.PENDING,  # waiting for the payer to scan and pay
    "PENDING_ISSUER_ACKNOWLEDGE": PaymentStatus.PENDING,  # payer identified, merchant must update
    # Reading PAID is itself the commit, so a PAID we see is money that moved.
    "PAID": PaymentStatus.PAID,
    "RESERVED": PaymentStatus.AUTHORIZED,  # money held until commitReservation
    "CANCELED": PaymentStatus.CANCELLED,  # merchant/payer cancel, or reversed after the commit window
    "FAILED": PaymentStatus.FAILED,  # the payer's bank declined
    "EXPIRED": PaymentStatus.EXPIRED,
}


def to_payment_status(seqr_status: str) -> PaymentStatus:
    """Unknown words raise: a status we cannot place must not pass silently as pending."""
    try:
        return STATUSES[seqr_status]
    except KeyError:
        raise ValueError(f"unknown SEQR invoice status {seqr_status!r}") from None

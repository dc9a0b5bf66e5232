"""The bank's expected-credit states -> payment states."""

from shop.payments.contract import PaymentStatus

# "open" with some money in it stays pending: part-payments are shown, not accepted.
STATUSES: dict[str, PaymentStatus] = {
    "open": PaymentStatus.PENDING,
    "partially_credited": PaymentStatus.PENDING,
    "credited": PaymentStatus.PAID,
    "cancelled": PaymentStatus.CANCELLED,
}


def to_status(bank_status: str) -> PaymentStatus:
    try:
        return STATUSES[bank_status]
    except KeyError:
        raise ValueError(f"unknown expected-credit status {bank_status!r}") from None

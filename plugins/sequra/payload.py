"""The Order API payload, built from the frozen order. One builder for the solicitation and
every later PUT, so SeQura's "cart changed" check fires only on real changes."""

from __future__ import annotations

import hashlib
import hmac
import platform as os_platform
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from shop.money import Money
from shop.payments.contract import Address, LineKind, OrderLine, OrderSnapshot

ROUNDING_REFERENCE = "rounding"


# --------------------------------------------------------------------------- the HMAC


def sign(secret: str, kind: str, payment_id: int | str, order_number: str) -> str:
    """Hex HMAC-SHA256 the shop puts into the notification parameters and gets back.

    ``kind`` ("ipn" or "events") keeps an IPN signature from passing as an event's."""
    message = f"{kind}:{payment_id}:{order_number}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_ok(secret: str, kind: str, payment_id: int | str, order_number: str, given: str) -> bool:
    expected = sign(secret, kind, payment_id, order_number)
    return hmac.compare_digest(expected.encode(), given.encode())


# --------------------------------------------------------------------------- the parts


@dataclass(frozen=True)
class Merchant:
    """What goes into ``order.merchant``. No URLs at all for an isolated till."""

    id: str
    notify_url: str | None = None
    return_url: str | None = None
    abort_url: str | None = None
    events_url: str | None = None
    notification_parameters: Mapping[str, str] = field(default_factory=dict)
    events_parameters: Mapping[str, str] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id}
        if self.notify_url:
            data["notify_url"] = self.notify_url
            data["notification_parameters"] = dict(self.notification_parameters)
        if self.return_url:
            data["return_url"] = self.return_url
        if self.abort_url:
            data["abort_url"] = self.abort_url
        if self.events_url:
            data["events_webhook"] = {"url": self.events_url, "parameters": dict(self.events_parameters)}
        return data


@dataclass(frozen=True)
class Shopper:
    """The shopper's device, kept at start so that the confirm PUT repeats it exactly."""

    ip_number: str = ""
    user_agent: str = ""
    mobile: bool = False

    def as_data(self) -> dict[str, Any]:
        return {"ip_number": self.ip_number, "user_agent": self.user_agent, "mobile": self.mobile}

    @classmethod
    def from_data(cls, data: Mapping[str, Any] | None) -> Shopper:
        data = data or {}
        return cls(str(data.get("ip_number", "")), str(data.get("user_agent", "")), bool(data.get("mobile", False)))


@dataclass(frozen=True)
class Platform:
    name: str = "Cartwheel"
    version: str = "0.1.0"

    def as_json(self) -> dict[str, str]:
        return {"name": self.name, "version": self.version, "uname": os_platform.system(),
                "db_name": "sqlite", "db_version": "3"}


# --------------------------------------------------------------------------- cart items


def item(line: OrderLine) -> dict[str, Any]:
    """One order line as a SeQura item: products, shipping as ``handling``, discounts."""
    total = line.total.minor
    if line.kind is LineKind.PRODUCT:
        if total < 0:
            raise ValueError(f"product {line.reference!r} has a negative total")
        return {"type": "product", "reference": line.reference, "name": line.name,
                "price_with_tax": line.unit_price.minor, "quantity": line.quantity,
                "total_with_tax": total, "downloadable": False}
    if line.kind is LineKind.SHIPPING:
        if total < 0:
            raise ValueError("shipping cannot be negative")
        return {"type": "handling", "reference": line.reference or "shipping", "name": line.name,
                "total_with_tax": total}
    if line.kind is LineKind.DISCOUNT:
        # Shops store discounts either signed or as positive amounts; SeQura wants <= 0.
        return {"type": "discount", "reference": line.reference or "discount", "name": line.name,
                "total_with_tax": -abs(total)}
    raise ValueError(f"unknown line kind {line.kind!r}")


def cart_items(lines: Iterable[OrderLine], expected_total: Money | None = None) -> list[dict[str, Any]]:
    """Items whose totals add up to ``expected_total`` when given.

    A shop that rounds per order and not per line can be off by a few cents; like SeQura's own
    plugins we add a ``handling`` (or ``discount``) item for the difference instead of sending
    totals that do not add up."""
    items = [item(line) for line in lines]
    if expected_total is not None:
        diff = expected_total.minor - sum(i["total_with_tax"] for i in items)
        if diff > 0:
            items.append({"type": "handling", "reference": ROUNDING_REFERENCE,
                          "name": "Rounding adjustment", "total_with_tax": diff})
        elif diff < 0:
            items.append({"type": "discount", "reference": ROUNDING_REFERENCE,
                          "name": "Rounding adjustment", "total_with_tax": diff})
    return items


def cart(order: OrderSnapshot, expected_total: Money | None = None, *, cart_ref: str = "") -> dict[str, Any]:
    items = cart_items(order.lines, expected_total)
    data: dict[str, Any] = {"currency": order.currency, "gift": False,
                            "order_total_with_tax": sum(i["total_with_tax"] for i in items),
                            "items": items}
    if cart_ref:
        data["cart_ref"] = cart_ref
    return data


def empty_cart(currency: str) -> dict[str, Any]:
    return {"currency": currency, "gift": False, "order_total_with_tax": 0, "items": []}


# --------------------------------------------------------------------------- people


def address(addr: Address, phone: str = "") -> dict[str, Any]:
    phone = addr.phone or phone
    data: dict[str, Any] = {"given_names": addr.given_names, "surnames": addr.surname,
                            "company": addr.company, "address_line_1": addr.line1,
                            "address_line_2": addr.line2, "postal_code": addr.postal_code,
                            "city": addr.city, "country_code": addr.country_code.upper()}
    if phone:
        data["phone"] = phone
        data["mobile_phone"] = phone
    return data


def language_code(language: str, country: str) -> str:
    """SeQura wants language-region, e.g. es-ES."""
    language = (language or "es").split("-")[0].split("_")[0].lower()
    return f"{language}-{(country or 'ES').upper()}"


def customer(order: OrderSnapshot, shopper: Shopper) -> dict[str, Any]:
    c = order.customer
    data: dict[str, Any] = {"given_names": c.given_names, "surnames": c.surname, "email": c.email,
                            "logged_in": "unknown",
                            "language_code": language_code(c.language, order.delivery_address.country_code),
                            "ip_number": shopper.ip_number or "127.0.0.1",
                            "user_agent": shopper.user_agent or "unknown"}
    if c.date_of_birth:
        data["date_of_birth"] = c.date_of_birth
    return data


# --------------------------------------------------------------------------- the whole order


def order_payload(order: OrderSnapshot, *, merchant: Merchant, shopper: Shopper, platform: Platform,
                  state: str = "", amount: Money | None = None, order_ref_1: str | None = None,
                  order_ref_2: str | None = None) -> dict[str, Any]:
    """``{"order": {...}}`` for POST /orders and PUT {order_uri}."""
    body: dict[str, Any] = {
        "state": state,
        "merchant": merchant.as_json(),
        "cart": cart(order, amount, cart_ref=order.cart_hash[:32]),
        "delivery_method": {"name": _delivery_name(order), "home_delivery": True},
        "delivery_address": address(order.delivery_address, order.customer.phone),
        "invoice_address": address(order.invoice_address, order.customer.phone),
        "customer": customer(order, shopper),
        "gui": {"layout": "smartphone" if shopper.mobile else "desktop"},
        "platform": platform.as_json(),
    }
    if order_ref_1:
        reference = {"order_ref_1": order_ref_1}
        if order_ref_2:
            reference["order_ref_2"] = order_ref_2
        body["merchant_reference"] = reference
    return {"order": body}


def _delivery_name(order: OrderSnapshot) -> str:
    shipping = order.lines_of(LineKind.SHIPPING)
    return shipping[0].name if shipping else "Standard"


def update_payload(order: OrderSnapshot, *, merchant_ref: str, order_ref_1: str, platform: Platform,
                   shipped: list[dict[str, Any]] | None, unshipped: list[dict[str, Any]] | None) -> dict[str, Any]:
    """Order Update API body. ``None`` for a cart means empty (total 0, no items)."""

    def as_cart(items: list[dict[str, Any]] | None) -> dict[str, Any]:
        if not items:
            return empty_cart(order.currency)
        return {"currency": order.currency, "gift": False,
                "order_total_with_tax": sum(i["total_with_tax"] for i in items), "items": items}

    return {"order": {
        "merchant": {"id": merchant_ref},
        "merchant_reference": {"order_ref_1": order_ref_1},
        "unshipped_cart": as_cart(unshipped),
        "shipped_cart": as_cart(shipped),
        "delivery_address": address(order.delivery_address),
        "invoice_address": address(order.invoice_address),
        "platform": platform.as_json(),
    }}


def refund_item(refund_id: str, amount: Money) -> dict[str, Any]:
    """A refund inside an updated cart: an ``other_payment`` item, as SeQura's WooCommerce does."""
    return {"type": "other_payment", "reference": f"r_{refund_id}", "name": "Refund",
            "total_with_tax": -abs(amount.minor)}


def split_cart(order: OrderSnapshot, amount: Money, shipped: Mapping[str, int],
               refunded: Money | None = None) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(shipped_cart items, unshipped_cart items) for the Order Update API.

    ``shipped`` is product reference -> quantity shipped so far. Shipping, discounts and the
    rounding adjustment travel with the first parcel. Refunds so far are one ``other_payment``
    item, taken from the shipped cart first, so that neither cart goes below zero."""
    sent: list[dict[str, Any]] = []
    kept: list[dict[str, Any]] = []
    extras: list[dict[str, Any]] = []
    for entry in cart_items(order.lines, amount):
        if entry["type"] != "product":
            extras.append(entry)
            continue
        out = min(max(shipped.get(entry["reference"], 0), 0), entry["quantity"])
        for part, quantity in ((sent, out), (kept, entry["quantity"] - out)):
            if quantity:
                part.append({**entry, "quantity": quantity, "total_with_tax": entry["price_with_tax"] * quantity})
    (sent if sent else kept).extend(extras)
    left = abs(refunded.minor) if refunded else 0
    for part in (sent, kept):
        take = min(left, sum(i["total_with_tax"] for i in part))
        if take > 0:
            part.append(refund_item("total" if part is sent else "total_unshipped", Money(take, amount.currency)))
            left -= take
    return sent, kept

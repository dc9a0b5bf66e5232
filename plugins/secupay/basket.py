"""The Smart Transaction create body, built from the frozen order."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from shop.payments.contract import Address, LineKind, OrderSnapshot, PaymentAttempt

from .settings import SecupaySettings

ITEM_TYPES = {LineKind.PRODUCT: "article", LineKind.SHIPPING: "shipping", LineKind.DISCOUNT: "coupon"}

# "Musterstr. 11a", "Hauptstraße 5-7", "Rue X 12 bis" and the number-first "221B Baker Street".
_NUMBER_LAST = re.compile(r"^(?P<street>.*?\D)\s*(?P<number>\d+\s*[A-Za-z]?(?:\s*[-/]\s*\d+\s*[A-Za-z]?)?(?:\s+bis)?)$")
_NUMBER_FIRST = re.compile(r"^(?P<number>\d+\s*[A-Za-z]?),?\s+(?P<street>\D.*)$")


def split_street(line: str) -> tuple[str, str]:
    """secuconnect wants the street and the house number apart."""
    line = " ".join(line.split())
    for pattern in (_NUMBER_LAST, _NUMBER_FIRST):
        match = pattern.match(line)
        if match and match.group("street").strip(" ,"):
            return match.group("street").strip(" ,"), match.group("number").strip()
    return line, ""


def tax_percent(rate: Decimal) -> int:
    # The API takes whole percents; a rate like 5.5 is sent rounded (it only informs the invoice).
    return int(Decimal(rate).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _address(address: Address) -> dict[str, str]:
    street, number = split_street(address.line1)
    out = {
        "street": street[:50],
        "street_number": number,
        "postal_code": address.postal_code[:10],
        "city": address.city[:50],
        "country": address.country_code.upper(),
    }
    if address.line2:
        out["additional_address_data"] = address.line2[:50]
    return out


def _contact(order: OrderSnapshot, address: Address, *, with_personal: bool) -> dict[str, Any]:
    # Field lengths as a real integration (pretix) cuts them.
    contact: dict[str, Any] = {
        "forename": (address.given_names or order.customer.given_names)[:50],
        "surname": (address.surname or order.customer.surname)[:50],
        "address": _address(address),
    }
    if address.company:
        contact["companyname"] = address.company[:50]
    phone = address.phone or order.customer.phone
    if phone:
        contact["phone"] = phone
    if with_personal:
        contact["email"] = order.customer.email
        if order.customer.date_of_birth:
            contact["dob"] = order.customer.date_of_birth
    return contact


def basket_products(order: OrderSnapshot) -> list[dict[str, Any]]:
    products = []
    for number, line in enumerate(order.lines, start=1):
        item: dict[str, Any] = {
            "id": number,
            "item_type": ITEM_TYPES[line.kind],
            "desc": line.name,
            "quantity": line.quantity,
            # A coupon is a positive price that the basket subtracts.
            "priceOne": abs(line.unit_price.minor),
            "tax": tax_percent(line.tax_rate),
        }
        if line.kind == LineKind.PRODUCT and line.reference:
            item["articleNumber"] = line.reference
        products.append(item)
    return products


def basket_sum(products: list[dict[str, Any]]) -> int:
    """The total secuconnect checks basket_info.sum against."""
    total = 0
    for item in products:
        amount = item["quantity"] * item["priceOne"]
        total += -amount if item.get("item_type") == "coupon" else amount
    return total


def _same_place(a: Address, b: Address) -> bool:
    return (a.given_names, a.surname, a.company, a.line1, a.line2, a.postal_code, a.city, a.country_code) == (
        b.given_names, b.surname, b.company, b.line1, b.line2, b.postal_code, b.city, b.country_code)


def create_body(payment: PaymentAttempt, settings: SecupaySettings) -> dict[str, Any]:
    order = payment.order
    body: dict[str, Any] = {
        "is_demo": settings.is_demo,
        "intent": "sale",
        "contract": {"id": settings.contract_id},
        "customer": {"contact": _contact(order, order.invoice_address, with_personal=True)},
    }
    if not _same_place(order.delivery_address, order.invoice_address):
        body["shipping_address"] = {"contact": _contact(order, order.delivery_address, with_personal=False)}
    products = basket_products(order)
    # A basket is only sent when it adds up to what this attempt charges.
    if products and basket_sum(products) == payment.amount.minor:
        body["basket"] = {"products": products}
    body["basket_info"] = {"sum": payment.amount.minor, "currency": payment.amount.currency}
    body["merchantRef"] = order.number
    body["transactionRef"] = f"{settings.shop_name} {order.number}"[:100]
    body["application_context"] = {
        "checkout_template": settings.checkout_template,
        "language": "de" if order.customer.language.lower().startswith("de") else "en",
        "return_urls": {
            "url_success": payment.urls.return_url("success"),
            "url_error": payment.urls.return_url("error"),
            "url_abort": payment.urls.return_url("abort"),
            "url_push": payment.urls.callback,
        },
    }
    body["payment_context"] = {"auto_capture": settings.auto_capture}
    return body

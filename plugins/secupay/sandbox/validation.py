"""The create (and update) request of a Smart Transaction, checked as secuconnect checks it."""

from __future__ import annotations

import re
from typing import Any

from .errors import format_error, not_allowed

ITEM_TYPES = {"article", "shipping", "coupon", "sub_transaction", "stakeholder_payment", "subscription"}
METHODS = {"creditcard", "debit", "easycredit", "giropay", "invoice", "paypal", "prepaid", "sofort"}
MAX_SUM = 99_999_999_999  # 999,999,999.99 in cents, the SEPA ceiling
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_DOB = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TEMPLATE = re.compile(r"^COT_[0-9A-Z]{30}$")


def _int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _obj(body: dict, key: str) -> dict | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise format_error(f"{key}: must be an object")
    return value


def _contact(where: str, holder: dict | None) -> None:
    if not holder:
        return
    contact = holder.get("contact")
    if contact is None:
        return
    if not isinstance(contact, dict):
        raise format_error(f"{where}.contact: must be an object")
    for key, value in contact.items():
        if key != "address" and value is not None and not isinstance(value, str):
            raise format_error(f"{where}.contact.{key}: must be a string")
    if contact.get("dob") and not _DOB.match(contact["dob"]):
        raise format_error(f"{where}.contact.dob: invalid dob format, use YYYY-MM-DD")
    if contact.get("email") and "@" not in contact["email"]:
        raise format_error(f"{where}.contact.email: invalid e-mail address")
    address = contact.get("address")
    if address is not None:
        if not isinstance(address, dict):
            raise format_error(f"{where}.contact.address: must be an object")
        if address.get("country") and not _COUNTRY.match(str(address["country"])):
            raise format_error(f"{where}.contact.address.country: use an ISO 3166 alpha-2 code")


def _products(basket: dict) -> list[dict]:
    products = basket.get("products")
    if products is None:
        return []
    if not isinstance(products, list):
        raise format_error("basket.products: must be a list")
    seen: set[int] = set()
    for index, item in enumerate(products):
        where = f"basket.products[{index}]"
        if not isinstance(item, dict):
            raise format_error(f"{where}: must be an object")
        for key in ("id", "quantity", "priceOne", "tax"):
            if key not in item or item[key] is None:
                raise format_error(f"{where}.{key}: missing")
            if not _int(item[key]):
                raise format_error(f"{where}.{key}: must be an integer")
        if not isinstance(item.get("desc"), str) or not item["desc"].strip():
            raise format_error(f"{where}.desc: missing")
        if item["id"] in seen:
            raise format_error(f"{where}.id: {item['id']} is used twice")
        seen.add(item["id"])
        if item["quantity"] < 1:
            raise format_error(f"{where}.quantity: must be at least 1")
        if item["priceOne"] < 0:
            raise format_error(f"{where}.priceOne: must not be negative")
        if not 0 <= item["tax"] <= 100:
            raise format_error(f"{where}.tax: must be a percentage")
        kind = item.get("item_type", "article")
        if kind not in ITEM_TYPES:
            raise format_error(f"{where}.item_type: unknown item type {kind!r}")
    return products


def basket_total(products: list[dict]) -> int:
    total = 0
    for item in products:
        kind = item.get("item_type", "article")
        if kind == "sub_transaction":
            total += item.get("sum") or 0
        elif kind == "stakeholder_payment":
            continue  # a share inside a sub-basket, not money of its own
        elif kind == "coupon":
            total -= item["quantity"] * item["priceOne"]
        else:
            total += item["quantity"] * item["priceOne"]
    return total


def validate(body: Any, contracts: dict[str, dict]) -> dict:
    """Raise ApiError for a request secuconnect refuses; answer the contract it names."""
    if not isinstance(body, dict) or not body:
        raise format_error("no payload")
    contract_ref = _obj(body, "contract")
    if not contract_ref or not contract_ref.get("id"):
        raise format_error("contract.id: missing; a contract is required for e-commerce payments")
    contract = contracts.get(contract_ref["id"])
    if contract is None:
        raise not_allowed(f"contract {contract_ref['id']} is not a contract of this client", 1001)
    if "is_demo" in body and not isinstance(body["is_demo"], bool):
        raise format_error("is_demo: must be true or false")
    if body.get("intent", "sale") not in ("sale", "order"):
        raise format_error(f"intent: unknown intent {body.get('intent')!r}")

    info = _obj(body, "basket_info")
    if info is None or "sum" not in info:
        raise format_error("basket_info.sum: missing")
    total = info["sum"]
    if not _int(total):
        raise format_error("basket_info.sum: must be an integer amount in cents")
    if total <= 0:
        raise format_error("basket_info.sum: must be more than 0")
    if total > MAX_SUM:
        raise format_error("basket_info.sum: too large")
    currency = info.get("currency", "EUR")
    if not isinstance(currency, str) or not _CURRENCY.match(currency):
        raise format_error("basket_info.currency: use an ISO 4217 code such as EUR")
    if currency not in contract["currencies"]:
        raise format_error(f"basket_info.currency: {currency} is not available for this contract")

    basket = _obj(body, "basket")
    if basket is not None:
        products = _products(basket)
        if products and basket_total(products) != total:
            raise format_error(
                f"basket_info.sum: {total} does not equal the sum of the basket items {basket_total(products)}"
            )

    _contact("customer", _obj(body, "customer"))
    _contact("shipping_address", _obj(body, "shipping_address"))

    app = _obj(body, "application_context") or {}
    if not isinstance(app, dict):
        raise format_error("application_context: must be an object")
    template = app.get("checkout_template")
    if template is not None and (not isinstance(template, str) or not _TEMPLATE.match(template)):
        raise format_error("application_context.checkout_template: unknown checkout template")
    urls = app.get("return_urls") or {}
    if not isinstance(urls, dict):
        raise format_error("application_context.return_urls: must be an object")
    for key, url in urls.items():
        if key not in ("url_success", "url_error", "url_abort", "url_push", "url_failure"):
            raise format_error(f"application_context.return_urls.{key}: unknown return URL")
        if url is None:
            continue
        if not isinstance(url, str) or not re.match(r"^https?://[^\s]+$", url):
            raise format_error(f"application_context.return_urls.{key}: must be an absolute http(s) URL")
        if len(url) > 2000:
            raise format_error(f"application_context.return_urls.{key}: longer than 2000 characters")

    payment = _obj(body, "payment_context") or {}
    if "auto_capture" in payment and not isinstance(payment["auto_capture"], bool):
        raise format_error("payment_context.auto_capture: must be true or false")
    methods = payment.get("payment_methods")
    if methods is not None:
        if not isinstance(methods, list) or not all(m in METHODS for m in methods):
            raise format_error(f"payment_context.payment_methods: unknown payment method in {methods!r}")
    return contract


__all__ = ["basket_total", "validate"]

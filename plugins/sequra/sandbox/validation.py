"""The payload checks the sandbox applies (spec §5.12): SeQura's documented sum rule with its
exact message, and our own checks (marked [sandbox] in the spec) worded "Invalid data: <path>
<problem>". Each function returns a list of messages; empty means valid."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

ITEM_FIELDS = {
    "product": ("reference", "name", "price_with_tax", "quantity", "total_with_tax", "downloadable"),
    "service": ("reference", "name", "price_with_tax", "quantity", "total_with_tax", "downloadable"),
    "handling": ("reference", "name", "total_with_tax"),
    "discount": ("reference", "name", "total_with_tax"),
    "invoice_fee": ("total_with_tax",),
    "other_payment": ("reference", "name", "total_with_tax"),
    "registration": ("reference", "name", "total_with_tax"),
}
NEGATIVE_TYPES = {"discount", "other_payment"}
MONEY_FIELDS = ("price_with_tax", "total_with_tax")
ADDRESS_FIELDS = ("company", "address_line_1", "address_line_2", "postal_code", "city", "country_code")
CUSTOMER_FIELDS = ("email", "language_code", "ip_number", "user_agent", "logged_in")
PLATFORM_FIELDS = ("name", "version", "uname", "db_name", "db_version")
LAYOUTS = {"desktop", "smartphone", "mobile", "tablet"}
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DURATION = re.compile(r"^P(?=\d|T\d)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$")
LANGUAGE = re.compile(r"^[a-z]{2}-[A-Z]{2}$")
LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1", "testserver"}


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_ref(value: Any) -> bool:
    return isinstance(value, str) or _is_int(value)


def _bad(path: str, problem: str) -> str:
    return f"Invalid data: {path} {problem}"


def sum_rule(items: list[dict], total: int, cart_name: str | None = None) -> str | None:
    """SeQura's documented message, reproduced exactly (negatives show as ``+-1500``)."""
    totals = [i["total_with_tax"] for i in items]
    added = sum(totals)
    if added == total:
        return None
    where = f"In {cart_name}, " if cart_name else ""
    return (f"Invalid data: {where}items' total_with_tax add up to {added} "
            f"({'+'.join(str(t) for t in totals)}) but order_total_with_tax is {total}. "
            f"The diff is {abs(total - added)}.")


def url_ok(url: Any) -> bool:
    """HTTPS, or plain HTTP on loopback (the sandbox's own allowance)."""
    if not isinstance(url, str):
        return False
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.netloc:
        return True
    host = (parts.hostname or "").lower()
    return parts.scheme == "http" and (host in LOOPBACK_HOSTS or host.startswith("127.")
                                       or host.endswith((".test", ".localhost")))


def _missing(entry: dict, path: str, keys: tuple[str, ...]) -> list[str]:
    return [_bad(f"{path}.{key}", "is missing") for key in keys if entry.get(key) is None]


def check_items(items: Any, path: str, *, need_product: bool) -> list[str]:
    if not isinstance(items, list):
        return [_bad(path, "must be a list")]
    errors: list[str] = []
    for n, entry in enumerate(items):
        where = f"{path}[{n}]"
        if not isinstance(entry, dict):
            errors.append(_bad(where, "must be an object"))
            continue
        kind = entry.get("type", "product")
        if kind not in ITEM_FIELDS:
            errors.append(_bad(f"{where}.type", f"'{kind}' is not a known item type"))
            continue
        errors += _missing(entry, where, ITEM_FIELDS[kind])
        for key in MONEY_FIELDS + ("quantity",):
            if entry.get(key) is not None and not _is_int(entry[key]):
                errors.append(_bad(f"{where}.{key}", "must be an integer"))
        if entry.get("reference") is not None and not _is_ref(entry["reference"]):
            errors.append(_bad(f"{where}.reference", "must be a string"))
        if entry.get("downloadable") is not None and not isinstance(entry["downloadable"], bool):
            errors.append(_bad(f"{where}.downloadable", "must be true or false"))
        total = entry.get("total_with_tax")
        if _is_int(total):
            if kind in NEGATIVE_TYPES and total > 0:
                errors.append(_bad(f"{where}.total_with_tax", f"must not be positive for {kind}"))
            if kind not in NEGATIVE_TYPES and total < 0:
                errors.append(_bad(f"{where}.total_with_tax", f"must not be negative for {kind}"))
        if _is_int(entry.get("quantity")) and entry["quantity"] < (0 if kind == "service" else 1):
            errors.append(_bad(f"{where}.quantity", "is out of range"))
        if kind == "service":
            ends = [k for k in ("ends_on", "ends_in") if entry.get(k) is not None]
            if len(ends) != 1:
                errors.append(_bad(where, "needs exactly one of ends_on and ends_in"))
            elif ends == ["ends_on"] and not (isinstance(entry["ends_on"], str) and DATE.match(entry["ends_on"])):
                errors.append(_bad(f"{where}.ends_on", "must be a date YYYY-MM-DD"))
            elif ends == ["ends_in"] and not (isinstance(entry["ends_in"], str) and DURATION.match(entry["ends_in"])):
                errors.append(_bad(f"{where}.ends_in", "must be an ISO 8601 duration"))
    if need_product and not any(isinstance(i, dict) and i.get("type", "product") in ("product", "service")
                                for i in items):
        errors.append(_bad(path, "must hold at least one product or service"))
    return errors


def check_cart(cart: Any, path: str, *, cart_name: str | None = None, positive: bool = True) -> list[str]:
    if not isinstance(cart, dict):
        return [_bad(path, "is missing")]
    errors: list[str] = []
    currency = cart.get("currency")
    if currency is None:
        errors.append(_bad(f"{path}.currency", "is missing"))
    elif currency != "EUR":
        errors.append(_bad(f"{path}.currency", f"'{currency}' is not supported"))
    if positive and "gift" not in cart:
        errors.append(_bad(f"{path}.gift", "is missing"))
    elif "gift" in cart and not isinstance(cart["gift"], bool):
        errors.append(_bad(f"{path}.gift", "must be true or false"))
    total = cart.get("order_total_with_tax")
    if total is None:
        errors.append(_bad(f"{path}.order_total_with_tax", "is missing"))
    elif not _is_int(total):
        errors.append(_bad(f"{path}.order_total_with_tax", "must be an integer"))
    elif positive and total <= 0:
        errors.append(_bad(f"{path}.order_total_with_tax", "must be greater than 0"))
    items = cart.get("items")
    if items is None:
        errors.append(_bad(f"{path}.items", "is missing"))
        return errors
    item_errors = check_items(items, f"{path}.items", need_product=positive)
    errors += item_errors
    if not item_errors and _is_int(total):
        message = sum_rule(items, total, cart_name)
        if message:
            errors.append(message)
    return errors


def check_address(addr: Any, path: str, countries: tuple[str, ...]) -> list[str]:
    if not isinstance(addr, dict):
        return [_bad(path, "is missing")]
    errors = []
    for key in ADDRESS_FIELDS:
        if key not in addr or addr[key] is None:
            errors.append(_bad(f"{path}.{key}", "is missing"))
        elif not isinstance(addr[key], str):
            errors.append(_bad(f"{path}.{key}", "must be a string"))
    country = addr.get("country_code")
    if isinstance(country, str) and country not in countries:
        errors.append(_bad(f"{path}.country_code", f"'{country}' is not allowed for this merchant"))
    return errors


def check_merchant(merchant: Any) -> list[str]:
    if not isinstance(merchant, dict):
        return [_bad("merchant", "is missing")]
    errors = []
    if merchant.get("id") in (None, ""):
        errors.append(_bad("merchant.id", "is missing"))
    for key in ("notify_url", "return_url", "abort_url", "edit_url", "approved_url"):
        if merchant.get(key) is not None and not url_ok(merchant[key]):
            errors.append(_bad(f"merchant.{key}", "must be an https URL"))
    params = merchant.get("notification_parameters")
    if params is not None and not (isinstance(params, dict) and all(isinstance(v, str) for v in params.values())):
        errors.append(_bad("merchant.notification_parameters", "must map strings to strings"))
    hook = merchant.get("events_webhook")
    if hook is not None:
        if not isinstance(hook, dict) or hook.get("url") is None:
            errors.append(_bad("merchant.events_webhook.url", "is missing"))
        elif not url_ok(hook["url"]):
            errors.append(_bad("merchant.events_webhook.url", "must be an https URL"))
    return errors


def check_order(order: Any, countries: tuple[str, ...], *, strict_lines: bool = False) -> list[str]:
    """The whole ``order`` object of POST /orders or PUT {order_uri}."""
    if not isinstance(order, dict):
        return [_bad("order", "is missing")]
    errors: list[str] = []
    if "state" not in order:
        errors.append(_bad("state", "is missing"))
    elif order["state"] not in ("", None, "confirmed", "on_hold", "cancelled"):
        errors.append(_bad("state", f"'{order['state']}' is not a state"))
    errors += check_merchant(order.get("merchant"))
    reference = order.get("merchant_reference")
    if reference is not None and (not isinstance(reference, dict) or not _is_ref(reference.get("order_ref_1"))):
        errors.append(_bad("merchant_reference.order_ref_1", "is missing"))
    errors += check_cart(order.get("cart"), "cart")
    if strict_lines and isinstance(order.get("cart"), dict):
        for n, entry in enumerate(order["cart"].get("items") or []):
            if (isinstance(entry, dict) and entry.get("type", "product") in ("product", "service")
                    and _is_int(entry.get("price_with_tax")) and _is_int(entry.get("quantity"))
                    and entry["price_with_tax"] * entry["quantity"] != entry.get("total_with_tax")):
                errors.append(_bad(f"cart.items[{n}].total_with_tax", "is not price_with_tax times quantity"))
    delivery = order.get("delivery_method") or (order.get("cart") or {}).get("delivery_method")
    if not isinstance(delivery, dict) or not delivery.get("name"):
        errors.append(_bad("delivery_method.name", "is missing"))
    options = (order.get("merchant") or {}).get("options") if isinstance(order.get("merchant"), dict) else None
    may_miss = isinstance(options, dict) and options.get("addresses_may_be_missing") is True
    for key in ("delivery_address", "invoice_address"):
        if may_miss and order.get(key) is None:
            continue
        errors += check_address(order.get(key), key, countries)
    customer = order.get("customer")
    if not isinstance(customer, dict):
        errors.append(_bad("customer", "is missing"))
    else:
        errors += _missing(customer, "customer", CUSTOMER_FIELDS)
        email = customer.get("email")
        if isinstance(email, str) and not re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", email):
            errors.append(_bad("customer.email", "is not an email address"))
        lang = customer.get("language_code")
        if lang is not None and not (isinstance(lang, str) and LANGUAGE.match(lang)):
            errors.append(_bad("customer.language_code", "must look like es-ES"))
        if customer.get("logged_in") is not None and customer["logged_in"] not in (True, False, "unknown"):
            errors.append(_bad("customer.logged_in", "must be true, false or \"unknown\""))
        dob = customer.get("date_of_birth")
        if dob is not None and not (isinstance(dob, str) and DATE.match(dob)):
            errors.append(_bad("customer.date_of_birth", "must be a date YYYY-MM-DD"))
    gui = order.get("gui")
    if not isinstance(gui, dict) or gui.get("layout") is None:
        errors.append(_bad("gui.layout", "is missing"))
    elif gui["layout"] not in LAYOUTS:
        errors.append(_bad("gui.layout", f"'{gui['layout']}' is not a layout"))
    platform = order.get("platform")
    if not isinstance(platform, dict):
        errors.append(_bad("platform", "is missing"))
    else:
        errors += _missing(platform, "platform", PLATFORM_FIELDS)
    return errors


def check_update(order: Any) -> list[str]:
    """Order Update API body: both carts, the sum rule per cart, named by cart."""
    if not isinstance(order, dict):
        return [_bad("order", "is missing")]
    errors = []
    if not isinstance(order.get("merchant"), dict) or order["merchant"].get("id") is None:
        errors.append(_bad("merchant.id", "is missing"))
    for name in ("unshipped_cart", "shipped_cart"):
        errors += check_cart(order.get(name), name, cart_name=name, positive=False)
    return errors

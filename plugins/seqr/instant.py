"""SEQR Instant Checkout, the shop's side: purchase tokens for product pages, and reading the
payer's delivery address out of a createPurchase request.

A purchase token names one product and is signed by the shop, so that createPurchase only
ever sells what a product page offered: ``<product id>.<issued, hex seconds>.<signature>``,
in the characters SEQR allows in a token (letters, digits, ``-``, ``_``, ``.``). Tokens are
issued on the hour, so a product page's code (and its cached QR drawing) stays the same for
an hour, and are refused once older than the configured age.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
from collections.abc import Mapping
from typing import Any

from shop.payments.contract import Address, Customer

PURCHASE_CHARACTERS = re.compile(r"^[A-Za-z0-9._-]{1,64}$")  # what SEQR allows in any purchase token
TOKEN_SHAPE = re.compile(r"^(\d{1,12})\.([0-9a-f]{1,12})\.([A-Za-z0-9_-]{22})$")
ISSUE_STEP = 3600  # tokens are issued on the hour
CLOCK_SKEW = 300  # a token "from the future" by less than this is accepted

# What createPurchase fields may hold: SEQR sends strings only.
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[A-Za-z]{2,}$")
POSTAL = re.compile(r"^[A-Za-z0-9 -]{3,10}$")
MSISDN = re.compile(r"^\+?[0-9]{6,15}$")
LIMITS = {"clientName": 160, "street": 120, "city": 80, "country": 60, "state": 80, "zip": 10, "email": 254,
          "msisdn": 16, "purchaseToken": 64}


class PurchaseRefused(Exception):
    """createPurchase cannot make an order of this request; the message says why, plainly."""


def _signature(secret: str, webshop_id: str, product_id: int, issued: int) -> str:
    digest = hmac.new(secret.encode(), f"seqr-instant-checkout:{webshop_id}:{product_id}:{issued}".encode(),
                      hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode()[:22]  # 132 bits


def issue_token(secret: str, webshop_id: str, product_id: int, now: float | None = None) -> str:
    if not secret:
        raise ValueError("Instant Checkout needs a secret to sign purchase tokens")
    issued = int(now if now is not None else time.time()) // ISSUE_STEP * ISSUE_STEP
    return f"{product_id}.{issued:x}.{_signature(secret, webshop_id, product_id, issued)}"


def product_of(token: str, secret: str, webshop_id: str, max_age_seconds: int, now: float | None = None) -> int:
    """The product id a token was issued for; PurchaseRefused if it is not one of ours or too old."""
    found = TOKEN_SHAPE.match(token or "")
    if not found or not secret:
        raise PurchaseRefused("This purchase code was not made by this shop.")
    product_id, issued = int(found.group(1)), int(found.group(2), 16)
    if not hmac.compare_digest(found.group(3), _signature(secret, webshop_id, product_id, issued)):
        raise PurchaseRefused("This purchase code was not made by this shop.")
    now = now if now is not None else time.time()
    if issued > now + CLOCK_SKEW or (max_age_seconds and now - issued > max_age_seconds):
        raise PurchaseRefused("This purchase code has expired: scan the code on the product page again.")
    return product_id


def _text(payload: Mapping[str, Any], name: str, *, required: bool, label: str) -> str:
    value = payload.get(name, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise PurchaseRefused(f"The {label} must be text.")
    value = " ".join(value.split())
    if required and not value:
        raise PurchaseRefused(f"The delivery address has no {label}.")
    if len(value) > LIMITS[name]:
        raise PurchaseRefused(f"The {label} is too long (at most {LIMITS[name]} characters).")
    return value


def delivery_of(payload: Mapping[str, Any], countries: Mapping[str, str]) -> tuple[Customer, Address]:
    """The customer and delivery address in a createPurchase request.

    ``countries`` maps the ISO codes the shop delivers to onto their names; SEQR sends a
    country's name ("Sweden"), so both a name and a code are accepted."""
    name = _text(payload, "clientName", required=True, label="name")
    street = _text(payload, "street", required=True, label="street")
    city = _text(payload, "city", required=True, label="city")
    postal = _text(payload, "zip", required=True, label="postcode")
    country = _text(payload, "country", required=True, label="country")
    _text(payload, "state", required=False, label="state")  # no field for it in a European address
    email = _text(payload, "email", required=True, label="e-mail address")
    msisdn = _text(payload, "msisdn", required=False, label="phone number").replace(" ", "")
    if not POSTAL.match(postal):
        raise PurchaseRefused(f"The postcode {postal!r} does not look right.")
    if not EMAIL.match(email):
        raise PurchaseRefused("The e-mail address does not look right.")
    if msisdn and not MSISDN.match(msisdn):
        raise PurchaseRefused("The phone number does not look right.")
    by_name = {label.casefold(): code for code, label in countries.items()}
    code = country.upper() if country.upper() in countries else by_name.get(country.casefold())
    if code is None:
        raise PurchaseRefused(f"We do not deliver to {country}.")
    given, _, surname = name.rpartition(" ")
    if not given:  # one word: SEQR keeps a single name field
        given, surname = surname, ""
    phone = f"+{msisdn.lstrip('+')}" if msisdn else ""
    customer = Customer(email=email, given_names=given[:80], surname=surname[:80], phone=phone)
    address = Address(given_names=given[:80], surname=surname[:80], line1=street, postal_code=postal, city=city,
                      country_code=code, phone=phone)
    return customer, address

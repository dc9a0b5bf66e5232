"""Instant Checkout's pieces without a store: purchase tokens and the createPurchase address."""

from __future__ import annotations

import pytest

from plugins.seqr.instant import (
    ISSUE_STEP,
    PURCHASE_CHARACTERS,
    PurchaseRefused,
    delivery_of,
    issue_token,
    product_of,
)

SECRET = "a-test-secret"
NOW = 1_795_000_000.0
COUNTRIES = {"SE": "Sweden", "DE": "Germany", "ES": "Spain"}
SEQR_SAMPLE = {  # the request of SEQR's own curl sample, with a country the shop delivers to
    "purchaseToken": "29834231890234", "clientName": "John Smith", "street": "Streetname 1", "city": "Stockholm",
    "country": "Sweden", "state": "", "zip": "11122", "email": "very.happy@shopping.com", "msisdn": "483344323423",
}


def test_a_token_names_its_product_in_seqrs_token_characters():
    token = issue_token(SECRET, "cartwheel", 42, now=NOW)
    assert PURCHASE_CHARACTERS.match(token) and len(token) <= 64
    assert token.startswith("42.")
    assert product_of(token, SECRET, "cartwheel", 3600, now=NOW) == 42


def test_tokens_are_issued_on_the_hour():
    start = NOW // ISSUE_STEP * ISSUE_STEP
    assert issue_token(SECRET, "cartwheel", 7, now=start) == issue_token(SECRET, "cartwheel", 7, now=start + 3599)
    assert issue_token(SECRET, "cartwheel", 7, now=start) != issue_token(SECRET, "cartwheel", 7, now=start + 3600)


@pytest.mark.parametrize("change", ["other product", "other shop", "other secret", "bad signature", "garbage",
                                    "empty", "no secret"])
def test_a_token_not_made_by_this_shop_is_refused(change):
    token = issue_token(SECRET, "cartwheel", 42, now=NOW)
    product, issued, signature = token.split(".")
    secret, webshop = SECRET, "cartwheel"
    if change == "other product":
        token = f"43.{issued}.{signature}"
    elif change == "other shop":
        webshop = "another-shop"
    elif change == "other secret":
        secret = "another-secret"
    elif change == "bad signature":
        token = f"{product}.{issued}.{'A' * 22}"
    elif change == "garbage":
        token = "29834231890234"  # SEQR's sample token: not ours
    elif change == "empty":
        token = ""
    elif change == "no secret":
        secret = ""
    with pytest.raises(PurchaseRefused, match="not made by this shop"):
        product_of(token, secret, webshop, 3600, now=NOW)


def test_old_and_future_tokens_are_refused():
    token = issue_token(SECRET, "cartwheel", 42, now=NOW)
    issued = NOW // ISSUE_STEP * ISSUE_STEP  # the age counts from the hour it was issued on
    assert product_of(token, SECRET, "cartwheel", 7200, now=issued + 7200) == 42
    with pytest.raises(PurchaseRefused, match="expired"):
        product_of(token, SECRET, "cartwheel", 7200, now=issued + 7201)
    assert product_of(token, SECRET, "cartwheel", 0, now=NOW + 10 * 365 * 86400) == 42  # 0: no limit
    with pytest.raises(PurchaseRefused, match="expired"):
        product_of(token, SECRET, "cartwheel", 7200, now=NOW - 2 * ISSUE_STEP)


def test_issuing_without_a_secret_is_a_programming_error():
    with pytest.raises(ValueError):
        issue_token("", "cartwheel", 1)


def test_seqrs_sample_request_is_a_delivery_address():
    customer, address = delivery_of(SEQR_SAMPLE, COUNTRIES)
    assert (customer.given_names, customer.surname, customer.email, customer.phone) == (
        "John", "Smith", "very.happy@shopping.com", "+483344323423")
    assert (address.given_names, address.surname, address.line1, address.postal_code, address.city,
            address.country_code, address.phone) == (
        "John", "Smith", "Streetname 1", "11122", "Stockholm", "SE", "+483344323423")


def test_names_codes_and_optional_fields():
    customer, address = delivery_of({**SEQR_SAMPLE, "clientName": "  Anna  Maria Svensson ", "country": "se",
                                     "msisdn": ""}, COUNTRIES)
    assert (customer.given_names, customer.surname, customer.phone) == ("Anna Maria", "Svensson", "")
    assert address.country_code == "SE"
    customer, _ = delivery_of({**SEQR_SAMPLE, "clientName": "Prince", "country": "GERMANY"}, COUNTRIES)
    assert (customer.given_names, customer.surname) == ("Prince", "")
    without_state = dict(SEQR_SAMPLE)
    del without_state["state"], without_state["msisdn"]
    assert delivery_of(without_state, COUNTRIES)[1].city == "Stockholm"


@pytest.mark.parametrize(("changes", "message"), [
    ({"clientName": ""}, "no name"),
    ({"street": "   "}, "no street"),
    ({"city": None}, "no city"),
    ({"zip": "1"}, "postcode"),
    ({"zip": "<b>11122</b>"}, "postcode"),
    ({"email": "not-an-address"}, "e-mail"),
    ({"email": ""}, "no e-mail"),
    ({"msisdn": "call me"}, "phone number"),
    ({"country": "Narnia"}, "We do not deliver to Narnia"),
    ({"country": "NO"}, "We do not deliver to NO"),
    ({"street": 12}, "must be text"),
    ({"clientName": ["John"]}, "must be text"),
    ({"street": "x" * 121}, "too long"),
])
def test_a_bad_address_is_refused_in_plain_words(changes, message):
    with pytest.raises(PurchaseRefused, match=message):
        delivery_of({**SEQR_SAMPLE, **changes}, COUNTRIES)

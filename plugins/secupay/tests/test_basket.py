from decimal import Decimal

import pytest

from plugins.secupay.basket import basket_sum, create_body, split_street, tax_percent
from shop.money import Money
from shop.payments.contract import Address, LineKind, OrderLine

from .conftest import make_order, make_payment


def test_body_from_the_order(settings):
    payment = make_payment()
    body = create_body(payment, settings)
    products = body["basket"]["products"]
    assert [p["item_type"] for p in products] == ["article", "article", "shipping", "coupon"]
    assert products[0] == {"id": 1, "item_type": "article", "desc": "ACME ball pen Modern Line 8050",
                           "quantity": 2, "priceOne": 1595, "tax": 19, "articleNumber": "8050"}
    assert products[3]["priceOne"] == 500  # a coupon is a positive price the basket subtracts
    assert body["basket_info"] == {"sum": 4835, "currency": "EUR"} and basket_sum(products) == 4835
    assert payment.order.total == Money(4835)
    assert body["contract"] == {"id": "GCR_KTSST836QYITQJM1JGYIZ4F4OLKI04"}
    assert body["merchantRef"] == "ORD-1001" and body["transactionRef"] == "Cartwheel ORD-1001"
    contact = body["customer"]["contact"]
    assert contact["forename"] == "Max" and contact["email"] == "max@example.org" and contact["dob"] == "1965-12-31"
    assert contact["address"] == {"street": "Musterstr.", "street_number": "11", "postal_code": "09123",
                                  "city": "Musterstadt", "country": "DE", "additional_address_data": "App. 302"}
    assert "shipping_address" not in body  # same as the invoice address
    urls = body["application_context"]["return_urls"]
    assert urls == {"url_success": "http://shop.test/pay/secupay/return/TOKEN/success",
                    "url_error": "http://shop.test/pay/secupay/return/TOKEN/error",
                    "url_abort": "http://shop.test/pay/secupay/return/TOKEN/abort",
                    "url_push": "http://shop.test/pay/secupay/cb/TOKEN"}
    assert body["application_context"]["language"] == "de"
    assert body["application_context"]["checkout_template"] == "COT_WD0DE66HN2XWJHW8JM88003YG0NEA2"
    assert body["payment_context"] == {"auto_capture": True}


def test_auto_capture_and_demo_from_settings(settings):
    from dataclasses import replace

    body = create_body(make_payment(), replace(settings, auto_capture=False, is_demo=True))
    assert body["payment_context"]["auto_capture"] is False and body["is_demo"] is True


def test_other_delivery_address_is_sent(settings):
    delivery = Address("Erika", "Musterfrau", "Hauptstraße 5-7", "10115", "Berlin", "DE", company="ACME GmbH")
    body = create_body(make_payment(make_order(delivery=delivery)), settings)
    contact = body["shipping_address"]["contact"]
    assert contact["companyname"] == "ACME GmbH"
    assert contact["address"]["street"] == "Hauptstraße" and contact["address"]["street_number"] == "5-7"
    assert "email" not in contact


def test_partial_amount_sends_no_basket(settings):
    payment = make_payment(amount=Money(1000))
    body = create_body(payment, settings)
    assert "basket" not in body and body["basket_info"]["sum"] == 1000


@pytest.mark.parametrize("rate,expected", [("19", 19), ("7", 7), ("0", 0), ("5.5", 6), ("2.4", 2)])
def test_tax_in_whole_percent(rate, expected):
    assert tax_percent(Decimal(rate)) == expected


@pytest.mark.parametrize("line,expected", [
    ("Musterstr. 11", ("Musterstr.", "11")), ("Musterstr. 11a", ("Musterstr.", "11a")),
    ("221B Baker Street", ("Baker Street", "221B")), ("Am Markt", ("Am Markt", "")),
    ("Straße des 17. Juni 135", ("Straße des 17. Juni", "135")),
])
def test_street_and_number_apart(line, expected):
    assert split_street(line) == expected


@pytest.mark.anyio
async def test_built_body_is_accepted_by_the_sandbox(client, settings):
    english = make_order(language="en", lines=(
        OrderLine(LineKind.PRODUCT, "A1", "Thing", 3, Money(999), Decimal("7")),
    ))
    answer = await client.create_smart_transaction(create_body(make_payment(english), settings))
    assert answer["basket_info"] == {"sum": 2997, "currency": "EUR"}
    assert answer["application_context"]["language"] == "en"

from __future__ import annotations

from decimal import Decimal

import pytest

from plugins.sequra.payload import (
    Merchant,
    Platform,
    Shopper,
    cart,
    cart_items,
    item,
    language_code,
    order_payload,
    refund_item,
    sign,
    signature_ok,
    split_cart,
    update_payload,
)
from plugins.sequra.sandbox.validation import check_order, check_update
from plugins.sequra.tests.conftest import make_order
from shop.money import Money
from shop.payments.contract import LineKind, OrderLine

R = Decimal("21")


def line(kind, ref, qty, cents, name="x"):
    return OrderLine(kind, ref, name, qty, Money(cents), R)


def test_products_shipping_and_discounts_are_their_own_item_types():
    order = make_order(lines=(line(LineKind.PRODUCT, "SKU1", 2, 5000, "Shirt"),
                              line(LineKind.SHIPPING, "std", 1, 450, "Standard"),
                              line(LineKind.DISCOUNT, "SUMMER", 1, -1500, "Summer sale")))
    data = cart(order)
    assert [i["type"] for i in data["items"]] == ["product", "handling", "discount"]
    assert data["items"][0] == {"type": "product", "reference": "SKU1", "name": "Shirt", "price_with_tax": 5000,
                                "quantity": 2, "total_with_tax": 10000, "downloadable": False}
    assert data["items"][1] == {"type": "handling", "reference": "std", "name": "Standard", "total_with_tax": 450}
    assert data["items"][2]["total_with_tax"] == -1500
    assert data["order_total_with_tax"] == 8950 == order.total.minor
    assert all(isinstance(i["total_with_tax"], int) for i in data["items"])


def test_a_discount_stored_as_a_positive_amount_is_sent_negative():
    assert item(line(LineKind.DISCOUNT, "D", 1, 500))["total_with_tax"] == -500


def test_negative_products_and_shipping_are_refused():
    with pytest.raises(ValueError):
        item(line(LineKind.PRODUCT, "P", 1, -1))
    with pytest.raises(ValueError):
        item(line(LineKind.SHIPPING, "S", 1, -1))


@pytest.mark.parametrize("expected, kind", [(10002, "handling"), (9997, "discount")])
def test_rounding_differences_become_an_adjustment_item(expected, kind):
    lines = (line(LineKind.PRODUCT, "A", 3, 3333),)  # 9999
    items = cart_items(lines, Money(expected))
    assert items[-1]["type"] == kind and items[-1]["reference"] == "rounding"
    assert sum(i["total_with_tax"] for i in items) == expected


def test_no_adjustment_when_the_totals_agree():
    lines = (line(LineKind.PRODUCT, "A", 3, 3333),)
    assert len(cart_items(lines, Money(9999))) == 1


def payload(**kw):
    merchant = kw.pop("merchant", Merchant("dummy_automated_tests", "https://shop.example/cb", "https://shop.example/r",
                                           "https://shop.example/a", "https://shop.example/cb",
                                           {"order": "1042", "signature": "s"}, {"order": "1042", "signature": "e"}))
    return order_payload(make_order(), merchant=merchant, shopper=Shopper("203.0.113.9", "UA", False),
                         platform=Platform(), **kw)


def test_the_payload_passes_the_sandbox_rules():
    body = payload()
    assert check_order(body["order"], ("ES",)) == []
    order = body["order"]
    assert order["state"] == ""
    assert order["merchant"]["events_webhook"] == {"url": "https://shop.example/cb",
                                                   "parameters": {"order": "1042", "signature": "e"}}
    assert order["customer"]["language_code"] == "es-ES"
    assert order["customer"]["ip_number"] == "203.0.113.9"
    assert order["delivery_address"]["mobile_phone"] == "666666666"
    assert order["gui"] == {"layout": "desktop"}
    assert "merchant_reference" not in order


def test_confirm_payload_differs_from_the_solicitation_only_in_state_and_reference():
    solicited, confirmed = payload(), payload(state="confirmed", order_ref_1="1042", order_ref_2="7")
    assert confirmed["order"].pop("state") == "confirmed"
    assert confirmed["order"].pop("merchant_reference") == {"order_ref_1": "1042", "order_ref_2": "7"}
    solicited["order"].pop("state")
    assert solicited == confirmed


def test_an_isolated_till_sends_no_callback_urls():
    order = payload(merchant=Merchant("dummy_automated_tests"))["order"]
    assert order["merchant"] == {"id": "dummy_automated_tests"}


def test_mobile_shoppers_get_the_smartphone_layout():
    body = order_payload(make_order(), merchant=Merchant("m"), shopper=Shopper(mobile=True), platform=Platform())
    assert body["order"]["gui"]["layout"] == "smartphone"


@pytest.mark.parametrize("language, country, expected", [("es", "ES", "es-ES"), ("en", "es", "en-ES"),
                                                          ("fr-FR", "FR", "fr-FR"), ("", "", "es-ES")])
def test_language_code(language, country, expected):
    assert language_code(language, country) == expected


def test_update_payload_for_a_partial_refund_keeps_the_sum_rule():
    order = make_order()
    items = cart_items(order.lines, order.total) + [refund_item("total", Money(1000))]
    body = update_payload(order, merchant_ref="m", order_ref_1="1042", platform=Platform(), shipped=items,
                          unshipped=None)
    assert check_update(body["order"]) == []
    assert body["order"]["shipped_cart"]["order_total_with_tax"] == 9450
    assert body["order"]["unshipped_cart"] == {"currency": "EUR", "gift": False, "order_total_with_tax": 0,
                                               "items": []}


# ------------------------------------------------------------------ the HMAC


def test_signature_is_hex_hmac_sha256():
    import hashlib
    import hmac

    expected = hmac.new(b"k", b"ipn:7:1042", hashlib.sha256).hexdigest()
    assert sign("k", "ipn", 7, "1042") == expected and len(expected) == 64


def test_signature_checks():
    good = sign("k", "ipn", 7, "1042")
    assert signature_ok("k", "ipn", 7, "1042", good)
    assert not signature_ok("other", "ipn", 7, "1042", good)
    assert not signature_ok("k", "events", 7, "1042", good)  # an IPN signature is no event signature
    assert not signature_ok("k", "ipn", 8, "1042", good)
    assert not signature_ok("k", "ipn", 7, "1043", good)
    assert not signature_ok("k", "ipn", 7, "1042", good.upper())
    assert not signature_ok("k", "ipn", 7, "1042", "")


def test_signature_is_compared_in_constant_time(monkeypatch):
    import hmac as hmac_module

    calls = []
    real = hmac_module.compare_digest
    monkeypatch.setattr(hmac_module, "compare_digest", lambda a, b: calls.append(1) or real(a, b))
    signature_ok("k", "ipn", 7, "1042", "x")
    assert calls == [1]


def split_order():
    return make_order(lines=(line(LineKind.PRODUCT, "A", 3, 1000), line(LineKind.PRODUCT, "B", 1, 2500),
                             line(LineKind.SHIPPING, "std", 1, 450), line(LineKind.DISCOUNT, "D", 1, -500)))


def total(items):
    return sum(i["total_with_tax"] for i in items)


def test_split_cart_nothing_shipped_keeps_everything_unshipped():
    sent, kept = split_cart(split_order(), Money(5450), {})
    assert sent == [] and total(kept) == 5450


def test_split_cart_a_partial_parcel_takes_the_extras_with_it():
    sent, kept = split_cart(split_order(), Money(5450), {"A": 2})
    assert [(i["reference"], i.get("quantity")) for i in sent] == [("A", 2), ("std", None), ("D", None)]
    assert [(i["reference"], i["quantity"], i["total_with_tax"]) for i in kept] == [("A", 1, 1000), ("B", 1, 2500)]
    assert total(sent) + total(kept) == 5450


def test_split_cart_refunds_come_off_the_shipped_cart_first_and_never_below_zero():
    sent, kept = split_cart(split_order(), Money(5450), {"A": 1}, Money(1500))
    assert total(sent) == 1000 + 450 - 500 - 950 == 0
    assert kept[-1] == {"type": "other_payment", "reference": "r_total_unshipped", "name": "Refund",
                        "total_with_tax": -550}
    assert total(sent) + total(kept) == 5450 - 1500
    for cart_items_ in (sent, kept):
        body = {"merchant": {"id": "m"}, "shipped_cart": {"currency": "EUR", "order_total_with_tax": total(cart_items_),
                                                          "items": cart_items_},
                "unshipped_cart": {"currency": "EUR", "order_total_with_tax": 0, "items": []}}
        assert check_update(body) == []


def test_split_cart_ignores_quantities_it_does_not_have():
    sent, kept = split_cart(split_order(), Money(5450), {"A": 9, "Z": 1})
    assert [i["quantity"] for i in sent if i["type"] == "product"] == [3]

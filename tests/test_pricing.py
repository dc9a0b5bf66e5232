from shop.models import Product
from shop.payments.contract import LineKind
from shop.pricing import basket_lines, total_of


def product(sku, cents, rate="19"):
    return Product(sku=sku, name=sku, price_cents=cents, tax_rate=rate, stock=10)


def test_shipping_is_charged_under_the_threshold_and_free_above():
    lines = basket_lines([(product("A", 1000), 2)], "", 495, 5000)
    assert [line.kind for line in lines] == [LineKind.PRODUCT, LineKind.SHIPPING]
    assert total_of(lines).minor == 2495
    lines = basket_lines([(product("A", 1000), 5)], "", 495, 5000)
    assert total_of(lines).minor == 5000


def test_a_discount_is_its_own_negative_line_and_counts_before_the_shipping_threshold():
    lines = basket_lines([(product("A", 2800), 2)], "welcome10", 495, 5000)
    discount = lines[-1]
    assert discount.kind == LineKind.DISCOUNT and discount.total.minor == -560
    # 56.00 - 5.60 = 50.40: still free shipping.
    assert total_of(lines).minor == 5040
    lines = basket_lines([(product("A", 2500), 2)], "WELCOME10", 495, 5000)
    assert total_of(lines).minor == 5000 - 500 + 495


def test_a_fixed_code_needs_its_minimum_and_unknown_codes_do_nothing():
    assert total_of(basket_lines([(product("A", 1500), 1)], "SAVE5", 495, 5000)).minor == 1995
    assert total_of(basket_lines([(product("A", 2500), 1)], "SAVE5", 495, 5000)).minor == 2500 - 500 + 495
    assert total_of(basket_lines([(product("A", 2500), 1)], "NOPE", 495, 5000)).minor == 2995
    assert basket_lines([], "SAVE5", 495, 5000) == ()

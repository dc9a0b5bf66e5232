from decimal import Decimal

import pytest

from shop.money import Money, tax_included


def test_money_adds_in_minor_units_and_refuses_floats_and_mixed_currencies():
    assert Money(1050) + Money(25) == Money(1075)
    assert Money(300) * 3 == Money(900)
    assert str(Money(4485)) == "44.85"
    assert Money(-500).display() == "-€5.00"
    with pytest.raises(TypeError):
        Money(10.5)
    with pytest.raises(ValueError):
        Money(1, "EUR") + Money(1, "SEK")
    with pytest.raises(ValueError):
        Money(1, "XXX")


def test_from_decimal_rounds_half_up():
    assert Money.from_decimal("12.345") == Money(1235)
    assert Money.from_decimal("0.005") == Money(1)
    assert Money.from_decimal(Decimal("7")) == Money(700)


def test_tax_included_in_a_gross_amount():
    assert tax_included(Money(1190), 19) == Money(190)
    assert tax_included(Money(107), "7") == Money(7)
    assert tax_included(Money(495), 19) == Money(79)

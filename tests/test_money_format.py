"""Money as each locale writes it, from integer cents: held to Babel's own formatter."""

from decimal import Decimal

import pytest
from babel.numbers import format_currency

from shop.i18n import LOCALES, format_number, use_locale
from shop.money import Money

NBSP = "\xa0"  # Babel keeps number and symbol together with a no-break space


@pytest.mark.parametrize(("locale", "currency", "minor", "expected"), [
    ("en", "EUR", 1450, "€14.50"),
    ("es", "EUR", 1450, f"14,50{NBSP}€"),
    ("de", "EUR", 1450, f"14,50{NBSP}€"),
    ("sv", "EUR", 1450, f"14,50{NBSP}€"),
    ("sv", "SEK", 1450, f"14,50{NBSP}kr"),
    ("en", "EUR", 0, "€0.00"),
    ("de", "EUR", 0, f"0,00{NBSP}€"),
    ("en", "EUR", -1000, "-€10.00"),  # a discount line
    ("de", "EUR", -1000, f"-10,00{NBSP}€"),
    ("sv", "SEK", -5, f"-0,05{NBSP}kr"),
    ("en", "EUR", 123456789012, "€1,234,567,890.12"),
    ("es", "EUR", 123456789012, f"1.234.567.890,12{NBSP}€"),
    ("de", "EUR", 100000, f"1.000,00{NBSP}€"),
    ("sv", "SEK", 100000, f"1{NBSP}000,00{NBSP}kr"),
    ("en", "EUR", 1, "€0.01"),
    ("en", "SEK", 1945, "SEK19.45"),
])
def test_display_per_locale(locale, currency, minor, expected):
    assert Money(minor, currency).display(locale) == expected
    with use_locale(locale):
        assert Money(minor, currency).display() == expected  # the request's locale, unnamed


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("currency", ["EUR", "SEK", "USD", "GBP", "CHF"])
def test_the_fast_formatter_says_what_babel_says(locale, currency):
    for minor in [0, 1, -1, 9, 10, 99, 100, 999, 1000, -1450, 99999, 100000, 123456, 1234567, -98765432, 10**12 + 7]:
        exact = Decimal(minor).scaleb(-2)  # from the integer, never through a float
        assert Money(minor, currency).display(locale) == format_currency(exact, currency, locale=locale)


def test_rounding_happens_once_when_parsing_never_when_showing():
    # 0.005 rounds half up to a cent when it becomes Money; showing it adds nothing of its own.
    assert Money.from_decimal("0.005").display("de") == f"0,01{NBSP}€"
    assert Money.from_decimal("2.675").display("en") == "€2.68"  # 2.675 as a float would show 2.67


def test_editable_amounts_use_the_locales_decimal_mark_without_grouping():
    assert Money(123450).editable("de") == "1234,50"
    assert Money(123450).editable("en") == "1234.50"
    assert Money(-5).editable("sv") == "-0,05"


def test_report_numbers_are_written_as_the_locale_writes_them_and_ids_stay_as_they_are():
    with use_locale("de"):
        assert format_number("19.45000") == "19,45" and format_number("-1234.56789") == "-1.234,56789"
        assert format_number("20250101000000001") == "20250101000000001"  # an id, not an amount
        assert format_number("PAID") == "PAID"
    with use_locale("en"):
        assert format_number("19.45000") == "19.45"

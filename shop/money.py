"""Amounts of money as integer minor units: never floats."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from babel import Locale
from babel.numbers import get_currency_symbol, get_decimal_symbol, get_group_symbol

from shop.i18n import current_locale

# ISO 4217 exponents for the currencies the providers here accept.
_EXPONENTS = {"EUR": 2, "SEK": 2, "USD": 2, "GBP": 2, "CHF": 2, "PLN": 2, "NOK": 2, "DKK": 2}


@dataclass(frozen=True, order=True)
class Money:
    minor: int
    currency: str = "EUR"

    def __post_init__(self) -> None:
        if not isinstance(self.minor, int) or isinstance(self.minor, bool):
            raise TypeError(f"Money.minor must be an int, got {type(self.minor).__name__}")
        if self.currency not in _EXPONENTS:
            raise ValueError(f"unsupported currency {self.currency!r}")

    @classmethod
    def zero(cls, currency: str = "EUR") -> Money:
        return cls(0, currency)

    @classmethod
    def from_decimal(cls, value: Decimal | str | int, currency: str = "EUR") -> Money:
        """Parse a major-unit amount ("12.50"), rounding half up to the minor unit."""
        exponent = _EXPONENTS.get(currency)
        if exponent is None:
            raise ValueError(f"unsupported currency {currency!r}")
        quantum = Decimal(1).scaleb(-exponent)
        major = Decimal(str(value)).quantize(quantum, rounding=ROUND_HALF_UP)
        return cls(int(major.scaleb(exponent)), currency)

    @property
    def exponent(self) -> int:
        return _EXPONENTS[self.currency]

    def to_decimal(self) -> Decimal:
        return Decimal(self.minor).scaleb(-self.exponent)

    def __str__(self) -> str:
        """Plain major-unit notation, as wire formats want it: "44.85"."""
        return f"{self.to_decimal():.{self.exponent}f}"

    def display(self, locale: str | None = None) -> str:
        """As people of the locale (the request's, unless named) write it: "€14.50", "14,50 €", "14,50 kr"."""
        return _format_of(locale or current_locale(), self.currency).apply(self.minor)

    def editable(self, locale: str | None = None) -> str:
        """The plain amount for a form field, with the locale's decimal mark and no grouping: "12,50"."""
        return str(self).replace(".", _format_of(locale or current_locale(), self.currency).decimal)

    def _same(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise TypeError("can only combine Money with Money")
        if other.currency != self.currency:
            raise ValueError(f"currency mismatch: {self.currency} and {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.minor + other.minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.minor - other.minor, self.currency)

    def __mul__(self, factor: int) -> Money:
        if not isinstance(factor, int):
            raise TypeError("Money can only be multiplied by an int")
        return Money(self.minor * factor, self.currency)

    __rmul__ = __mul__

    def __neg__(self) -> Money:
        return Money(-self.minor, self.currency)

    def __bool__(self) -> bool:
        return self.minor != 0


@dataclass(frozen=True)
class _MoneyFormat:
    """Babel's currency pattern for one locale and currency, taken apart once and then applied to
    integer minor units: Babel's own formatter costs tens of microseconds a call, and every page
    shows many prices. tests/test_money_format.py holds it to Babel's output."""

    prefixes: tuple[str, str]  # (positive, negative), the currency symbol already in place
    suffixes: tuple[str, str]
    decimal: str
    group: str
    grouping: tuple[int, int]  # the first group's size from the right, then every other group's
    exponent: int

    def apply(self, minor: int) -> str:
        negative = minor < 0
        major, fraction = divmod(abs(minor), 10**self.exponent)
        digits, size, groups = str(major), self.grouping[0], []
        while len(digits) > size:
            groups.append(digits[-size:])
            digits, size = digits[:-size], self.grouping[1]
        number = self.group.join([digits, *reversed(groups)])
        if self.exponent:
            number += self.decimal + f"{fraction:0{self.exponent}d}"
        return self.prefixes[negative] + number + self.suffixes[negative]


@functools.cache
def _format_of(locale: str, currency: str) -> _MoneyFormat:
    where = Locale.parse(locale)
    pattern = where.currency_formats["standard"]
    symbol = get_currency_symbol(currency, where)

    def filled(affix: str) -> str:  # as Babel's NumberPattern.apply fills in the symbol and drops quotes
        affix = affix.replace("¤¤¤", currency).replace("¤¤", currency).replace("¤", symbol)
        return re.sub(r"'([^']*)'", lambda m: m.group(1) or "'", affix)

    return _MoneyFormat(prefixes=(filled(pattern.prefix[0]), filled(pattern.prefix[1])),
                        suffixes=(filled(pattern.suffix[0]), filled(pattern.suffix[1])),
                        decimal=get_decimal_symbol(where), group=get_group_symbol(where),
                        grouping=pattern.grouping, exponent=_EXPONENTS[currency])


def tax_included(gross: Money, rate_percent: Decimal | int | str) -> Money:
    """The tax contained in a gross amount at a rate, rounded half up to the minor unit."""
    rate = Decimal(str(rate_percent))
    tax = Decimal(gross.minor) * rate / (100 + rate)
    return Money(int(tax.quantize(Decimal(1), rounding=ROUND_HALF_UP)), gross.currency)

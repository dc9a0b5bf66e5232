"""Amounts of money as integer minor units: never floats."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

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

    def display(self) -> str:
        symbol = {"EUR": "€", "USD": "$", "GBP": "£"}.get(self.currency)
        text = f"{abs(self.to_decimal()):,.{self.exponent}f}"
        sign = "-" if self.minor < 0 else ""
        return f"{sign}{symbol}{text}" if symbol else f"{sign}{text} {self.currency}"

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


def tax_included(gross: Money, rate_percent: Decimal | int | str) -> Money:
    """The tax contained in a gross amount at a rate, rounded half up to the minor unit."""
    rate = Decimal(str(rate_percent))
    tax = Decimal(gross.minor) * rate / (100 + rate)
    return Money(int(tax.quantize(Decimal(1), rounding=ROUND_HALF_UP)), gross.currency)

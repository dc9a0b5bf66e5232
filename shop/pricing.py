"""What a basket costs: product lines, the shipping fee and a discount code, computed on the server only."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from shop.i18n import gettext as _
from shop.models import Product
from shop.money import Money
from shop.payments.contract import LineKind, OrderLine

SHIPPING_TAX_RATE = Decimal("19")


@dataclass(frozen=True)
class DiscountCode:
    code: str
    percent: int = 0  # off the products
    fixed_cents: int = 0  # or a fixed amount off
    minimum_cents: int = 0  # products total needed

    def amount(self, products_total: Money) -> Money:
        if products_total.minor < self.minimum_cents:
            return Money.zero(products_total.currency)
        off = self.fixed_cents
        if self.percent:
            off = int((Decimal(products_total.minor) * self.percent / 100).quantize(Decimal(1), ROUND_HALF_UP))
        return Money(min(off, products_total.minor), products_total.currency)


DISCOUNT_CODES = {
    "WELCOME10": DiscountCode("WELCOME10", percent=10),
    "SAVE5": DiscountCode("SAVE5", fixed_cents=500, minimum_cents=2000),
}


def find_discount(code: str) -> DiscountCode | None:
    return DISCOUNT_CODES.get(code.strip().upper())


def basket_lines(items: list[tuple[Product, int]], discount_code: str, shipping_fee_cents: int,
                 free_shipping_from_cents: int) -> tuple[OrderLine, ...]:
    """The priced lines of a basket: products, then shipping, then the discount (negative)."""
    if not items:
        return ()
    currency = items[0][0].currency
    lines = [OrderLine(LineKind.PRODUCT, product.sku, product.name, quantity,
                       Money(product.price_cents, currency), Decimal(product.tax_rate))
             for product, quantity in items]
    products_total = sum((line.total for line in lines), Money.zero(currency))
    discount = find_discount(discount_code) if discount_code else None
    off = discount.amount(products_total) if discount else Money.zero(currency)
    if products_total.minor - off.minor < free_shipping_from_cents:
        lines.append(OrderLine(LineKind.SHIPPING, "shipping", _("Shipping"), 1, Money(shipping_fee_cents, currency),
                               SHIPPING_TAX_RATE))
    if off:
        # The discount carries the tax rate of the products it mostly applies to.
        main_rate = max(lines[: len(items)], key=lambda line: line.total.minor).tax_rate
        name = _("Discount %(code)s") % {"code": discount.code}
        lines.append(OrderLine(LineKind.DISCOUNT, discount.code, name, 1, -off, main_rate))
    return tuple(lines)


def total_of(lines: tuple[OrderLine, ...] | list[OrderLine], currency: str = "EUR") -> Money:
    return sum((line.total for line in lines), Money.zero(currency))

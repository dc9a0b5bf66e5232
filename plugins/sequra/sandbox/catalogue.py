"""The test merchants, their products and what credit costs: SeQura's sandbox account, played.

Numbers follow the spec's fixtures (pp3 fees table, minimum amounts) so that options and
credit agreements look like SeQura's."""

from __future__ import annotations

from dataclasses import dataclass

# Basic-auth account -> (secret, merchant refs it may act for).
ACCOUNTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "cartwheel": ("cartwheel-sandbox", (
        "dummy_automated_tests", "dummy_automated_tests_fr", "dummy_automated_tests_it",
        "dummy_automated_tests_pt", "dummy_services_automated_tests")),
}

# merchant ref -> (allowed countries, product codes)
MERCHANTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "dummy_automated_tests": (("ES",), ("i1", "sp1", "pp3")),
    "dummy_automated_tests_fr": (("FR",), ("pp3",)),
    "dummy_automated_tests_it": (("IT",), ("pp3",)),
    "dummy_automated_tests_pt": (("PT",), ("pp3",)),
    "dummy_services_automated_tests": (("ES",), ("i1", "pp3")),
}

# pp3: below the first number, pay the second number per instalment.
PP3_FEES = [(20100, 300), (40100, 500), (60100, 800), (80100, 1000), (100100, 1200), (120100, 1500),
            (140100, 1800), (160100, 2100), (180100, 2400), (200100, 2700), (220100, 3000),
            (240100, 3300), (260100, 3600), (280100, 3900), (300001, 4200)]


@dataclass(frozen=True)
class Product:
    code: str
    category: str
    title: str
    description: str
    campaign: str | None
    min_amount: int
    max_amount: int | None
    counts: tuple[int, ...] = ()  # instalment counts; () for pay-later
    part_payment: bool = False  # first instalment paid by card in the form

    def fits(self, amount: int) -> bool:
        return amount >= self.min_amount and (self.max_amount is None or amount <= self.max_amount)


PRODUCTS = {
    "i1": Product("i1", "pay_later", "Paga Después", "Recibe tu pedido y paga en 7 días, sin coste",
                  None, 0, 200000),
    "sp1": Product("sp1", "part_payment", "Divide tu pago en 3", "3 plazos sin coste", "permanente",
                   5000, 120000, (3,), True),
    "pp3": Product("pp3", "part_payment", "Paga Fraccionado", "Hoy solo pagas la primera cuota", None,
                   5000, 300000, (3, 6, 12, 18, 24), True),
}

CATEGORY_TITLES = {"pay_now": "Paga ahora", "pay_later": "Paga Después", "part_payment": "Paga Fraccionado"}


def instalment_fee(product: str, total: int) -> int:
    if product != "pp3":
        return 0
    for limit, fee in PP3_FEES:
        if total < limit:
            return fee
    return PP3_FEES[-1][1]


def counts_for(product: Product, total: int) -> list[int]:
    # The longest plans need a larger amount (fixture: 24 instalments from 390 €).
    return [n for n in product.counts if n <= 12 or total >= 39000]


def euros(cents: int) -> str:
    whole, rest = divmod(abs(cents), 100)
    grouped = f"{whole:,}".replace(",", ".")
    return f"{'-' if cents < 0 else ''}{grouped},{rest:02d} €"


def percent(hundredths: int) -> str:
    whole, rest = divmod(hundredths, 100)
    return f"{whole},{rest:02d} %"


def apr(total: int, count: int, payment: int) -> int:
    """Effective annual rate, hundredths of a percent, first instalment paid at purchase."""
    if payment * count <= total:
        return 0
    lo, hi = 0.0, 10.0
    for _ in range(200):  # bisection on the monthly rate
        rate = (lo + hi) / 2
        value = sum(payment / (1 + rate) ** k for k in range(count))
        lo, hi = (rate, hi) if value > total else (lo, rate)
    return round(((1 + lo) ** 12 - 1) * 10000)


def agreement(product: str, total: int, count: int) -> dict:
    fee = instalment_fee(product, total)
    amount = round(total / count)
    cost = fee * count
    minimum = PRODUCTS[product].min_amount

    def money(v: int) -> dict:
        return {"value": v, "string": euros(v)}

    return {"instalment_count": count, "total_with_tax": money(total), "instalment_amount": money(amount),
            "instalment_fee": money(fee), "instalment_total": money(amount + fee),
            "grand_total": money(total + cost), "cost_of_credit": money(cost),
            "cost_of_credit_pct": {"value": round(cost * 10000 / total) if total else 0,
                                   "string": percent(round(cost * 10000 / total) if total else 0)},
            "apr": {"value": apr(total, count, amount + fee), "string": percent(apr(total, count, amount + fee))},
            "max_financed_amount": money(PRODUCTS[product].max_amount or 0), "min_amount": money(minimum)}


def credit_agreements(merchant_ref: str, total: int) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for code in MERCHANTS[merchant_ref][1]:
        product = PRODUCTS[code]
        if product.counts and product.fits(total):
            out[code] = [agreement(code, total, n) for n in counts_for(product, total)]
    return out


def method(product: Product, total: int | None) -> dict:
    fee = instalment_fee(product.code, total) if total is not None else 0
    cost = {"setup_fee": 0, "instalment_fee": fee, "down_payment_fees": 0,
            "instalment_total": (round(total / product.counts[0]) + fee) if (total and product.counts) else 0}
    if product.counts and total:
        title = f"Desde {euros(round(total / max(counts_for(product, total))) + fee)}/mes"
    else:
        title = product.title
    return {"product": product.code, "campaign": product.campaign, "title": title,
            "long_title": f"{title} ({product.description})", "claim": product.description,
            "description": product.description, "icon": None, "cost": cost, "cost_description": None,
            "starts_at": "2000-02-22T21:22:00Z", "ends_at": "2222-02-22T21:22:00Z",
            "widget": None, "info_widget": None,
            "min_amount": product.min_amount, "max_amount": product.max_amount}


def payment_methods(merchant_ref: str, total: int | None) -> dict:
    """``total`` None: the merchant-level list (everything enabled)."""
    groups: dict[str, list[dict]] = {}
    for code in MERCHANTS[merchant_ref][1]:
        product = PRODUCTS[code]
        if total is None or product.fits(total):
            groups.setdefault(product.category, []).append(method(product, total))
    return {"payment_options": [
        {"title": CATEGORY_TITLES[category], "description": "", "icon": None, "category": category,
         "methods": methods} for category, methods in groups.items()]}

"""Checkout options from SeQura's payment methods and credit agreements for one total."""

from __future__ import annotations

from datetime import datetime

from shop.money import Money
from shop.payments.contract import PaymentOption

from .answers import CreditAgreements, Method, MethodGroup, PaymentMethods, Plan

# Where the instalment terms could not be read, a credit product is not offered blind: the
# shopper must see what the credit costs before choosing it.
TERMS_UNREADABLE = "Not available right now: SeQura's instalment terms could not be read."


def payment_options(plugin_id: str, name: str, total: Money, methods: PaymentMethods,
                    agreements: CreditAgreements | None, now: datetime, terms_unreadable: bool = False,
                    unavailable: str = "") -> list[PaymentOption]:
    """One option per product running today; campaign products carry ``code:campaign``. A product
    the total does not fit is listed disabled with its limit, and ``unavailable`` (a country
    SeQura does not sell to, say) disables them all."""
    options = []
    for group, method in methods.methods():
        if not method.running(now):
            continue
        code = method.product
        option_id = f"{code}:{method.campaign}" if method.campaign and code == "pp5" else code
        label = f"{name}: {_title(group, method, code)}"
        plans = agreements.plans(code) if agreements is not None else []
        reason = unavailable or amount_limit(method, total)
        if not reason and terms_unreadable and group.category == "part_payment":
            reason = TERMS_UNREADABLE
        options.append(PaymentOption(plugin_id, option_id, label, _detail(method, plans, total.currency),
                                     _fee(plans, total.currency), unavailable=reason))
    return options


def amount_limit(method: Method, total: Money) -> str:
    """Why the total does not fit the product's min_amount/max_amount (cents or none), or ""."""
    if total.minor < (method.min_amount or 0):
        return f"For orders of {Money(method.min_amount, total.currency).display()} or more."
    if method.max_amount is not None and total.minor > method.max_amount:
        return f"For orders up to {Money(method.max_amount, total.currency).display()}."
    return ""


def _title(group: MethodGroup, method: Method, code: str) -> str:
    """The group's title names a kind of product; when a group holds several (sp1 and pp3 are
    both "Paga Fraccionado"), each also gets its own title so the shopper can tell them apart."""
    group_title, own = group.title, method.title
    if len(group.methods) > 1 and own and own != group_title:
        return f"{group_title} · {own}" if group_title else own
    return group_title or own or code


def _detail(method: Method, plans: list[Plan], currency: str) -> str:
    if not plans:
        return method.claim or method.description or ""
    counts = [p.instalment_count for p in plans]
    cheapest = min(plans, key=lambda p: p.instalment_total.value)
    fee = Money(plans[0].instalment_fee.value, currency)
    how = f"{', '.join(map(str, counts[:-1]))} or {counts[-1]}" if len(counts) > 1 else str(counts[0])
    per = Money(cheapest.instalment_total.value, currency).display()
    return (f"{how} monthly instalments, from {per}/month; "
            + (f"fee {fee.display()} per instalment" if fee else "no fees"))


def _fee(plans: list[Plan], currency: str) -> Money | None:
    """The least the shopper pays for credit on this plan family (shortest plan)."""
    if not plans:
        return None
    shortest = min(plans, key=lambda p: p.instalment_count)
    return Money(shortest.cost_of_credit.value, currency)

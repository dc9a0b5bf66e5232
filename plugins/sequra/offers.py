"""Checkout options from SeQura's payment methods and credit agreements for one total."""

from __future__ import annotations

from shop.money import Money
from shop.payments.contract import PaymentOption


def payment_options(plugin_id: str, name: str, total: Money, methods: dict, agreements: dict,
                    unavailable: str = "") -> list[PaymentOption]:
    """One option per product; campaign products carry ``code:campaign``. A product the total
    does not fit is listed disabled with its limit, and ``unavailable`` (a country SeQura does
    not sell to, say) disables them all."""
    options = []
    for group in methods.get("payment_options", []):
        for method in group.get("methods", []):
            code, campaign = method["product"], method.get("campaign")
            option_id = f"{code}:{campaign}" if campaign and code == "pp5" else code
            plans = agreements.get(code) or []
            label = f"{name}: {_title(group, method, code)}"
            try:
                detail, fee = _detail(method, plans, total.currency), _fee(plans, total.currency)
            except (KeyError, TypeError, ValueError):  # the agreements' shape is not documented by SeQura
                detail, fee = method.get("claim") or method.get("description") or "", None
            reason = unavailable or amount_limit(method, total)
            options.append(PaymentOption(plugin_id, option_id, label, detail, fee, unavailable=reason))
    return options


def amount_limit(method: dict, total: Money) -> str:
    """Why the total does not fit the product's min_amount/max_amount (cents or null), or ""."""
    low, high = method.get("min_amount") or 0, method.get("max_amount")
    if total.minor < low:
        return f"For orders of {Money(low, total.currency).display()} or more."
    if high is not None and total.minor > high:
        return f"For orders up to {Money(high, total.currency).display()}."
    return ""


def _title(group: dict, method: dict, code: str) -> str:
    """The group's title names a kind of product; when a group holds several (sp1 and pp3 are
    both "Paga Fraccionado"), each also gets its own title so the shopper can tell them apart."""
    group_title, own = group.get("title") or "", method.get("title") or ""
    if len(group.get("methods") or []) > 1 and own and own != group_title:
        return f"{group_title} · {own}" if group_title else own
    return group_title or own or code


def _detail(method: dict, plans: list[dict], currency: str) -> str:
    if not plans:
        return method.get("claim") or method.get("description") or ""
    counts = [p["instalment_count"] for p in plans]
    cheapest = min(plans, key=lambda p: p["instalment_total"]["value"])
    fee = Money(plans[0]["instalment_fee"]["value"], currency)
    how = f"{', '.join(map(str, counts[:-1]))} or {counts[-1]}" if len(counts) > 1 else str(counts[0])
    per = Money(cheapest["instalment_total"]["value"], currency).display()
    return (f"{how} monthly instalments, from {per}/month; "
            + (f"fee {fee.display()} per instalment" if fee else "no fees"))


def _fee(plans: list[dict], currency: str) -> Money | None:
    """The least the shopper pays for credit on this plan family (shortest plan)."""
    if not plans:
        return None
    shortest = min(plans, key=lambda p: p["instalment_count"])
    return Money(shortest["cost_of_credit"]["value"], currency)

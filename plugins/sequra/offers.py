"""Checkout options from SeQura's payment methods and credit agreements for one total."""

from __future__ import annotations

from shop.i18n import N_, current_locale, ngettext
from shop.i18n import gettext as _
from shop.money import Money
from shop.payments.contract import PaymentOption


def payment_options(plugin_id: str, name: str, total: Money, methods: dict, agreements: dict) -> list[PaymentOption]:
    """One option per product the total fits; campaign products carry ``code:campaign``."""
    options = []
    for group in methods.get("payment_options", []):
        for method in group.get("methods", []):
            low, high = method.get("min_amount") or 0, method.get("max_amount")
            if total.minor < low or (high is not None and total.minor > high):
                continue
            code, campaign = method["product"], method.get("campaign")
            option_id = f"{code}:{campaign}" if campaign and code == "pp5" else code
            plans = agreements.get(code) or []
            label = f"{name}: {_title(group, method, code)}"
            try:
                detail, fee = _detail(group, method, plans, total.currency), _fee(plans, total.currency)
            except (KeyError, TypeError, ValueError):  # the agreements' shape is not documented by SeQura
                detail, fee = _claim(group, method), None
            options.append(PaymentOption(plugin_id, option_id, label, detail, fee))
    return options


def _title(group: dict, method: dict, code: str) -> str:
    """The group's title names a kind of product; when a group holds several (sp1 and pp3 are
    both "Paga Fraccionado"), each also gets its own title so the shopper can tell them apart."""
    group_title, own = group.get("title") or "", method.get("title") or ""
    if len(group.get("methods") or []) > 1 and own and own != group_title:
        return f"{group_title} · {own}" if group_title else own
    return group_title or own or code


# What a kind of product means, for shoppers who do not read SeQura's Spanish claims.
KIND_DESCRIPTIONS = {"pay_later": N_("Receive your order first, then pay later at no cost")}


def _claim(group: dict, method: dict) -> str:
    """SeQura's own claim for a Spanish shopper (it writes them in Spanish); ours in other languages."""
    claim = method.get("claim") or method.get("description") or ""
    kind = group.get("category")
    if current_locale() == "es" or kind not in KIND_DESCRIPTIONS:
        return claim
    return _(KIND_DESCRIPTIONS[kind])


def _detail(group: dict, method: dict, plans: list[dict], currency: str) -> str:
    """What the plans mean, in the shopper's language (the product's name stays SeQura's own)."""
    if not plans:
        return _claim(group, method)
    counts = [p["instalment_count"] for p in plans]
    cheapest = min(plans, key=lambda p: p["instalment_total"]["value"])
    fee = Money(plans[0]["instalment_fee"]["value"], currency)
    per = Money(cheapest["instalment_total"]["value"], currency).display()
    if len(counts) > 1:
        how = _("%(counts)s or %(last)s monthly instalments, from %(amount)s/month") % {
            "counts": ", ".join(map(str, counts[:-1])), "last": counts[-1], "amount": per}
    else:
        how = ngettext("%(count)s monthly instalment, from %(amount)s/month",
                       "%(count)s monthly instalments, from %(amount)s/month", counts[0]) % {
            "count": counts[0], "amount": per}
    cost = _("fee %(amount)s per instalment") % {"amount": fee.display()} if fee else _("no fees")
    return _("%(plans)s; %(cost)s") % {"plans": how, "cost": cost}


def _fee(plans: list[dict], currency: str) -> Money | None:
    """The least the shopper pays for credit on this plan family (shortest plan)."""
    if not plans:
        return None
    shortest = min(plans, key=lambda p: p["instalment_count"])
    return Money(shortest["cost_of_credit"]["value"], currency)

"""Checkout options from SeQura's payment methods and credit agreements for one total."""

from __future__ import annotations

from datetime import datetime

from shop.i18n import N_, current_locale, ngettext
from shop.i18n import gettext as _
from shop.money import Money
from shop.payments.contract import PaymentOption

from .answers import CreditAgreements, Method, MethodGroup, PaymentMethods, Plan

# Where the instalment terms could not be read, a credit product is not offered blind: the
# shopper must see what the credit costs before choosing it.
TERMS_UNREADABLE = N_("Not available right now: SeQura's instalment terms could not be read.")


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
            reason = _(TERMS_UNREADABLE)
        options.append(PaymentOption(plugin_id, option_id, label, _detail(group, method, plans, total.currency),
                                     _fee(plans, total.currency), unavailable=reason))
    return options


def amount_limit(method: Method, total: Money) -> str:
    """Why the total does not fit the product's min_amount/max_amount (cents or none), or ""."""
    if total.minor < (method.min_amount or 0):
        return _("For orders of %(amount)s or more.") % {"amount": Money(method.min_amount, total.currency).display()}
    if method.max_amount is not None and total.minor > method.max_amount:
        return _("For orders up to %(amount)s.") % {"amount": Money(method.max_amount, total.currency).display()}
    return ""


def _title(group: MethodGroup, method: Method, code: str) -> str:
    """The group's title names a kind of product; when a group holds several (sp1 and pp3 are
    both "Paga Fraccionado"), each also gets its own title so the shopper can tell them apart."""
    group_title, own = group.title, method.title
    if len(group.methods) > 1 and own and own != group_title:
        return f"{group_title} · {own}" if group_title else own
    return group_title or own or code


# What a kind of product means, for shoppers who do not read SeQura's Spanish claims.
KIND_DESCRIPTIONS = {"pay_later": N_("Receive your order first, then pay later at no cost")}


def _claim(group: MethodGroup, method: Method) -> str:
    """SeQura's own claim for a Spanish shopper (it writes them in Spanish); ours in other languages."""
    claim = method.claim or method.description or ""
    if current_locale() == "es" or group.category not in KIND_DESCRIPTIONS:
        return claim
    return _(KIND_DESCRIPTIONS[group.category])


def _detail(group: MethodGroup, method: Method, plans: list[Plan], currency: str) -> str:
    """What the plans mean, in the shopper's language (the product's name stays SeQura's own)."""
    if not plans:
        return _claim(group, method)
    counts = [p.instalment_count for p in plans]
    cheapest = min(plans, key=lambda p: p.instalment_total.value)
    fee = Money(plans[0].instalment_fee.value, currency)
    per = Money(cheapest.instalment_total.value, currency).display()
    if len(counts) > 1:
        how = _("%(counts)s or %(last)s monthly instalments, from %(amount)s/month") % {
            "counts": ", ".join(map(str, counts[:-1])), "last": counts[-1], "amount": per}
    else:
        how = ngettext("%(count)s monthly instalment, from %(amount)s/month",
                       "%(count)s monthly instalments, from %(amount)s/month", counts[0]) % {
            "count": counts[0], "amount": per}
    cost = _("fee %(amount)s per instalment") % {"amount": fee.display()} if fee else _("no fees")
    return _("%(plans)s; %(cost)s") % {"plans": how, "cost": cost}


def _fee(plans: list[Plan], currency: str) -> Money | None:
    """The least the shopper pays for credit on this plan family (shortest plan)."""
    if not plans:
        return None
    shortest = min(plans, key=lambda p: p.instalment_count)
    return Money(shortest.cost_of_credit.value, currency)

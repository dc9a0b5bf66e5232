"""SeQura's JSON answers as validated models (sequra.md §7): what the plugin reads of them.

``payment_methods`` is documented; ``credit_agreements`` is not (§7.2 is our reading of the JS
library and SeQura's challenge copy), so its model holds only the fields the shop shows."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field, RootModel

from shop.payments.answers import Answer


class Cents(Answer):
    """SeQura's ``{"value": 5000, "string": "50,00 €"}``: cents (hundredths of a percent for rates)."""

    value: int
    string: str = ""


class Method(Answer):
    product: str
    campaign: str | None = None
    title: str = ""
    long_title: str = ""
    claim: str | None = ""
    description: str | None = ""
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    min_amount: int | None = None
    max_amount: int | None = None

    def sells(self, total_cents: int, now: datetime) -> bool:
        """Whether this method can be offered for ``total_cents`` now (its amounts and its dates)."""
        return self.fits(total_cents) and self.running(now)

    def fits(self, total_cents: int) -> bool:
        return (self.min_amount or 0) <= total_cents and (self.max_amount is None or total_cents <= self.max_amount)

    def running(self, now: datetime) -> bool:
        return (self.starts_at is None or self.starts_at <= now) and (self.ends_at is None or now < self.ends_at)


class MethodGroup(Answer):
    title: str = ""
    description: str | None = ""
    category: str = ""
    methods: list[Method] = Field(default_factory=list)


class PaymentMethods(Answer):
    payment_options: list[MethodGroup]

    def methods(self) -> list[tuple[MethodGroup, Method]]:
        return [(group, method) for group in self.payment_options for method in group.methods]


class Plan(Answer):
    """One line of a credit agreement: the plan in ``instalment_count`` monthly instalments."""

    instalment_count: int
    instalment_amount: Cents
    instalment_fee: Cents
    instalment_total: Cents
    grand_total: Cents
    cost_of_credit: Cents
    apr: Cents  # hundredths of a percent
    min_amount: Cents | None = None


class CreditAgreements(RootModel[dict[str, list[Plan]]]):
    """Product code -> its plans for one amount."""

    def plans(self, product: str) -> list[Plan]:
        return sorted(self.root.get(product, []), key=lambda plan: plan.instalment_count)

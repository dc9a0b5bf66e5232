"""secupay's answers as validated models: what the plugin reads of a Smart Transaction when it
is created (secupay.md §5), so that an answer of another shape is one clear error."""

from __future__ import annotations

from pydantic import Field

from shop.payments.answers import Answer


class BasketInfo(Answer):
    sum: int | None = None
    currency: str | None = None


class CreatedTransaction(Answer):
    """A new Smart Transaction: its id, status and the hosted checkout's link per method (a
    method missing from ``payment_links`` is one the contract does not offer)."""

    id: str = Field(min_length=1)
    status: str = "created"
    payment_links: dict[str, str] = Field(default_factory=dict)
    basket_info: BasketInfo | None = None

    def methods(self) -> tuple[str, ...]:
        return tuple(method for method in self.payment_links if method != "general")

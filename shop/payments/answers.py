"""Provider answers read into validated models, so that an answer in an unexpected shape is
one clear error, logged once, instead of an AttributeError wherever the shape was guessed.

A plugin calls ``parse`` on each JSON answer it reads. ``UnexpectedAnswer`` is a
``ProviderError``: where a payment exists the core keeps its message on the payment's timeline
(a failed start, a failed read-back), and a plugin listing its options shows the option as
unavailable with ``UNREADABLE`` as the reason, instead of hiding it without a word."""

from __future__ import annotations

import logging
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from shop.i18n import N_
from shop.i18n import gettext as _
from shop.payments.contract import ProviderError

log = logging.getLogger(__name__)
Model = TypeVar("Model", bound=BaseModel)
UNREADABLE = N_("Not available right now: %(provider)s's answer could not be read. Please choose another way to pay.")


class Answer(BaseModel):
    """Base of a provider's answer: fields the shop does not use are ignored, so a provider
    adding one breaks nothing; a field the shop uses that is missing or of another type does."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class UnexpectedAnswer(ProviderError):
    """The provider answered 2xx, but not in the shape the plugin reads."""

    def __init__(self, provider: str, what: str, problem: str) -> None:
        super().__init__(f"{provider} answered {what} in a shape the shop does not know ({problem})",
                         code="unexpected_answer")
        self.provider = provider
        self.what = what

    @property
    def reason(self) -> str:
        """For a shopper: why the option is unavailable."""
        return _(UNREADABLE) % {"provider": self.provider}


def parse(model: type[Model], data: Any, *, provider: str, what: str) -> Model:
    """``data`` as a ``model``, or UnexpectedAnswer naming the first fields that did not fit."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'the answer'}: {e['msg']}" for e in exc.errors()[:3])
        log.warning("%s answered %s in an unexpected shape: %s", provider, what, problems)
        raise UnexpectedAnswer(provider, what, problems) from exc

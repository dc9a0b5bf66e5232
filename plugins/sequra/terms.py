"""SeQura's payment methods and credit agreements as the checkout shows them, kept a short while.

Every view of the checkout (and its POST) lists SeQura's products with their instalment terms:
asked of SeQura each time, that is two API calls per view whatever way the shopper pays.
SeQura changes these rarely and checks the order itself when it is solicited, so an answer is
kept for ``lifetime`` seconds in this worker. Only answers are kept: a SeQura that is down or
answering in another shape is asked again on the next view, as before. Concurrent views that
miss share one call (single flight)."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import TypeVar

from shop.money import Money

from .answers import CreditAgreements, PaymentMethods
from .client import SequraClient

T = TypeVar("T")
MAX_TOTALS = 1024  # credit agreements kept per worker, the oldest dropped first


class Terms:
    def __init__(self, client: Callable[[], SequraClient], lifetime: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._client = client  # looked up on each call: the plugin's client may be replaced (tests)
        self.lifetime = lifetime
        self._clock = clock
        self._kept: OrderedDict[tuple, tuple[float, object]] = OrderedDict()
        self._inflight: dict[tuple, asyncio.Future] = {}

    async def payment_methods(self) -> PaymentMethods:
        return await self._answer(("methods",), lambda: self._client().merchant_payment_methods())

    async def credit_agreements(self, total: Money, *, locale: str, country: str) -> CreditAgreements:
        key = ("agreements", total.minor, total.currency, locale, country)
        return await self._answer(key, lambda: self._client().credit_agreements(total, locale=locale, country=country))

    async def _answer(self, key: tuple, ask: Callable[[], Awaitable[T]]) -> T:
        entry = self._kept.get(key)
        if entry is not None and entry[0] > self._clock():
            return entry[1]
        if self.lifetime <= 0:
            return await ask()
        call = self._inflight.get(key)
        if call is None:
            call = self._inflight[key] = asyncio.ensure_future(self._ask_and_keep(key, ask))
            call.add_done_callback(lambda done: self._done(key, done))
        # Shielded: a shopper who leaves does not cancel the answer the others wait for.
        return await asyncio.shield(call)

    def _done(self, key: tuple, call: asyncio.Future) -> None:
        self._inflight.pop(key, None)
        if not call.cancelled():
            call.exception()  # seen here: every shopper who waited for it may have left

    async def _ask_and_keep(self, key: tuple, ask: Callable[[], Awaitable[T]]) -> T:
        answer = await ask()  # an error is raised to every waiter and not kept
        self._kept[key] = (self._clock() + self.lifetime, answer)
        self._kept.move_to_end(key)
        while len(self._kept) > MAX_TOTALS:
            self._kept.popitem(last=False)
        return answer

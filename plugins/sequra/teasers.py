"""SeQura's promotional teasers: "from 29,67 €/month" for an amount, from SeQura's credit
agreements (sequra.md §7.2) for the promoted product, within its min/max amounts and dates.

A page never waits on SeQura for them: ``peek`` answers from the cache at once (warmed at start
for the catalog's prices); what is not cached yet is fetched by ``wait_for`` from a route the
page loads afterwards, for a bounded time. One fetch per amount at a time (single flight); a
failure is remembered briefly too, so a SeQura that is down is not asked on every view."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from shop.money import Money
from shop.payments.contract import ProviderError

from .answers import CreditAgreements, Method, PaymentMethods, Plan

log = logging.getLogger(__name__)
FAILED_FOR_SECONDS = 30.0  # how long a failed fetch is remembered
MAX_AMOUNTS = 2048  # cached amounts per worker, oldest dropped first


@dataclass(frozen=True)
class Teaser:
    """What to show for one amount: its plans, or the product's minimum where it is below."""

    amount: Money
    product: str
    plans: tuple[Plan, ...] = ()
    minimum: Money | None = None  # set when the amount is below the product's minimum

    @property
    def cheapest(self) -> Plan:
        return min(self.plans, key=lambda plan: plan.instalment_total.value)


def teaser_for(amount: Money, product: str, methods: PaymentMethods, agreements: CreditAgreements | None,
               now: datetime) -> Teaser | None:
    """The teaser for ``amount``: None where the product is not sold now or above its maximum."""
    method = _method(methods, product, now)
    if method is None or (method.max_amount is not None and amount.minor > method.max_amount):
        return None
    if amount.minor < (method.min_amount or 0):
        return Teaser(amount, product, minimum=Money(method.min_amount or 0, amount.currency))
    plans = tuple(agreements.plans(product)) if agreements is not None else ()
    return Teaser(amount, product, plans) if plans else None


def _method(methods: PaymentMethods, product: str, now: datetime) -> Method | None:
    running = [m for _, m in methods.methods() if m.product == product and m.running(now)]
    return running[0] if running else None


class Teasers:
    """Teasers by amount, cached for ``lifetime`` seconds in this worker."""

    def __init__(self, product: str, lifetime: float,
                 fetch_methods: Callable[[], Awaitable[PaymentMethods]],
                 fetch_agreements: Callable[[Money], Awaitable[CreditAgreements]]) -> None:
        self.product = product
        self.lifetime = lifetime
        self._fetch_methods = fetch_methods
        self._fetch_agreements = fetch_agreements
        self._cache: OrderedDict[int, tuple[float, Teaser | None]] = OrderedDict()
        self._methods: tuple[float, PaymentMethods] | None = None
        self._inflight: dict[int, asyncio.Task] = {}

    def peek(self, amount: Money) -> tuple[bool, Teaser | None]:
        """(known, teaser) from the cache alone; known False: not fetched yet, or expired."""
        entry = self._cache.get(amount.minor)
        if entry is None or entry[0] <= time.monotonic():
            return False, None
        return True, entry[1]

    async def wait_for(self, amount: Money, timeout: float) -> Teaser | None:
        """The teaser, fetched if need be, waiting at most ``timeout`` seconds (None after that:
        the fetch goes on and fills the cache for the next view)."""
        known, teaser = self.peek(amount)
        if known:
            return teaser
        task = self._inflight.get(amount.minor)
        if task is None:
            task = self._inflight[amount.minor] = asyncio.create_task(self._fill(amount))
            task.add_done_callback(lambda _: self._inflight.pop(amount.minor, None))
        try:
            return await asyncio.wait_for(asyncio.shield(task), timeout)
        except TimeoutError:
            return None

    async def warm(self, amounts: list[Money]) -> None:
        for amount in dict.fromkeys(amounts):
            await self.wait_for(amount, timeout=max(self.lifetime, 1.0))

    async def _fill(self, amount: Money) -> Teaser | None:
        try:
            methods, now = await self._methods_now(), _now()
            method = _method(methods, self.product, now)
            # SeQura is asked for the plans only where the amount is within the product's limits.
            sold = method is not None and method.fits(amount.minor)
            agreements = await self._fetch_agreements(amount) if sold else None
            teaser = teaser_for(amount, self.product, methods, agreements, now)
        except ProviderError as exc:  # down, slow, refusing, or answering in another shape: no teaser
            log.warning("SeQura teaser for %s not available: %s", amount.display(), exc.message)
            self._keep(amount.minor, None, FAILED_FOR_SECONDS)
            return None
        self._keep(amount.minor, teaser, self.lifetime)
        return teaser

    async def _methods_now(self) -> PaymentMethods:
        if self._methods is None or self._methods[0] <= time.monotonic():
            self._methods = (time.monotonic() + self.lifetime, await self._fetch_methods())
        return self._methods[1]

    def _keep(self, minor: int, teaser: Teaser | None, seconds: float) -> None:
        self._cache[minor] = (time.monotonic() + min(seconds, self.lifetime), teaser)
        self._cache.move_to_end(minor)
        while len(self._cache) > MAX_AMOUNTS:
            self._cache.popitem(last=False)


def _now() -> datetime:
    return datetime.now(UTC)

"""Which payment methods the merchant's secupay contract offers, learnt from the payment links
secupay returns with every new Smart Transaction (a method without a link cannot be paid).

secupay documents no call that lists a contract's methods, so the shop remembers the links of
the transactions it creates; when it knows none yet (or they are older than ``lifetime``) it
creates one Smart Transaction for the order's amount only to read them, and never sends anyone
to it. Until known, only the general page is offered: it lists what the contract has."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable


class ContractMethods:
    def __init__(self, lifetime: float, probe: Callable[[], Awaitable[tuple[str, ...]]]) -> None:
        self.lifetime = lifetime
        self._probe = probe
        self._known: tuple[float, tuple[str, ...]] | None = None
        self._lock = asyncio.Lock()

    def learn(self, methods: tuple[str, ...]) -> None:
        """What a new Smart Transaction's links said, now."""
        self._known = (time.monotonic() + self.lifetime, methods)

    def cached(self) -> tuple[str, ...] | None:
        if self._known is None or self._known[0] <= time.monotonic():
            return None
        return self._known[1]

    async def current(self) -> tuple[str, ...]:
        """The contract's methods, asking secupay once when unknown (ProviderError if it cannot say)."""
        known = self.cached()
        if known is not None:
            return known
        async with self._lock:  # one probe for the checkouts that arrive together
            known = self.cached()
            if known is None:
                known = await self._probe()
                self.learn(known)
            return known

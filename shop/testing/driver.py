"""How the contract kit makes a plugin's sandbox play its provider's part.

Every plugin ships a ``SandboxDriver`` beside its sandbox (``plugins/<id>/sandbox/driver.py``).
The kit never reaches into a sandbox any other way, so the same checks run for every plugin.
The driver acts as the provider's other side would: the payer who pays on the hosted page or
in the app, the provider's back office, the network that loses or repeats a callback.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field

from shop.payments.contract import PaymentAttempt, Started


@dataclass(frozen=True)
class CallbackRequest:
    """A callback as the provider would send it, held back so the kit can deliver it at will."""

    method: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""


class SandboxDriver(ABC):
    """Moves a payment at the sandbox and hands back the callbacks that would follow.

    While the kit drives it, the sandbox must *hold* the callbacks it would send (its
    "callback lost" scenario, say) and return them here instead, so the kit alone decides
    when, and how often, they arrive."""

    def __init__(self, sandbox) -> None:  # the sandbox app's state object, plugin-defined
        self.sandbox = sandbox

    @abstractmethod
    async def pay(self, payment: PaymentAttempt, started: Started) -> CallbackRequest:
        """The payer pays in full, as on the provider's hosted page or app.

        Returns the callback announcing it (not sent)."""

    @abstractmethod
    async def forge_paid_claim(self, payment: PaymentAttempt, started: Started) -> CallbackRequest:
        """A callback that passes the plugin's verification and claims payment, while the
        provider's own records say the payment is *not* paid (nothing moved)."""

    @abstractmethod
    def break_read_back(self, broken: bool) -> None:
        """While broken, the provider's read-back (or confirm) call answers a 5xx error."""

    @abstractmethod
    async def pay_other_amount(self, payment: PaymentAttempt, started: Started) -> CallbackRequest:
        """The payer pays, but the provider's records hold an amount other than the payment's
        (a cent more, say). Returns the callback announcing it (not sent). Where the provider
        never reports an amount, its side refuses the shop's confirmation for that amount instead."""

    async def authorize(self, payment: PaymentAttempt, started: Started) -> CallbackRequest:
        """For a plugin that declares capture: the payer authorizes, and the provider holds the
        money uncaptured. Returns the callback announcing it (not sent)."""
        raise NotImplementedError(f"{type(self).__name__} must authorize without capturing: its plugin "
                                  "declares capture")

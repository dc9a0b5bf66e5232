"""The checkout plugin contract: the protocol every provider plugin implements and its value types.

A plugin observes its provider and returns what it saw; it never writes order or payment
state, never answers the browser's status channel and never logs provider calls by hand.
The core (``callbacks``, ``ledger``, ``recorder``) does those things, the same way for all.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

from shop.money import Money

if TYPE_CHECKING:
    import httpx
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import BaseRoute
    from starlette.types import ASGIApp


class PaymentStatus(enum.StrEnum):
    CREATED = "created"
    PENDING = "pending"
    AUTHORIZED = "authorized"
    PAID = "paid"
    FAILED = "failed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    REFUNDED = "refunded"


class Capability(enum.StrEnum):
    REFUND = "refund"
    PARTIAL_REFUND = "partial_refund"
    CANCEL = "cancel"
    CAPTURE = "capture"
    STATUS_PUSH = "status_push"
    INSTANT_CHECKOUT = "instant_checkout"


class LineKind(enum.StrEnum):
    PRODUCT = "product"
    SHIPPING = "shipping"
    DISCOUNT = "discount"


# --------------------------------------------------------------------------- the order, frozen


@dataclass(frozen=True)
class Address:
    given_names: str
    surname: str
    line1: str
    postal_code: str
    city: str
    country_code: str  # ISO 3166-1 alpha-2
    line2: str = ""
    company: str = ""
    phone: str = ""


@dataclass(frozen=True)
class Customer:
    email: str
    given_names: str
    surname: str
    phone: str = ""
    language: str = "en"  # ISO 639-1
    date_of_birth: str = ""  # YYYY-MM-DD when known


@dataclass(frozen=True)
class OrderLine:
    kind: LineKind
    reference: str  # SKU, "shipping" or the discount code
    name: str
    quantity: int
    unit_price: Money  # gross, tax included; negative for a discount
    tax_rate: Decimal  # percent, e.g. Decimal("19")

    @property
    def total(self) -> Money:
        return self.unit_price * self.quantity


@dataclass(frozen=True)
class OrderSnapshot:
    """An order as it was frozen at checkout: what every provider is told."""

    number: str  # the shop's order number, shown to the shopper and sent as merchant reference
    lines: tuple[OrderLine, ...]
    customer: Customer
    delivery_address: Address
    invoice_address: Address
    cart_hash: str
    created_at: datetime

    @property
    def currency(self) -> str:
        return self.lines[0].unit_price.currency if self.lines else "EUR"

    @property
    def total(self) -> Money:
        total = Money.zero(self.currency)
        for line in self.lines:
            total += line.total
        return total

    def lines_of(self, kind: LineKind) -> tuple[OrderLine, ...]:
        return tuple(line for line in self.lines if line.kind == kind)


# --------------------------------------------------------------------------- a payment attempt


@dataclass(frozen=True)
class PaymentUrls:
    """The addresses a provider and the shopper's browser use for one payment attempt.

    Both carry the payment's unguessable token; nothing else identifies the payment."""

    callback: str  # /pay/<plugin>/cb/<token>
    return_base: str  # /pay/<plugin>/return/<token>

    def return_url(self, outcome: str) -> str:
        return f"{self.return_base}/{outcome}"


class Channel(enum.StrEnum):
    ONLINE = "online"  # the shopper's own browser
    PHONE = "phone"  # a call-centre operator for the customer
    TILL = "till"  # an isolated point of sale, no callbacks reach it


@dataclass(frozen=True)
class PaymentAttempt:
    """One attempt to pay an order, as a plugin sees it. The core owns the row behind it."""

    id: int
    order: OrderSnapshot
    amount: Money
    option: str  # the option id the shopper chose from ``options()``
    status: PaymentStatus
    urls: PaymentUrls
    reference: str | None = None  # the provider's id for it, once started
    data: Mapping[str, Any] = field(default_factory=dict)  # what the plugin asked to keep at start
    refunded: Money | None = None  # done refunds so far
    channel: Channel = Channel.ONLINE
    created_at: datetime | None = None


@dataclass(frozen=True)
class StartContext:
    """What the shopper's request tells about the shopper's device."""

    user_agent: str = ""
    ip_address: str = ""
    is_mobile: bool = False
    locale: str = "en"


# --------------------------------------------------------------------------- what a plugin returns


@dataclass(frozen=True)
class PaymentOption:
    """One way to pay that a plugin offers for an order (SeQura: i1, pp3; secupay: card...)."""

    plugin_id: str
    option_id: str
    label: str
    detail: str = ""  # e.g. "3 instalments of €12.34, fee €3.00"
    fee: Money | None = None
    # Why this option cannot be chosen for this order, in words a shopper understands ("Only for
    # delivery addresses in Spain"); empty when it can. Shown disabled rather than hidden, so the
    # shopper learns what would make it possible.
    unavailable: str = ""


@dataclass(frozen=True)
class DemoFlow:
    """One thing a sales person can show with a plugin, as the demo guide (/demo) lists it.

    With a ``persona`` (a key of shop.personas) the guide offers "Try it": the persona's cart and
    checkout details are filled in, ``option`` is chosen and the plugin's sandbox is set to
    ``scenario`` (the switches of the sandbox's own scenario form, on top of its starting ones).
    Without one, the flow starts elsewhere (the back office, a product page) and ``how`` says where."""

    title: str
    how: str
    persona: str = ""
    option: str = ""  # the PaymentOption.option_id to choose; empty: the plugin's id
    scenario: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Redirect:
    """Send the shopper's browser, full page, to the provider (secupay)."""

    url: str


@dataclass(frozen=True)
class Embed:
    """Put the provider's HTML into the checkout page as-is (SeQura's form snippet).

    ``csp`` names what the page's Content-Security-Policy must also allow, by directive."""

    html: str
    csp: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class ShowCode:
    """Show a code to scan and, on a phone, a link that opens the app (SEQR)."""

    qr_payload: str
    deep_link: str
    expires_at: datetime | None = None
    help_url: str = ""  # for someone without the app at hand: a download page, or a sandbox's phone


@dataclass(frozen=True)
class Instructions:
    """Tell the shopper how to pay outside the shop (bank transfer)."""

    fields: tuple[tuple[str, str], ...]  # (label, value) pairs, in order
    qr_payload: str | None = None  # e.g. an EPC GiroCode
    note: str = ""


NextStep = Redirect | Embed | ShowCode | Instructions


@dataclass(frozen=True)
class RefundSeen:
    """A refund as the provider reports it; deduplicated by ``provider_id``."""

    provider_id: str
    amount: Money
    done: bool = True


@dataclass(frozen=True)
class Observation:
    """What a plugin saw at its provider. The ledger decides what it means for the payment."""

    status: PaymentStatus
    raw_status: str  # the provider's own word for it, kept for the timeline
    dedupe_key: str  # the same provider fact gives the same key; the ledger applies it once
    reference: str | None = None
    amount: Money | None = None  # the amount the provider says moved (or will move)
    detail: str = ""  # a human sentence for the timeline and the shopper (e.g. decline reason)
    data: Mapping[str, Any] = field(default_factory=dict)  # provider facts to keep (receipt ids...)
    refunds: tuple[RefundSeen, ...] = ()
    # What the shopper should see next, when the provider's answer changes it (secupay prepaid:
    # transfer instructions once the shopper is back from the hosted page).
    next_step: NextStep | None = None


@dataclass(frozen=True)
class Started:
    next_step: NextStep
    observation: Observation | None = None
    reference: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)  # kept on the payment, given back later


@dataclass(frozen=True)
class CallbackClaim:
    """What a verified callback says. A trigger to look at the provider, never the truth."""

    event: str  # the provider's event/status word, e.g. "approved", "changed"
    reference: str | None = None
    dedupe_key: str = ""
    data: Mapping[str, Any] = field(default_factory=dict)


class CallbackOutcome(enum.StrEnum):
    ACCEPTED = "accepted"  # looked at, applied (or already applied)
    IGNORED = "ignored"  # not about anything we track; the provider must stop sending it
    CONFLICT = "conflict"  # the order changed since it was sent (SeQura 409)
    RETRY = "retry"  # we could not read the provider: send it again later
    REJECTED = "rejected"  # forged or malformed
    MALFORMED = "malformed"  # a body that cannot be read as what it says it is (the core checks it; 400)
    UNKNOWN = "unknown"  # no payment behind this token
    UNSUPPORTED = "unsupported"  # an event kind the plugin does not handle (SeQura 501)


@dataclass(frozen=True)
class AdminAction:
    """A provider-specific button on the back office's order page (SEQR "update invoice",
    bank transfer "mark received"). ``fields`` are (name, label, input type) triples."""

    name: str
    label: str
    fields: tuple[tuple[str, str, str], ...] = ()
    confirm: str = ""  # a question to confirm before running it, if any


# --------------------------------------------------------------------------- errors


class ProviderError(Exception):
    """The provider answered with an error; ``message`` is fit for a shopper or merchant."""

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None,
                 fields: Mapping[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.fields = dict(fields or {})  # form field -> message, for errors about one field


class ProviderUnavailable(ProviderError):
    """Timeout, connection error or 5xx: nothing is known, try again later."""


class CallbackRejected(Exception):
    """A callback that fails verification (bad signature, malformed body)."""


class UnsupportedCallback(Exception):
    """A verified callback about a kind of event the plugin does not handle (SeQura answers 501)."""


class ReadBackUnavailable(Exception):
    """The provider offers no read-back for this payment (SeQura without a claim)."""


class CartChanged(ProviderError):
    """The order no longer matches the cart or the stock it was made from."""


# --------------------------------------------------------------------------- the plugin


@dataclass(frozen=True)
class PluginRuntime:
    """What the core hands a plugin when it is set up."""

    http: httpx.AsyncClient  # provider calls; recorded by the core's event hooks
    public_url: str  # the base URL providers and browsers reach the shop at
    sandbox_url: str  # where this plugin's own sandbox is served
    sandbox_http: httpx.AsyncClient | None = None  # the sandbox's own calls out (its callbacks); unrecorded
    services: Any = None  # shop.services.ShopServices: order creation for plugin routes


@runtime_checkable
class CheckoutPlugin(Protocol):
    id: ClassVar[str]  # slug, equal to the entry-point name
    name: ClassVar[str]
    capabilities: ClassVar[frozenset[Capability]]
    settings_model: ClassVar[type]  # a dataclass; see shop.payments.registry.load_settings
    has_read_back: ClassVar[bool]  # whether fetch() works without a callback claim

    def __init__(self, settings: Any, runtime: PluginRuntime) -> None: ...

    async def options(self, order: OrderSnapshot) -> Sequence[PaymentOption]: ...

    async def start(self, payment: PaymentAttempt, ctx: StartContext) -> Started: ...

    async def fetch(self, payment: PaymentAttempt, claim: CallbackClaim | None = None) -> Observation:
        """The authoritative read-back. Raises ProviderUnavailable when the provider cannot be read."""
        ...

    async def verify_callback(self, request: Request, body: bytes, payment: PaymentAttempt) -> CallbackClaim:
        """Check what can be checked of a callback; raise CallbackRejected. Changes nothing."""
        ...

    def callback_reply(self, outcome: CallbackOutcome) -> Response: ...

    def routes(self) -> Sequence[BaseRoute]:
        """Extra routes under /pay/<id>/ (callbacks and return URLs are the core's)."""
        ...

    def sandbox(self) -> ASGIApp | None:
        """The provider played on loopback, mounted at /sandbox/<id>/."""
        ...


class Capturing(Protocol):
    async def capture(self, payment: PaymentAttempt, amount: Money) -> Observation: ...


class Refunding(Protocol):
    async def refund(self, payment: PaymentAttempt, amount: Money, reason: str) -> RefundSeen: ...


class Cancelling(Protocol):
    async def cancel(self, payment: PaymentAttempt) -> Observation: ...

"""The checkout plugin contract: the base class every provider plugin extends and its value types.

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
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from starlette.responses import PlainTextResponse, Response

from shop.money import Money

if TYPE_CHECKING:
    import httpx
    from markupsafe import Markup
    from starlette.requests import Request
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

    kind: ClassVar[str] = "redirect"  # what templates choose the payment panel by
    url: str


@dataclass(frozen=True)
class Embed:
    """Put the provider's HTML into the checkout page as-is (SeQura's form snippet).

    ``csp`` names what the page's Content-Security-Policy must also allow, by directive."""

    kind: ClassVar[str] = "embed"
    html: str
    csp: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class ShowCode:
    """Show a code to scan and, on a phone, a link that opens the app (SEQR)."""

    kind: ClassVar[str] = "show_code"
    qr_payload: str
    deep_link: str
    expires_at: datetime | None = None
    help_url: str = ""  # for someone without the app at hand: a download page, or a sandbox's phone


@dataclass(frozen=True)
class Instructions:
    """Tell the shopper how to pay outside the shop (bank transfer)."""

    kind: ClassVar[str] = "instructions"
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
    # The amount the provider itself reported as moved (or to move), or None when its answer does
    # not say: never the payment's own amount filled in. The ledger decides what None means.
    amount: Money | None = None
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


# --------------------------------------------------------------------------- orders a plugin takes


@dataclass(frozen=True)
class PluginOrder:
    """An order a plugin takes outside the shopper's checkout (SEQR Instant Checkout, SeQura's
    call centre). The core places it with the checkout's own rules: stock held, numbered, expiry."""

    items: tuple[tuple[int, int], ...]  # (product id, quantity)
    customer: Customer
    delivery: Address
    invoice: Address
    channel: Channel = Channel.ONLINE
    expires_in_seconds: int | None = None  # None: the shop's usual order expiry
    # A purchase code printed for anyone to read (SEQR's product-page code) can be replayed: the
    # core then keeps at most ``unpaid_per_hour`` unpaid orders an hour per code and per caller.
    code_hash: str = ""
    caller: str = ""
    unpaid_per_hour: int = 0


@dataclass(frozen=True)
class PlacedOrder:
    id: int
    number: str
    total: Money


@dataclass(frozen=True)
class PaymentRecord:
    plugin: str
    status: str
    data: Mapping[str, Any]


@dataclass(frozen=True)
class OrderRecord:
    """An order as a plugin may read it for a report to its provider: plain values, no session."""

    number: str
    status: str
    created_at: datetime
    paid_at: datetime | None
    currency: str
    total_cents: int
    country_code: str  # of the delivery address
    payments: tuple[PaymentRecord, ...]


@dataclass(frozen=True)
class PaymentStart:
    """What starting a payment for a plugin-placed order gave: ``started`` is None when the
    provider refused, ``message`` then says why and ``field_errors`` which details it refused."""

    payment_id: int
    started: Started | None
    message: str = ""
    field_errors: Mapping[str, str] = field(default_factory=dict)


class OrderRefused(Exception):
    """The core cannot place the order (sold out, too many unpaid orders...): a sentence why."""


class PluginServices(Protocol):
    """The core's services a plugin may use; the only way a plugin changes orders and payments."""

    secret_key: str  # the shop's own secret, for plugins that sign something of their own

    async def place_order(self, order: PluginOrder) -> PlacedOrder:
        """Place the order with the checkout's rules; raise OrderRefused with the reason."""
        ...

    async def start_payment(self, order_id: int, plugin_id: str, option: str, ctx: StartContext, *,
                            channel: Channel = Channel.ONLINE) -> PaymentStart:
        """Start a payment of the order, as the checkout does after placing one."""
        ...

    async def expire_order(self, order_id: int, reason: str) -> None:
        """Give up an unpaid order now (its stock goes back), e.g. when no invoice could be sent."""
        ...

    async def order_problem(self, order_number: str) -> str:
        """Why the order no longer matches its cart or the stock, or "" when it still does."""
        ...

    async def record_incoming(self, *, operation: str, body: str, http_status: int,
                              order_id: int | None = None, payment_id: int | None = None) -> None:
        """Log a provider's call to a plugin route in the event log, as the core logs callbacks."""
        ...

    async def catalog_prices(self) -> list[int]:
        """Every product's price in cents (to warm what a plugin shows beside prices)."""
        ...

    async def orders_since(self, since: datetime) -> list[OrderRecord]:
        """The orders placed since then, with their payments, oldest first (for reports)."""
        ...

    async def claim_once(self, name: str) -> bool:
        """Take a named piece of work (a day's report) for this worker: False when a worker, in
        this process or another, has taken it already."""
        ...

    async def release_claim(self, name: str) -> None:
        """Give a claim back (the work failed): the next try may take it again."""
        ...


# --------------------------------------------------------------------------- the plugin


@dataclass(frozen=True)
class PluginRuntime:
    """What the core hands a plugin when it is set up."""

    http: httpx.AsyncClient  # provider calls; recorded by the core's event hooks
    public_url: str  # the base URL providers and browsers reach the shop at
    sandbox_url: str  # where this plugin's own sandbox is served
    sandbox_http: httpx.AsyncClient | None = None  # the sandbox's own calls out (its callbacks); unrecorded
    services: PluginServices | None = None  # None only where no store runs (a plugin's unit tests)


# How a provider is answered, by outcome: a plugin overrides ``replies`` with its provider's form.
PLAIN_REPLIES: Mapping[CallbackOutcome, tuple[int, str]] = {
    CallbackOutcome.ACCEPTED: (200, "ok"),
    CallbackOutcome.IGNORED: (200, "ignored"),
    CallbackOutcome.CONFLICT: (409, "conflict"),
    CallbackOutcome.RETRY: (503, "retry later"),
    CallbackOutcome.REJECTED: (403, "rejected"),
    CallbackOutcome.MALFORMED: (400, "malformed"),
    CallbackOutcome.UNKNOWN: (404, "unknown"),
    CallbackOutcome.UNSUPPORTED: (501, "not implemented"),
}


class CheckoutPlugin:
    """A payment provider's plugin: everything the core may call on one, each with its default.

    A plugin subclasses this, sets the four declarations and writes ``start``, ``fetch`` and
    ``verify_callback``; every other hook has a default that does nothing or offers nothing.
    The core calls nothing that is not declared here. A plugin observes its provider and
    returns what it saw; it never writes order or payment state (``PluginServices`` does).
    """

    # ------------------------------------------------------------------ declarations

    id: ClassVar[str]  # slug, equal to the entry-point name
    name: ClassVar[str]  # what the shopper reads at checkout
    capabilities: ClassVar[frozenset[Capability]] = frozenset()
    settings_model: ClassVar[type]  # a dataclass read from <ID>_<FIELD> variables (shop.settings)
    has_read_back: ClassVar[bool] = True  # whether fetch() works without a callback claim
    # Whether the provider's answers say how much moved. Then money held (authorized, paid)
    # observed without an amount is not trusted: the ledger flags it as a wrong amount. False for
    # a provider that never says (SeQura: it checks the amount the shop sends when confirming).
    reports_amount: ClassVar[bool] = True
    # The plugin's own templates, reachable in Jinja as "<plugin id>/<file>".
    templates_dir: ClassVar[Path | None] = None

    def __init__(self, settings: Any, runtime: PluginRuntime) -> None:
        self.settings = settings
        self.runtime = runtime

    async def aclose(self) -> None:
        """Release what the plugin opened (clients, background tasks); called when the app stops."""

    # ------------------------------------------------------------------ checkout

    async def options(self, order: OrderSnapshot) -> Sequence[PaymentOption]:
        """The ways to pay this plugin offers for the order; one named after the plugin by default."""
        return [PaymentOption(self.id, self.id, self.name)]

    async def start(self, payment: PaymentAttempt, ctx: StartContext) -> Started:
        """Open the payment at the provider and say what the shopper does next."""
        raise NotImplementedError(f"{type(self).__name__}.start")

    def routes(self) -> Sequence[BaseRoute]:
        """Extra routes under /pay/<id>/ (callbacks and return URLs are the core's)."""
        return []

    # ------------------------------------------------------------------ snippets on the shop's pages
    # A plugin may show something on the shop's own pages: a promotion (SeQura's instalment
    # teasers), a way to buy at once (SEQR's Instant Checkout). Each hook returns HTML, or "" for
    # nothing, and must answer at once: it is called while the page renders, so it never waits on
    # the provider (what is not ready yet loads afterwards through the plugin's own routes).

    async def product_extra(self, product: Any, request: Request | None = None) -> Markup | str:
        """Under the product page's price and quantity (``product``: the Product row)."""
        return ""

    async def listing_extra(self, product: Any, request: Request | None = None) -> Markup | str:
        """A line on the product's card in the catalog's listing. The listing is one page for every
        shopper, kept up to a second (shop.page_memo): the line may depend on the language, the
        product and the plugin's own data, not on who asks (``request`` is the first who did)."""
        return ""

    async def cart_extra(self, total: Money, request: Request | None = None) -> Markup | str:
        """Under the cart's total; rendered again whenever the cart changes (quantity, discount)."""
        return ""

    async def run_in_background(self) -> None:
        """Work of the plugin's own while a store worker runs (fill the caches the hooks above
        read, a daily job), started in the background with the worker and cancelled when it
        stops. An exception is logged and changes nothing else."""

    # ------------------------------------------------------------------ callbacks and read-back

    # True where the callback is where the sale is confirmed (SeQura's IPN): the core then
    # checks the order against its cart and the stock before calling fetch().
    confirms_on_callback: ClassVar[bool] = False
    # The largest callback body this provider sends; 0: the core's own limit (it never allows more).
    max_callback_bytes: ClassVar[int] = 0
    replies: ClassVar[Mapping[CallbackOutcome, tuple[int, str]]] = PLAIN_REPLIES

    async def verify_callback(self, request: Request, body: bytes, payment: PaymentAttempt) -> CallbackClaim:
        """Check what can be checked of a callback; raise CallbackRejected. Changes nothing."""
        raise CallbackRejected(f"{self.id} takes no callbacks")

    async def fetch(self, payment: PaymentAttempt, claim: CallbackClaim | None = None) -> Observation:
        """The authoritative read-back. Raises ProviderUnavailable when the provider cannot be
        read, ReadBackUnavailable when it offers none (then ``has_read_back`` is False)."""
        raise ReadBackUnavailable(f"{self.id} offers no read-back")

    def confirm_intent(self, payment: PaymentAttempt, claim: CallbackClaim) -> Observation | None:
        """What ``fetch`` is about to ask the provider for this claim, for the ledger to keep
        before the call (plugins that confirm on the callback); None when nothing."""
        return None

    def callback_reply(self, outcome: CallbackOutcome) -> Response:
        """The answer the provider gets for a callback, from ``replies``."""
        status, text = self.replies[outcome]
        return PlainTextResponse(text, status_code=status)

    # ------------------------------------------------------------------ the reconciler

    @property
    def read_back_after_seconds(self) -> float:
        """How long a pending payment may go unread before the reconciler reads it; 0: the
        shop's own setting. A provider that reverses what the shop does not read soon sets it short."""
        return 0

    @property
    def payment_timeout_seconds(self) -> float:
        """After this long pending, the reconciler reads the payment once more and cancels it at
        the provider (with the cancel capability); 0: never."""
        return 0

    @property
    def settles_confirmations(self) -> bool:
        """Whether the plugin finishes confirmations itself (it overrides ``settle``): a provider
        without read-back whose callback confirms the sale (SeQura)."""
        return type(self).settle is not CheckoutPlugin.settle

    def settle_due(self, data: Mapping[str, Any], created_at: datetime, now: datetime) -> bool:
        """Whether the reconciler should call ``settle`` for a pending payment with this data now."""
        return False

    async def settle(self, payment: PaymentAttempt, cart_problem: str = "", now: datetime | None = None) -> Observation:
        """Finish a confirmation the plugin owes its provider, or ask where no callback came."""
        raise NotImplementedError(f"{type(self).__name__}.settle")

    def needs_merchant(self, data: Mapping[str, Any], now: datetime) -> str:
        """Why the merchant must look at this pending payment (the order is flagged), or ""."""
        return ""

    # ------------------------------------------------------------------ after-sales
    # Each is called only when its capability is declared, and must be written then.

    async def capture(self, payment: PaymentAttempt, amount: Money) -> Observation:
        """Take authorized money (Capability.CAPTURE)."""
        raise NotImplementedError(f"{type(self).__name__}.capture")

    async def refund(self, payment: PaymentAttempt, amount: Money, reason: str) -> RefundSeen:
        """Give money back (Capability.REFUND, and PARTIAL_REFUND for less than the rest)."""
        raise NotImplementedError(f"{type(self).__name__}.refund")

    async def cancel(self, payment: PaymentAttempt) -> Observation:
        """Stop a payment no money has moved for yet (Capability.CANCEL)."""
        raise NotImplementedError(f"{type(self).__name__}.cancel")

    # ------------------------------------------------------------------ back office

    # Links in the back office's menu: (path under /admin/<id>, label).
    admin_links: ClassVar[tuple[tuple[str, str], ...]] = ()

    def admin_actions(self, payment: PaymentAttempt) -> Sequence[AdminAction]:
        """Provider-specific back-office buttons for this payment, beyond capture/refund/cancel."""
        return []

    async def admin_action(self, name: str, payment: PaymentAttempt, form: dict[str, str]) -> Observation | str:
        """Run one of ``admin_actions``: return an Observation for the ledger, or a sentence to show."""
        raise NotImplementedError(name)

    def admin_routes(self) -> Sequence[BaseRoute]:
        """Back-office pages of this plugin, mounted behind the login at /admin/<id>/."""
        return []

    # ------------------------------------------------------------------ demo

    # What a sales person can show with this plugin, for the demo guide (/demo).
    demo_flows: ClassVar[tuple[DemoFlow, ...]] = ()

    def sandbox(self) -> ASGIApp | None:
        """The provider played on loopback, mounted at /sandbox/<id>/; None for no sandbox."""
        return None

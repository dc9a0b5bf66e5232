"""The store's tables. Money is stored as integer minor units with its currency beside it."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, TypeDecorator, UniqueConstraint
from sqlalchemy.engine import Connection
from sqlmodel import AutoString, Field, Session, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


def fitted_key(key: str, length: int) -> str:
    """``key`` if it fits in ``length`` characters; else its beginning and the SHA-256 of all of it,
    so that different keys stay different and the same key always gives the same value."""
    if len(key) <= length:
        return key
    digest = hashlib.sha256(key.encode()).hexdigest()
    return f"{key[:length - len(digest) - 1]}#{digest}"


class KeyString(TypeDecorator):
    """A column for identities built from provider data (dedupe keys, refund ids), which have no
    length limit of their own. Values are fitted on the way in, for writes and lookups alike, so
    that a key of any length is stored, stays unique and is found again."""

    impl = AutoString
    cache_ok = True

    def __init__(self, length: int) -> None:
        super().__init__(length=length)

    def process_bind_param(self, value: str | None, dialect) -> str | None:
        return None if value is None else fitted_key(value, self.impl.length)


class Product(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    sku: str = Field(unique=True, index=True, max_length=40)
    name: str = Field(max_length=120)
    description: str = ""
    price_cents: int  # gross, tax included
    currency: str = Field(default="EUR", max_length=3)
    tax_rate: str = Field(default="19", max_length=8)  # percent, a decimal string
    stock: int = 0
    image: str = Field(default="", max_length=80)  # file under static/products/


class Cart(SQLModel, table=True):
    id: str = Field(primary_key=True, max_length=32)
    discount_code: str = Field(default="", max_length=40)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class CartLine(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("cart_id", "product_id"),)
    id: int | None = Field(default=None, primary_key=True)
    cart_id: str = Field(foreign_key="cart.id", index=True, max_length=32)
    product_id: int = Field(foreign_key="product.id")
    quantity: int


class Order(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(unique=True, index=True, max_length=24)  # shown to people, sent to providers
    public_id: str = Field(unique=True, index=True, max_length=32)  # unguessable, in URLs
    cart_id: str | None = Field(default=None, index=True, max_length=32)
    cart_hash: str = Field(max_length=64)
    status: str = Field(default="awaiting_payment", index=True, max_length=24)
    channel: str = Field(default="online", max_length=12)
    currency: str = Field(default="EUR", max_length=3)
    locale: str = Field(default="en", max_length=8)  # the language it was placed in: its e-mails speak it
    total_cents: int
    email: str = Field(max_length=254)
    given_names: str = Field(max_length=80)
    surname: str = Field(max_length=80)
    phone: str = Field(default="", max_length=32)
    date_of_birth: str = Field(default="", max_length=10)
    delivery_address: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    invoice_address: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    stock_held: bool = True  # its products are taken off the shelf until it expires or is cancelled
    needs_attention: bool = Field(default=False, index=True)
    attention_reason: str = ""
    created_at: datetime = Field(default_factory=utcnow, index=True)
    expires_at: datetime | None = None
    paid_at: datetime | None = None


class OrderNumberCounter(SQLModel, table=True):
    """The last order number given in a year: counted up in the database, so that workers
    placing orders at the same moment never pick the same number."""

    year: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    last_number: int


class OrderLine(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="order.id", index=True)
    kind: str = Field(max_length=12)  # product | shipping | discount
    reference: str = Field(max_length=40)
    name: str = Field(max_length=120)
    quantity: int
    unit_price_cents: int
    tax_rate: str = Field(max_length=8)
    product_id: int | None = Field(default=None, foreign_key="product.id")


class Payment(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="order.id", index=True)
    plugin: str = Field(index=True, max_length=40)
    option: str = Field(default="", max_length=40)
    channel: str = Field(default="online", max_length=12)
    status: str = Field(default="created", index=True, max_length=12)
    amount_cents: int
    currency: str = Field(default="EUR", max_length=3)
    token_hash: str = Field(unique=True, index=True, max_length=64)  # sha256 of the URL token
    token_salt: str = Field(max_length=32)  # the token is HMAC(SECRET_KEY, salt): never stored
    reference: str | None = Field(default=None, index=True, max_length=80)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    detail: str = ""  # the last human sentence about it (decline reason...)
    late_payment: bool = False
    created_at: datetime = Field(default_factory=utcnow)
    status_changed_at: datetime = Field(default_factory=utcnow, index=True)
    last_fetched_at: datetime | None = None


class Refund(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("payment_id", "provider_id"),)
    id: int | None = Field(default=None, primary_key=True)
    payment_id: int = Field(foreign_key="payment.id", index=True)
    provider_id: str = Field(sa_type=KeyString(80))  # the provider's, or "external:" + a dedupe key
    amount_cents: int
    currency: str = Field(default="EUR", max_length=3)
    done: bool = True
    reason: str = ""
    created_at: datetime = Field(default_factory=utcnow)


class PaymentEvent(SQLModel, table=True):
    """One thing that happened to a payment: a provider call either way, a transition, a note."""

    __table_args__ = (UniqueConstraint("payment_id", "dedupe_key"),)
    id: int | None = Field(default=None, primary_key=True)
    payment_id: int | None = Field(default=None, foreign_key="payment.id", index=True)
    order_id: int | None = Field(default=None, foreign_key="order.id", index=True)
    kind: str = Field(max_length=16)  # call | callback | transition | ignored | note
    direction: str = Field(default="", max_length=4)  # out (to provider) | in (from provider)
    operation: str = Field(default="", max_length=120)
    http_status: int | None = None
    duration_ms: int | None = None
    body: str = ""  # redacted
    correlation_id: str = Field(default="", index=True, max_length=32)
    dedupe_key: str | None = Field(default=None, sa_type=KeyString(200))  # secupay's name every refund
    created_at: datetime = Field(default_factory=utcnow)


_INSERT_PAYMENT_EVENTS = PaymentEvent.__table__.insert()
_EVENT_OPTIONAL = {name: field for name, field in PaymentEvent.model_fields.items()
                   if name != "id" and not field.is_required()}
_EVENT_DEFAULTS = {name: field.default for name, field in _EVENT_OPTIONAL.items() if field.default_factory is None}
_EVENT_FACTORIES = {name: field.default_factory for name, field in _EVENT_OPTIONAL.items() if field.default_factory}


def payment_event_row(**fields: Any) -> dict[str, Any]:
    """A PaymentEvent as a plain row: the model's defaults, then ``fields`` (an INSERT of many
    rows needs each of them to name every column)."""
    row = {**_EVENT_DEFAULTS, **{name: make() for name, make in _EVENT_FACTORIES.items()}, **fields}
    row["operation"] = row["operation"][:120]
    return row


def insert_payment_events(db: Session | Connection, rows: list[dict[str, Any]]) -> None:
    """Write events with one prebuilt INSERT and no ORM objects: every provider call and every
    callback writes some, in the request's path."""
    db.execute(_INSERT_PAYMENT_EVENTS, rows)


class OutboxMessage(SQLModel, table=True):
    """A message to a customer: kept here, and sent by SMTP when one is configured.

    Every worker sends from this one table (shop/mailer.py): a worker claims a row for a while
    (claimed_until) before it sends it; a refused message waits (next_attempt_at) or is parked."""

    id: int | None = Field(default=None, primary_key=True)
    order_id: int | None = Field(default=None, foreign_key="order.id", index=True)
    recipient: str = Field(max_length=254)
    subject: str = Field(max_length=200)
    body: str  # plain text
    html_body: str = ""  # the same message as HTML; sent as the multipart alternative when set
    created_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = None
    error: str = ""  # the last failure, as the SMTP server or the network put it
    attempts: int = 0  # failed sends since it was queued (or last retried by hand)
    next_attempt_at: datetime | None = None  # backing off after a temporary failure until then
    claimed_by: str = Field(default="", max_length=80)  # the worker sending it (host:pid:pass)
    claimed_until: datetime | None = None  # that worker's lease; once passed, another may send it
    parked_at: datetime | None = None  # refused for good or too often: waits for the merchant


class AdminSession(SQLModel, table=True):
    """A back-office login, kept here so that every worker can end it: logout deletes the row, a
    changed ADMIN_PASSWORD no longer matches its fingerprint, and an idle one expires. The
    browser's cookie holds only the session id, whose SHA-256 is the key."""

    id_hash: str = Field(primary_key=True, max_length=64)
    password_fingerprint: str = Field(max_length=64)  # HMAC of the password it was opened with
    created_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime = Field(default_factory=utcnow, index=True)


class AdminLoginFailure(SQLModel, table=True):
    """One wrong back-office password, by client address: the rate limit counts these across
    every worker (shop/admin_security.py)."""

    id: int | None = Field(default=None, primary_key=True)
    client: str = Field(max_length=64, index=True)
    at: datetime = Field(default_factory=utcnow, index=True)


class InstantPurchase(SQLModel, table=True):
    """An order placed by SEQR Instant Checkout's createPurchase: by which purchase code and from
    which address, so that one code or one caller cannot hold a product's stock with unpaid orders
    (plugins/seqr/routes.py)."""

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="order.id", index=True)
    token_hash: str = Field(max_length=64, index=True)
    client: str = Field(max_length=64, index=True)
    created_at: datetime = Field(default_factory=utcnow, index=True)

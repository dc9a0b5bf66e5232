"""The one writer of payment state.

Every observation of a provider (a callback's read-back, a return URL, the reconciler, a
merchant's action) goes through ``Ledger.apply``: one transaction that locks the payment,
re-reads it, records the observation under a unique (payment, dedupe key), moves the state
along a legal path, keeps the order in step, commits, and only then publishes on the bus.
The transactions run in a database thread; the publishing stays on the event loop."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, delete, func
from sqlmodel import Session, select

from shop import stock
from shop.cart import cart_hash_of
from shop.confirmation import confirmation_mail
from shop.db import Database, locked_session
from shop.models import (
    CartLine,
    Order,
    OutboxMessage,
    Payment,
    PaymentEvent,
    Refund,
    insert_payment_events,
    payment_event_row,
    utcnow,
)
from shop.money import Money
from shop.payments.contract import Observation, PaymentStatus, RefundSeen
from shop.payments.steps import next_step_to_dict

log = logging.getLogger(__name__)
S = PaymentStatus

# Legal moves, as DESIGN.md gives them. paid -> refunded happens only through refunds.
MOVES: dict[PaymentStatus, frozenset[PaymentStatus]] = {
    S.CREATED: frozenset({S.PENDING, S.FAILED, S.CANCELLED}),
    S.PENDING: frozenset({S.AUTHORIZED, S.PAID, S.FAILED, S.CANCELLED, S.EXPIRED}),
    S.AUTHORIZED: frozenset({S.PAID, S.CANCELLED, S.EXPIRED, S.FAILED}),
    S.PAID: frozenset({S.REFUNDED}),
    S.FAILED: frozenset(),
    S.CANCELLED: frozenset(),
    S.EXPIRED: frozenset(),
    S.REFUNDED: frozenset(),
}
ENDED_WITHOUT_MONEY = frozenset({S.FAILED, S.CANCELLED, S.EXPIRED})
MONEY_HELD = frozenset({S.AUTHORIZED, S.PAID})
OPEN = frozenset({S.CREATED, S.PENDING, S.AUTHORIZED})


def path(current: PaymentStatus, target: PaymentStatus) -> list[PaymentStatus] | None:
    """The states to pass through from current to target (target last), or None if illegal.

    A payment seen paid while still ``created`` passes through ``pending``: each hop is
    legal and recorded, and there is still exactly one move into ``paid``."""
    if target == current:
        return []
    if target in MOVES[current]:
        return [target]
    if target == S.REFUNDED:
        return None
    for step in sorted(MOVES[current]):
        if step in OPEN and target in MOVES[step]:
            return [step, target]
    return None


# The ledger's queries, built once: building a statement costs SQLAlchemy more than SQLite
# takes to run it, and these run on every callback.
_PAYMENT_AND_ORDER = (select(Payment, Order).join(Order, Order.id == Payment.order_id)
                      .where(Payment.id == bindparam("payment_id")))
_PAYMENT_AND_ORDER_FOR_UPDATE = _PAYMENT_AND_ORDER.with_for_update()  # both rows
_SEEN_KEY = select(PaymentEvent.id).where(PaymentEvent.payment_id == bindparam("payment_id"),
                                          PaymentEvent.dedupe_key == bindparam("key"))
_OTHER_PAYMENT_HOLDING_MONEY = select(Payment.id).where(
    Payment.order_id == bindparam("order_id"), Payment.id != bindparam("payment_id"),
    Payment.status.in_([S.PAID, S.AUTHORIZED]))
_CONFIRMATION_QUEUED = select(OutboxMessage.id).where(OutboxMessage.order_id == bindparam("order_id"))
_EMPTY_CART = delete(CartLine).where(CartLine.cart_id == bindparam("cart_id"))
_REFUNDED = select(func.coalesce(func.sum(Refund.amount_cents), 0)).where(
    Refund.payment_id == bindparam("payment_id"), Refund.done)


@dataclass(frozen=True)
class Applied:
    status: PaymentStatus
    changed: bool
    duplicate: bool = False
    late: bool = False
    ignored_reason: str = ""


class Ledger:
    def __init__(self, db: Database, bus, *, on_paid=None, amount_unreported_by: Iterable[str] = (),
                 method_name=None) -> None:
        self.db = db
        # Plugins whose provider never says how much moved (their reports_amount is False).
        self._amount_unreported_by = frozenset(amount_unreported_by)
        self.engine = db.engine
        self.bus = bus
        self._postgres = self.engine.dialect.name == "postgresql"
        self._on_paid = on_paid  # called with (session, order) inside the transaction
        # The payment method as the shopper chose it ("SeQura", "secupay"), for the confirmation.
        self._method_name = method_name or (lambda payment: payment.plugin)

    # ------------------------------------------------------------------ locking

    def _lock(self, session: Session, payment_id: int) -> tuple[Payment, Order]:
        query = _PAYMENT_AND_ORDER_FOR_UPDATE if self._postgres else _PAYMENT_AND_ORDER
        payment, order = session.exec(query, params={"payment_id": payment_id}).one()
        return payment, order

    # ------------------------------------------------------------------ observations

    async def apply(self, payment_id: int, observation: Observation, *, correlation_id: str = "",
                    source: str = "") -> Applied:
        result, payment, order = await self.db.run(self._apply, payment_id, observation, correlation_id, source)
        if result.changed:
            await self.publish(order, payment)
        return result

    def _apply(self, payment_id: int, observation: Observation, correlation_id: str,
               source: str) -> tuple[Applied, Payment, Order]:
        with locked_session(self.engine) as session, session.no_autoflush:
            # One flush at commit rather than one before every read; the reads that must see
            # this transaction's writes (refund rows) flush explicitly.
            payment, order = self._lock(session, payment_id)
            result = self._apply_locked(session, payment, order, observation, correlation_id, source)
            _write_events(session)
            session.commit()
        return result, payment, order

    def _apply_locked(self, session: Session, payment: Payment, order: Order, obs: Observation,
                      correlation_id: str, source: str) -> Applied:
        current = S(payment.status)
        key = obs.dedupe_key

        def note(kind: str, operation: str, body: str = "", dedupe: str | None = None) -> None:
            _event(session, payment, kind, operation, body, correlation_id=correlation_id, dedupe_key=dedupe)

        # Whatever it says, the provider was just read: the reconciler waits its interval again
        # before the next read, also when this read only repeats what the shop knows.
        payment.last_fetched_at = utcnow()
        session.add(payment)
        if key and session.exec(_SEEN_KEY, params={"payment_id": payment.id, "key": key}).first():
            note("ignored", f"duplicate: {obs.raw_status}", f"seen before as {key} ({source})")
            return Applied(current, changed=False, duplicate=True)

        if obs.reference and not payment.reference:
            payment.reference = obs.reference
        if obs.data:
            payment.data = {**payment.data, **obs.data}
        if obs.next_step is not None:
            payment.data = {**payment.data, "_next": next_step_to_dict(obs.next_step)}
        if obs.detail:
            payment.detail = obs.detail
        new_refunds = [self._record_refund(session, payment, refund, "reported by the provider", correlation_id)
                       for refund in obs.refunds]

        target = obs.status
        if target in MONEY_HELD and not self._amount_matches(payment, obs):
            seen = f"{obs.amount.display()}" if obs.amount else "no amount"
            reason = f"amount mismatch: expected {payment.amount_cents} {payment.currency}, provider says {seen}"
            self._flag(order, reason)
            note("ignored", f"{obs.raw_status}: amount mismatch", reason, key or None)
            session.add(payment)
            session.add(order)
            return Applied(current, changed=False, ignored_reason=reason)
        if target in MONEY_HELD and obs.amount is None and target != current:
            note("observed", f"{obs.raw_status}: amount not reported",
                 f"{payment.plugin} does not report amounts; it was sent {payment.amount_cents} {payment.currency}")

        if target == S.REFUNDED and current == S.PAID:
            # Refunded at the provider: it happens through refund rows, never as a plain move.
            booked = self._book_unitemised_refund(session, payment, obs, correlation_id)
            if key:
                note("observed", obs.raw_status, source, key)
            settled = self._settle_refunds(session, payment, order)
            session.add(payment)
            session.add(order)
            return Applied(S(payment.status), changed=settled or booked or any(new_refunds))

        late = False
        if target in MONEY_HELD and current in ENDED_WITHOUT_MONEY:
            # Money after expiry or cancellation is never dropped: keep it, flag it.
            steps = [S.PAID]
            late = True
            payment.late_payment = True
            self._flag(order, f"late payment: money arrived after the payment was {current}")
        else:
            steps = path(current, target)
        if not steps:
            word = "repeated" if target == current else "backward or illegal"
            note("ignored", f"{word}: {current} -> {target} ({obs.raw_status})", source, key or None)
            settled = self._settle_refunds(session, payment, order)
            session.add(payment)
            session.add(order)
            return Applied(S(payment.status), changed=settled or any(new_refunds), ignored_reason=word)

        for step in steps:
            note("transition", f"{payment.status} -> {step}", f"{obs.raw_status} ({source})")
            payment.status = step
        # A sentence describes the state it came with ("SeQura is reviewing your order"): a new
        # state keeps only what its own observation says.
        payment.detail = obs.detail
        if key:
            note("observed", obs.raw_status, source, key)
        payment.status_changed_at = utcnow()
        self._settle_refunds(session, payment, order)
        self._update_order(session, order, payment)
        session.add(payment)
        session.add(order)
        return Applied(S(payment.status), changed=True, late=late)

    def _amount_matches(self, payment: Payment, obs: Observation) -> bool:
        """For money held (authorized, paid): the amount the provider reported is the payment's.
        An unknown amount passes only for a provider that never reports one (SeQura checks the
        amount the shop sends it instead); from any other, money held without a word on how much
        is not trusted. Other statuses move no money and are not checked."""
        if obs.amount is None:
            return payment.plugin in self._amount_unreported_by
        return obs.amount.minor == payment.amount_cents and obs.amount.currency == payment.currency

    # ------------------------------------------------------------------ refunds

    async def record_refund(self, payment_id: int, refund: RefundSeen, reason: str = "",
                            correlation_id: str = "") -> Applied:
        applied, payment, order = await self.db.run(self._record_refund_locked, payment_id, refund, reason,
                                                    correlation_id)
        await self.publish(order, payment)
        return applied

    def _record_refund_locked(self, payment_id: int, refund: RefundSeen, reason: str,
                              correlation_id: str) -> tuple[Applied, Payment, Order]:
        with locked_session(self.engine) as session:
            payment, order = self._lock(session, payment_id)
            new = self._record_refund(session, payment, refund, reason, correlation_id)
            changed = self._settle_refunds(session, payment, order) or new
            session.add(payment)
            session.add(order)
            _write_events(session)
            session.commit()
        return Applied(S(payment.status), changed=changed), payment, order

    def _record_refund(self, session: Session, payment: Payment, refund: RefundSeen, reason: str,
                       correlation_id: str) -> bool:
        """Keep a refund once per provider id; True if it is new or newly done."""
        row = session.exec(select(Refund).where(Refund.payment_id == payment.id,
                                                Refund.provider_id == refund.provider_id)).first()
        if row is None:
            session.add(Refund(payment_id=payment.id, provider_id=refund.provider_id,
                               amount_cents=refund.amount.minor, currency=refund.amount.currency,
                               done=refund.done, reason=reason))
            _event(session, payment, "refund", f"refund {refund.provider_id}: {refund.amount.display()}", reason,
                   correlation_id=correlation_id)
            session.flush()
            return True
        if refund.done and not row.done:
            row.done = True
            session.add(row)
            session.flush()
            return True
        return False

    def _book_unitemised_refund(self, session: Session, payment: Payment, obs: Observation,
                                correlation_id: str) -> bool:
        """The provider says "refunded" without itemising: book what the shop has not booked yet."""
        remaining = payment.amount_cents - refunded_cents(session, payment.id)
        if remaining <= 0:
            return False
        return self._record_refund(session, payment, RefundSeen(f"external:{obs.dedupe_key}",
                                                                Money(remaining, payment.currency)),
                                   "refunded outside the shop", correlation_id)

    def _settle_refunds(self, session: Session, payment: Payment, order: Order) -> bool:
        """paid -> refunded once done refunds reach the amount. Partial refunds keep it paid."""
        if payment.status != S.PAID or refunded_cents(session, payment.id) < payment.amount_cents:
            return False
        _event(session, payment, "transition", "paid -> refunded", "refunds reached the amount")
        payment.status = S.REFUNDED
        payment.status_changed_at = utcnow()
        self._update_order(session, order, payment)
        return True

    # ------------------------------------------------------------------ the order in step

    def _update_order(self, session: Session, order: Order, payment: Payment) -> None:
        status = S(payment.status)
        if status in MONEY_HELD:
            others_paid = session.exec(_OTHER_PAYMENT_HOLDING_MONEY,
                                       params={"order_id": order.id, "payment_id": payment.id}).first()
            if others_paid:
                self._flag(order, "double payment: more than one payment holds money for this order")
            for oversold in stock.take(session, order):  # money after expiry: the goods again
                self._flag(order, f"oversold: {oversold}")
            order.status = "paid" if status == S.PAID else "authorized"
            # Authorized is a done sale for the shopper (invoice, card captured later): the cart
            # empties and the confirmation goes out on the first move that holds money, once.
            if not session.exec(_CONFIRMATION_QUEUED, params={"order_id": order.id}).first():
                self._empty_cart(session, order)
                self._queue_confirmation(session, order, payment)
            if status == S.PAID and order.paid_at is None:
                order.paid_at = utcnow()
                if self._on_paid:
                    self._on_paid(session, order)
        elif status in ENDED_WITHOUT_MONEY and order.status == "authorized":
            # The money held for a done sale was let go (cancelled in the back office, the
            # authorization expired): unless another payment holds money, the sale is off and
            # its goods go back on the shelf (once: stock.release claims the order's flag).
            if not session.exec(_OTHER_PAYMENT_HOLDING_MONEY,
                                params={"order_id": order.id, "payment_id": payment.id}).first():
                order.status = "cancelled"
                stock.release(session, order)
        elif status == S.REFUNDED:
            all_refunded = not session.exec(_OTHER_PAYMENT_HOLDING_MONEY,
                                            params={"order_id": order.id, "payment_id": payment.id}).first()
            if all_refunded:
                order.status = "refunded"

    @staticmethod
    def _flag(order: Order, reason: str) -> None:
        order.needs_attention = True
        order.attention_reason = f"{order.attention_reason}; {reason}" if order.attention_reason else reason

    @staticmethod
    def _empty_cart(session: Session, order: Order) -> None:
        # Only if the shopper has not started another basket in it since (a cart that is gone
        # hashes as empty, which no order's cart did).
        if order.cart_id and cart_hash_of(session, order.cart_id) == order.cart_hash:
            session.execute(_EMPTY_CART, {"cart_id": order.cart_id}, execution_options={"synchronize_session": False})

    def _queue_confirmation(self, session: Session, order: Order, payment: Payment) -> None:
        session.add(confirmation_mail(session, order, payment, self._method_name(payment)))

    # ------------------------------------------------------------------ expiry

    async def expire_order(self, order_id: int, reason: str, now: datetime | None = None) -> bool:
        """Expire an unpaid order: its open payments expire and its stock goes back on the shelf."""
        expired = await self.db.run(self._expire_locked, order_id, reason, now)
        if expired is None:
            return False
        order, payments = expired
        for payment in payments:
            await self.publish(order, payment)
        return True

    def _expire_locked(self, order_id: int, reason: str, now: datetime | None) -> tuple[Order, list[Payment]] | None:
        with locked_session(self.engine) as session:
            query = select(Order).where(Order.id == order_id)
            if self._postgres:
                query = query.with_for_update()
            order = session.exec(query).one()
            if order.status != "awaiting_payment":
                return None
            payments = session.exec(select(Payment).where(Payment.order_id == order.id)).all()
            for payment in payments:
                if S(payment.status) in OPEN - {S.AUTHORIZED}:
                    _event(session, payment, "transition", f"{payment.status} -> expired", reason)
                    payment.status = S.EXPIRED
                    payment.status_changed_at = now or utcnow()
                    session.add(payment)
            order.status = "expired"
            stock.release(session, order)
            _write_events(session)
            session.commit()
        return order, payments

    # ------------------------------------------------------------------ the bus

    async def publish(self, order: Order, payment: Payment) -> None:
        try:
            await self.bus.publish(order.public_id, {"order": order.public_id, "payment": payment.id,
                                                     "status": payment.status, "order_status": order.status})
        except Exception:  # the state is committed; a browser still sees it on its next poll
            log.exception("status bus: publishing order %s failed", order.number)


# --------------------------------------------------------------------------- the event log

def _event(session: Session, payment: Payment, kind: str, operation: str, body: str = "", *,
           correlation_id: str = "", dedupe_key: str | None = None) -> None:
    """Keep an event for this transaction; ``_write_events`` inserts them all before commit."""
    session.info.setdefault("payment_events", []).append(payment_event_row(
        payment_id=payment.id, order_id=payment.order_id, kind=kind, operation=operation, body=body,
        correlation_id=correlation_id, dedupe_key=dedupe_key))


def _write_events(session: Session) -> None:
    # One INSERT for the transaction's events: they are never read back in it, and building
    # ORM objects for them cost more than the rest of a payment's move to paid.
    events = session.info.pop("payment_events", [])
    if events:
        insert_payment_events(session, events)


def refunded_cents(session: Session, payment_id: int) -> int:
    return session.exec(_REFUNDED, params={"payment_id": payment_id}).one()

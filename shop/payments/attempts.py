"""Payment attempts: their tokens, how a plugin sees them, and the calls that start or
change them (start, capture, refund, cancel). State still changes only through the ledger."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from decimal import Decimal

from sqlalchemy import bindparam, case, update
from sqlmodel import Session, select

from shop.i18n import gettext as _
from shop.i18n import use_locale
from shop.models import Order, OrderLine, Payment, PaymentEvent, utcnow
from shop.money import Money
from shop.payments import recorder
from shop.payments.contract import (
    Address,
    Capability,
    Channel,
    Customer,
    LineKind,
    Observation,
    OrderSnapshot,
    PaymentAttempt,
    PaymentStatus,
    PaymentUrls,
    ProviderError,
    ProviderUnavailable,
    ReadBackUnavailable,
    RefundSeen,
    StartContext,
    Started,
)
from shop.payments.contract import (
    OrderLine as SnapshotLine,
)
from shop.payments.ledger import OPEN, refunded_cents
from shop.payments.steps import next_step_to_dict

log = logging.getLogger(__name__)


class ActionRefused(Exception):
    """A merchant's action the shop refuses before calling the provider (over-refund...)."""


# --------------------------------------------------------------------------- tokens


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_for(secret_key: str, salt: str) -> str:
    return hmac.new(secret_key.encode(), f"payment-token:{salt}".encode(), hashlib.sha256).hexdigest()[:43]


# Built once: every callback and return URL runs these.
_BY_TOKEN_HASH = select(Payment).where(Payment.token_hash == bindparam("token_hash"))
_ORDER_LINES = select(OrderLine).where(OrderLine.order_id == bindparam("order_id")).order_by(OrderLine.id)


def find_by_token(session: Session, plugin_id: str, token: str) -> Payment | None:
    if not token or len(token) > 100:
        return None
    payment = session.exec(_BY_TOKEN_HASH, params={"token_hash": hash_token(token)}).first()
    return payment if payment is not None and payment.plugin == plugin_id else None


# --------------------------------------------------------------------------- snapshots


def snapshot_of(session: Session, order: Order) -> OrderSnapshot:
    lines = session.exec(_ORDER_LINES, params={"order_id": order.id}).all()
    return OrderSnapshot(
        number=order.number,
        lines=tuple(SnapshotLine(LineKind(line.kind), line.reference, line.name, line.quantity,
                                 Money(line.unit_price_cents, order.currency), Decimal(line.tax_rate))
                    for line in lines),
        customer=Customer(email=order.email, given_names=order.given_names, surname=order.surname,
                          phone=order.phone, language=order.locale, date_of_birth=order.date_of_birth),
        delivery_address=Address(**order.delivery_address),
        invoice_address=Address(**order.invoice_address),
        cart_hash=order.cart_hash,
        created_at=order.created_at,
    )


class Attempts:
    """Starts and changes payment attempts through plugins; the ledger records what follows."""

    def __init__(self, app_state) -> None:
        self.state = app_state

    @property
    def _settings(self):
        return self.state.settings

    def urls_for(self, plugin_id: str, token: str) -> PaymentUrls:
        base = f"{self._settings.callback_base_url}/pay/{plugin_id}"
        return PaymentUrls(callback=f"{base}/cb/{token}", return_base=f"{base}/return/{token}")

    def attempt_of(self, session: Session, payment: Payment, order: Order | None = None) -> PaymentAttempt:
        order = order or session.get(Order, payment.order_id)
        token = token_for(self._settings.secret_key, payment.token_salt)
        return PaymentAttempt(
            id=payment.id, order=snapshot_of(session, order), amount=Money(payment.amount_cents, payment.currency),
            option=payment.option, status=PaymentStatus(payment.status), urls=self.urls_for(payment.plugin, token),
            reference=payment.reference, data={k: v for k, v in payment.data.items() if not k.startswith("_")},
            refunded=Money(refunded_cents(session, payment.id), payment.currency), channel=Channel(payment.channel),
            created_at=payment.created_at)

    def load(self, payment_id: int) -> tuple[Payment, PaymentAttempt]:
        with self.state.db() as session:
            payment = session.get(Payment, payment_id)
            return payment, self.attempt_of(session, payment)

    # ------------------------------------------------------------------ start

    async def start(self, order_id: int, plugin_id: str, option: str, ctx: StartContext,
                    channel: Channel = Channel.ONLINE) -> tuple[Payment, Started | None, str]:
        """A new attempt on an order. Returns the payment, what the plugin says comes next (None
        when it failed) and, on failure, a sentence for the shopper."""
        plugin = self.state.plugins[plugin_id]
        payment, attempt = await self.state.db.write(self._new_payment, order_id, plugin_id, option, channel)
        with recorder.about(payment.id, order_id) as call:
            try:
                started = await plugin.start(attempt, ctx)
            except ProviderError as exc:
                unavailable = isinstance(exc, ProviderUnavailable)
                message = (_("%(provider)s cannot be reached right now. Please try again in a moment.")
                           % {"provider": plugin.name} if unavailable else exc.message)
                await self.state.ledger.apply(payment.id, Observation(
                    PaymentStatus.FAILED, "start failed", f"start-failed:{payment.id}", detail=message,
                    data={"_errors": exc.fields}), correlation_id=call.correlation_id, source="start")
                return payment, None, message
            await self.state.db.write(self._keep_started, payment.id, started)
            observation = started.observation or Observation(PaymentStatus.PENDING, "started", f"started:{payment.id}")
            await self.state.ledger.apply(payment.id, observation, correlation_id=call.correlation_id, source="start")
        return payment, started, ""

    def _new_payment(self, order_id: int, plugin_id: str, option: str,
                     channel: Channel) -> tuple[Payment, PaymentAttempt]:
        salt = secrets.token_hex(16)
        token = token_for(self._settings.secret_key, salt)
        with self.state.db() as session:
            order = session.get(Order, order_id)
            payment = Payment(order_id=order.id, plugin=plugin_id, option=option, channel=channel,
                              amount_cents=order.total_cents, currency=order.currency,
                              token_hash=hash_token(token), token_salt=salt)
            session.add(payment)
            session.commit()
            return payment, self.attempt_of(session, payment, order)

    def _keep_started(self, payment_id: int, started: Started) -> None:
        with self.state.db() as session:
            row = session.get(Payment, payment_id)
            row.reference = started.reference or row.reference
            row.data = {**row.data, **dict(started.data), "_next": next_step_to_dict(started.next_step)}
            session.add(row)
            session.commit()

    # ------------------------------------------------------------------ merchant actions

    def _plugin_with(self, payment: Payment, capability: Capability):
        plugin = self.state.plugins[payment.plugin]
        if capability not in plugin.capabilities:
            raise ActionRefused(_("%(provider)s does not support %(action)s.")
                                % {"provider": plugin.name, "action": capability.replace("_", " ")})
        return plugin

    async def refund(self, payment_id: int, amount: Money, reason: str = "") -> RefundSeen:
        payment, attempt = await self.state.db.run(self.load, payment_id)
        plugin = self._plugin_with(payment, Capability.REFUND)
        if payment.status != PaymentStatus.PAID:
            raise ActionRefused(_("Only a paid payment can be refunded; this one is %(status)s.")
                                % {"status": payment.status})
        if amount.currency != payment.currency or amount.minor <= 0:
            raise ActionRefused(_("Enter a positive amount in the payment's currency."))
        left = payment.amount_cents - attempt.refunded.minor
        if amount.minor > left:
            raise ActionRefused(_("At most %(amount)s is left to refund.")
                                % {"amount": Money(left, payment.currency).display()})
        if amount.minor < left and Capability.PARTIAL_REFUND not in plugin.capabilities:
            raise ActionRefused(_("%(provider)s refunds only the full remaining amount.") % {"provider": plugin.name})
        with recorder.about(payment.id, payment.order_id) as call:
            refund = await plugin.refund(attempt, amount, reason)
            await self.state.ledger.record_refund(payment.id, refund, reason or "refund by the merchant",
                                                  call.correlation_id)
        return refund

    async def cancel(self, payment_id: int) -> Observation:
        payment, attempt = await self.state.db.run(self.load, payment_id)
        plugin = self._plugin_with(payment, Capability.CANCEL)
        if PaymentStatus(payment.status) not in OPEN:
            raise ActionRefused(_("Only an open payment can be cancelled; this one is %(status)s.")
                                % {"status": payment.status})
        with recorder.about(payment.id, payment.order_id) as call:
            observation = await plugin.cancel(attempt)
            await self.state.ledger.apply(payment.id, observation, correlation_id=call.correlation_id,
                                          source="cancel by the merchant")
        return observation

    async def capture(self, payment_id: int, amount: Money | None = None) -> Observation:
        payment, attempt = await self.state.db.run(self.load, payment_id)
        plugin = self._plugin_with(payment, Capability.CAPTURE)
        if payment.status != PaymentStatus.AUTHORIZED:
            raise ActionRefused(_("Only an authorized payment can be captured; this one is %(status)s.")
                                % {"status": payment.status})
        with recorder.about(payment.id, payment.order_id) as call:
            observation = await plugin.capture(attempt, amount or attempt.amount)
            await self.state.ledger.apply(payment.id, observation, correlation_id=call.correlation_id,
                                          source="capture by the merchant")
        return observation

    async def refresh(self, payment_id: int, source: str) -> bool:
        """Read a payment back from its provider and apply what it says. False if it could not."""
        payment, attempt = await self.state.db.run(self.load, payment_id)
        plugin = self.state.plugins[payment.plugin]
        if not plugin.has_read_back:
            return False
        with recorder.about(payment.id, payment.order_id) as call:
            try:
                with use_locale(attempt.order.customer.language):  # its words reach the shopper
                    observation = await plugin.fetch(attempt)
            except ProviderError as exc:
                await self.state.db.write(self.note, payment, f"{source}: read-back failed", exc.message,
                                          call.correlation_id)
                await self.state.db.write(self._mark_fetched, payment.id)
                return False
            except ReadBackUnavailable as exc:
                await self.state.db.write(self.note, payment, f"{source}: no read-back", str(exc), call.correlation_id)
                return False
            except Exception as exc:  # e.g. a status word the plugin does not know: never raise through
                await self.state.db.write(self.not_understood, payment, plugin, exc, source, call.correlation_id)
                await self.state.db.write(self._mark_fetched, payment.id)
                return False
            await self.state.ledger.apply(payment.id, observation, correlation_id=call.correlation_id, source=source)
        return True

    def _mark_fetched(self, payment_id: int) -> None:
        with self.state.db() as session:
            row = session.get(Payment, payment_id)
            row.last_fetched_at = utcnow()
            session.add(row)
            session.commit()

    def not_understood(self, payment: Payment, plugin, exc: Exception, source: str, correlation_id: str = "") -> None:
        """The provider answered, but not in words the plugin knows: keep it on the payment's
        timeline and flag the order for the merchant, once per distinct answer."""
        log.error("%s: payment %s: %s could not read the provider's answer: %r", plugin.id, payment.id, source, exc)
        reason = f"{plugin.name} answered something the shop does not understand: {str(exc)[:200] or type(exc).__name__}"
        with self.state.db() as session:
            if flag_once(session, payment.order_id, reason):
                session.add(PaymentEvent(payment_id=payment.id, order_id=payment.order_id, kind="note",
                                         operation=f"{source}: answer not understood"[:120],
                                         body=f"{type(exc).__name__}: {exc}", correlation_id=correlation_id))
            session.commit()

    def note(self, payment: Payment, operation: str, body: str = "", correlation_id: str = "") -> None:
        with self.state.db() as session:
            session.add(PaymentEvent(payment_id=payment.id, order_id=payment.order_id, kind="note",
                                     operation=operation[:120], body=body, correlation_id=correlation_id))
            session.commit()


def flag_once(session, order_id: int, reason: str) -> bool:
    """Flag an order for the merchant with ``reason``; False when it already carries it. One
    statement, so that it cannot lose a reason the ledger adds to the same order at the same moment."""
    reasons = Order.attention_reason
    flag = (update(Order).where(Order.id == order_id, ~reasons.contains(reason, autoescape=True))
            .values(needs_attention=True, attention_reason=case((reasons == "", reason), else_=reasons + "; " + reason)))
    return session.execute(flag).rowcount == 1

"""A background task that asks providers about payments left pending, cancels attempts that
ran out of time, and expires unpaid orders (their stock goes back on the shelf)."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from sqlalchemy import case, update
from sqlmodel import select

from shop.checkout import order_problem
from shop.mailer import send_outbox
from shop.models import Order, Payment, utcnow
from shop.payments import recorder
from shop.payments.contract import Capability, PaymentStatus, ProviderError

log = logging.getLogger(__name__)


class Reconciler:
    def __init__(self, app_state) -> None:
        self.state = app_state
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="reconciler")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass

    def _read_back_after(self, plugin) -> float:
        """How long a pending payment of this plugin may go unread. A plugin whose provider
        reverses payments the shop does not read in time (SEQR: 20 s) sets it shorter."""
        return getattr(plugin.settings, "read_back_after_seconds", 0) or self.state.settings.reconcile_after_seconds

    def _interval(self) -> float:
        shortest = min((self._read_back_after(p) for p in self.state.plugins), default=3600)
        return max(1.0, min(self.state.settings.reconcile_every_seconds, shortest / 2))

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self._interval())
            try:
                await self.run_once()
                await send_outbox(self.state)
            except Exception:  # keep going: one bad provider answer must not stop reconciliation
                log.exception("reconciler: a pass failed")

    async def run_once(self) -> dict[str, int]:
        """One pass; returns how many payments it read, cancelled and orders it expired."""
        now = utcnow()
        counts = {"read": 0, "timed_out": 0, "expired": 0, "settled": 0}
        with self.state.db() as session:
            open_payments = session.exec(select(Payment).where(
                Payment.status.in_([PaymentStatus.PENDING, PaymentStatus.AUTHORIZED]))).all()
            due_orders = session.exec(select(Order).where(
                Order.status == "awaiting_payment", Order.expires_at.is_not(None), Order.expires_at < now)).all()

        for payment in open_payments:
            plugin = self.state.plugins.get(payment.plugin)
            if plugin is None:
                continue
            if settles_confirmations(plugin):
                counts["settled"] += await self._settle(payment, plugin, now)
                continue
            timeout = getattr(plugin.settings, "payment_timeout_seconds", 0)
            if (payment.status == PaymentStatus.PENDING and timeout
                    and payment.created_at < now - timedelta(seconds=timeout)):
                # Read first: the money may have arrived a moment ago.
                if plugin.has_read_back:
                    await self.state.attempts.refresh(payment.id, source="reconciler: before time-out")
                if self._still(payment.id, PaymentStatus.PENDING) and Capability.CANCEL in plugin.capabilities:
                    try:
                        await self.state.attempts.cancel(payment.id)
                        counts["timed_out"] += 1
                    except ProviderError as exc:
                        log.warning("reconciler: cancelling payment %s failed: %s", payment.id, exc.message)
                continue
            last_look = payment.last_fetched_at or payment.status_changed_at
            stale = now - timedelta(seconds=self._read_back_after(plugin))
            if plugin.has_read_back and last_look < stale:
                await self.state.attempts.refresh(payment.id, source="reconciler")
                counts["read"] += 1

        for order in due_orders:
            if await self.state.ledger.expire_order(order.id, "unpaid when its time ran out"):
                counts["expired"] += 1
        return counts

    async def _settle(self, payment: Payment, plugin, now) -> int:
        """Let the plugin finish a confirmation it owes its provider, or ask where no callback
        came; the ledger applies what it saw, and the order is flagged when the merchant must
        look. 1 if the plugin was asked."""
        if not plugin.settle_due(payment.data, payment.created_at, now):
            return 0
        fresh, attempt = self.state.attempts.load(payment.id)
        if PaymentStatus(fresh.status) != PaymentStatus.PENDING:
            return 0
        with self.state.db() as session:
            problem = order_problem(session, session.get(Order, fresh.order_id))
        with recorder.about(fresh.id, fresh.order_id) as call:
            try:
                observation = await plugin.settle(attempt, problem, now)
            except ProviderError as exc:
                log.warning("reconciler: settling payment %s failed: %s", fresh.id, exc.message)
                return 1
            await self.state.ledger.apply(fresh.id, observation, correlation_id=call.correlation_id,
                                          source="reconciler: settle")
        with self.state.db() as session:
            reason = plugin.needs_merchant(session.get(Payment, fresh.id).data, now)
        if reason:
            self._flag_once(fresh.order_id, reason)
        return 1

    def _flag_once(self, order_id: int, reason: str) -> None:
        """The merchant must look at this order. One UPDATE, so that a ledger transaction writing
        the same order's flag meanwhile is never overwritten; nothing if the reason is there."""
        reasons = Order.attention_reason
        with self.state.db() as session:
            session.execute(update(Order).where(Order.id == order_id, ~reasons.contains(reason, autoescape=True))
                            .values(needs_attention=True,
                                    attention_reason=case((reasons == "", reason), else_=reasons + "; " + reason)))
            session.commit()

    def _still(self, payment_id: int, status: PaymentStatus) -> bool:
        with self.state.db() as session:
            return session.get(Payment, payment_id).status == status


def settles_confirmations(plugin) -> bool:
    """Plugins that confirm the sale at their provider themselves and have no read-back (SeQura):
    the reconciler finishes what a crash, a failed call or a lost callback left open."""
    return callable(getattr(plugin, "settle", None))

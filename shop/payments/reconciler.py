"""A background task that asks providers about payments left pending, settles payments left
``created`` by a crash, cancels attempts that ran out of time, and expires unpaid orders (their
stock goes back on the shelf).

No single payment or order can stop a pass: each is handled in its own try, and a failure is
logged with its id and counted while the pass goes on with the next."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from sqlmodel import select

from shop.checkout import order_problem
from shop.mailer import send_outbox
from shop.models import Order, Payment, utcnow
from shop.payments import recorder
from shop.payments.attempts import flag_once
from shop.payments.contract import Capability, Observation, PaymentStatus, ProviderError, ProviderUnavailable

log = logging.getLogger(__name__)


class Reconciler:
    def __init__(self, app_state) -> None:
        self.state = app_state
        self._task: asyncio.Task | None = None
        self.passes = 0  # passes run since start
        self.errors = 0  # payments and orders a pass could not handle, since start

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
        return plugin.read_back_after_seconds or self.state.settings.reconcile_after_seconds

    def _interval(self) -> float:
        shortest = min((self._read_back_after(p) for p in self.state.plugins), default=3600)
        return max(1.0, min(self.state.settings.reconcile_every_seconds, shortest / 2))

    async def _loop(self) -> None:
        # The first pass at once: after an outage, payments whose callbacks were lost meanwhile
        # (SEQR reverses what it does not see read within 20 s) cannot wait a whole interval.
        while True:
            try:
                await self.run_once()
                await send_outbox(self.state)
            except Exception:  # keep going: the next pass may find the database back
                log.exception("reconciler: a pass failed")
            await asyncio.sleep(self._interval())

    async def run_once(self) -> dict[str, int]:
        """One pass; returns how many payments it read, settled from ``created`` and cancelled,
        how many orders it expired, and how many payments or orders it could not handle."""
        now = utcnow()
        counts = {"read": 0, "created_settled": 0, "timed_out": 0, "expired": 0, "settled": 0, "errors": 0}
        created_before = now - timedelta(seconds=self.state.settings.reconcile_created_after_seconds)
        left_created, open_payments, due_orders = await self.state.db.run(self._due_work, now, created_before)

        for payment in left_created:
            await self._each(counts, f"payment {payment.id}", self._settle_created(payment, now, counts))
        for payment in open_payments:
            await self._each(counts, f"payment {payment.id}", self._reconcile(payment, now, counts))
        # After the reads: an order whose payment was just read paid is no longer awaiting
        # payment, and expire_order re-checks that under its lock.
        for order in due_orders:
            await self._each(counts, f"order {order.number}", self._expire(order, counts))

        self.passes += 1
        self.errors += counts["errors"]
        if counts["errors"]:
            log.warning("reconciler: pass %d could not handle %d payments or orders (%d since start): %s",
                        self.passes, counts["errors"], self.errors, counts)
        return counts

    @staticmethod
    async def _each(counts: dict[str, int], what: str, step) -> None:
        """Run one payment's or order's step; a failure is logged and counted, never raised."""
        try:
            await step
        except Exception:
            counts["errors"] += 1
            log.exception("reconciler: %s failed; going on with the next", what)

    async def _reconcile(self, payment: Payment, now, counts: dict[str, int]) -> None:
        plugin = self.state.plugins.get(payment.plugin)
        if plugin is None:
            return
        if settles_confirmations(plugin):
            counts["settled"] += await self._settle(payment, plugin, now)
            return
        timeout = plugin.payment_timeout_seconds
        if (payment.status == PaymentStatus.PENDING and timeout
                and payment.created_at < now - timedelta(seconds=timeout)):
            # Read first: the money may have arrived a moment ago.
            if plugin.has_read_back:
                await self.state.attempts.refresh(payment.id, source="reconciler: before time-out")
            still_pending = await self.state.db.run(self._still, payment.id, PaymentStatus.PENDING)
            if still_pending and Capability.CANCEL in plugin.capabilities:
                try:
                    await self.state.attempts.cancel(payment.id)
                    counts["timed_out"] += 1
                except ProviderError as exc:
                    log.warning("reconciler: cancelling payment %s failed: %s", payment.id, exc.message)
            return
        last_look = payment.last_fetched_at or payment.status_changed_at
        stale = now - timedelta(seconds=self._read_back_after(plugin))
        if plugin.has_read_back and last_look < stale:
            await self.state.attempts.refresh(payment.id, source="reconciler")
            counts["read"] += 1

    async def _settle_created(self, payment: Payment, now, counts: dict[str, int]) -> None:
        """A payment left ``created``: the shop stopped between writing it and hearing the
        provider's answer to start. With the provider's reference, ask the provider (and apply
        what it says) or, without a read-back, cancel it there; without one, the provider cannot
        be asked about it: it failed, and the order can be paid again or expire."""
        plugin = self.state.plugins.get(payment.plugin)
        if plugin is None:
            return
        if payment.reference and plugin.has_read_back:
            if payment.last_fetched_at and payment.last_fetched_at > now - timedelta(
                    seconds=self._read_back_after(plugin)):
                return  # read lately and not settled: as often as a pending payment, no more
            if await self.state.attempts.refresh(payment.id, source="reconciler: left created"):
                counts["created_settled"] += 1
            return  # not readable now: the next pass asks again
        if payment.reference and Capability.CANCEL in plugin.capabilities:
            try:
                await self.state.attempts.cancel(payment.id)
                counts["created_settled"] += 1
                return
            except ProviderUnavailable as exc:
                log.warning("reconciler: cancelling payment %s left created failed: %s", payment.id, exc.message)
                return
            except ProviderError as exc:  # the provider refuses: it holds nothing to cancel
                detail = f"{plugin.name} refused to cancel it: {exc.message}"
        else:
            detail = f"It never reached {plugin.name}. Please try again."
        await self.state.ledger.apply(payment.id, Observation(
            PaymentStatus.FAILED, "never reached the provider", f"never-started:{payment.id}", detail=detail),
            source="reconciler: left created")
        counts["created_settled"] += 1

    async def _expire(self, order: Order, counts: dict[str, int]) -> None:
        if await self.state.ledger.expire_order(order.id, "unpaid when its time ran out"):
            counts["expired"] += 1

    def _due_work(self, now, created_before) -> tuple[list[Payment], list[Payment], list[Order]]:
        """Payments left created, open payments, and orders past their expiry."""
        with self.state.db() as session:
            left_created = session.exec(select(Payment).where(
                Payment.status == PaymentStatus.CREATED, Payment.created_at < created_before)).all()
            open_payments = session.exec(select(Payment).where(
                Payment.status.in_([PaymentStatus.PENDING, PaymentStatus.AUTHORIZED]))).all()
            due_orders = session.exec(select(Order).where(
                Order.status == "awaiting_payment", Order.expires_at.is_not(None), Order.expires_at < now)).all()
        return left_created, open_payments, due_orders

    async def _settle(self, payment: Payment, plugin, now) -> int:
        """Let the plugin finish a confirmation it owes its provider, or ask where no callback
        came; the ledger applies what it saw, and the order is flagged when the merchant must
        look. 1 if the plugin was asked."""
        if not plugin.settle_due(payment.data, payment.created_at, now):
            return 0
        fresh, attempt = await self.state.db.run(self.state.attempts.load, payment.id)
        if PaymentStatus(fresh.status) != PaymentStatus.PENDING:
            return 0
        problem = await self.state.db.run(self._order_problem, fresh.order_id)
        with recorder.about(fresh.id, fresh.order_id) as call:
            try:
                observation = await plugin.settle(attempt, problem, now)
            except ProviderError as exc:
                log.warning("reconciler: settling payment %s failed: %s", fresh.id, exc.message)
                return 1
            await self.state.ledger.apply(fresh.id, observation, correlation_id=call.correlation_id,
                                          source="reconciler: settle")
        reason = await self.state.db.run(self._merchant_reason, plugin, fresh.id, now)
        if reason:
            await self.state.db.write(self._flag_once, fresh.order_id, reason)
        return 1

    def _order_problem(self, order_id: int) -> str:
        with self.state.db() as session:
            return order_problem(session, session.get(Order, order_id))

    def _merchant_reason(self, plugin, payment_id: int, now) -> str:
        with self.state.db() as session:
            return plugin.needs_merchant(session.get(Payment, payment_id).data, now)

    def _flag_once(self, order_id: int, reason: str) -> None:
        with self.state.db() as session:
            flag_once(session, order_id, reason)
            session.commit()

    def _still(self, payment_id: int, status: PaymentStatus) -> bool:
        with self.state.db() as session:
            return session.get(Payment, payment_id).status == status


def settles_confirmations(plugin) -> bool:
    """Plugins that confirm the sale at their provider themselves and have no read-back (SeQura):
    the reconciler finishes what a crash, a failed call or a lost callback left open."""
    return plugin.settles_confirmations

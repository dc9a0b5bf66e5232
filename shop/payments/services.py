"""The core's services to plugins (``PluginRuntime.services``): orders a plugin takes outside
the shopper's checkout are placed, started and given up here, with the checkout's own rules,
so that no plugin opens a session on order or payment tables."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import text
from sqlmodel import col, func, select

from shop.checkout import OrderDetails, order_problem, place_order
from shop.models import InstantPurchase, Order, Payment, PaymentEvent, Product, utcnow
from shop.money import Money
from shop.payments.contract import (
    Channel,
    OrderRecord,
    OrderRefused,
    PaymentRecord,
    PaymentStart,
    PlacedOrder,
    PluginOrder,
    StartContext,
)


class ShopServices:
    """``PluginServices`` over one app's state (its database, attempts, ledger and recorder)."""

    def __init__(self, app_state) -> None:
        self._state = app_state

    @property
    def secret_key(self) -> str:
        return self._state.settings.secret_key

    async def place_order(self, order: PluginOrder) -> PlacedOrder:
        return await self._state.db.write(self._place, order)

    def _place(self, wanted: PluginOrder) -> PlacedOrder:
        state = self._state
        with state.db() as session:
            if wanted.unpaid_per_hour:
                # A purchase code is printed for anyone to read and its caller needs no login:
                # without a limit, a few replays hold a product's whole stock.
                for column, value in ((InstantPurchase.token_hash, wanted.code_hash),
                                      (InstantPurchase.client, wanted.caller)):
                    if value and _unpaid_orders(session, column, value) >= wanted.unpaid_per_hour:
                        raise OrderRefused("Too many unpaid orders from this code: pay one of them or try again later.")
            items = []
            for product_id, quantity in wanted.items:
                product = session.get(Product, product_id)
                if product is None:
                    raise OrderRefused("This product is no longer sold.")
                if product.stock < 1:
                    raise OrderRefused(f"{product.name} is sold out.")
                items.append((product, quantity))
            details = OrderDetails(wanted.customer, wanted.delivery, wanted.invoice)
            try:
                order = place_order(session, state.settings, items, details, channel=wanted.channel)
            except ValueError as exc:  # rolled back with the session: nothing is held
                raise OrderRefused(str(exc)) from None
            if wanted.expires_in_seconds is not None:
                # Nobody waits on a page to try again: such an order gives its stock back sooner
                # than the days a shopper's own checkout is kept.
                order.expires_at = utcnow() + timedelta(seconds=wanted.expires_in_seconds)
                session.add(order)
            if wanted.code_hash or wanted.caller:
                session.add(InstantPurchase(order_id=order.id, token_hash=wanted.code_hash, client=wanted.caller[:64]))
            session.commit()
            return PlacedOrder(order.id, order.number, Money(order.total_cents, order.currency))

    async def start_payment(self, order_id: int, plugin_id: str, option: str, ctx: StartContext, *,
                            channel: Channel = Channel.ONLINE) -> PaymentStart:
        payment, started, message = await self._state.attempts.start(order_id, plugin_id, option, ctx,
                                                                     channel=channel)
        errors = {} if started is not None else await self._state.db.run(self._field_errors, payment.id)
        return PaymentStart(payment.id, started, message or "", errors)

    def _field_errors(self, payment_id: int) -> dict[str, str]:
        with self._state.db() as session:
            return session.get(Payment, payment_id).data.get("_errors") or {}

    async def expire_order(self, order_id: int, reason: str) -> None:
        await self._state.ledger.expire_order(order_id, reason)

    async def order_problem(self, order_number: str) -> str:
        return await self._state.db.run(self._order_problem, order_number)

    def _order_problem(self, order_number: str) -> str:
        with self._state.db() as session:
            order = session.exec(select(Order).where(Order.number == order_number)).one()
            return order_problem(session, order)

    async def record_incoming(self, *, operation: str, body: str, http_status: int,
                              order_id: int | None = None, payment_id: int | None = None) -> None:
        await self._state.db.write(self._state.recorder.record, kind="callback", direction="in",
                                   http_status=http_status, operation=operation, body=body,
                                   payment_id=payment_id, order_id=order_id)

    async def catalog_prices(self) -> list[int]:
        return await self._state.db.run(self._catalog_prices)

    def _catalog_prices(self) -> list[int]:
        with self._state.db() as session:
            return list(session.exec(select(Product.price_cents)).all())

    async def orders_since(self, since: datetime) -> list[OrderRecord]:
        return await self._state.db.run(self._orders_since, since)

    def _orders_since(self, since: datetime) -> list[OrderRecord]:
        with self._state.db() as session:
            orders = session.exec(select(Order).where(Order.created_at >= since).order_by(Order.id)).all()
            payments: dict[int, list[PaymentRecord]] = {}
            if orders:
                for payment in session.exec(select(Payment).where(col(Payment.order_id).in_([o.id for o in orders]))
                                            .order_by(Payment.id)):
                    payments.setdefault(payment.order_id, []).append(
                        PaymentRecord(payment.plugin, payment.status, dict(payment.data or {})))
            return [OrderRecord(order.number, order.status, order.created_at, order.paid_at, order.currency,
                                order.total_cents, (order.delivery_address or {}).get("country_code", ""),
                                tuple(payments.get(order.id, ()))) for order in orders]

    async def claim_once(self, name: str) -> bool:
        return await self._state.db.write(claim_run, self._state.db, name)

    async def release_claim(self, name: str) -> None:
        await self._state.db.write(release_run, self._state.db, name)


# Serialises claims on PostgreSQL, where two transactions could each find no claim and both
# insert one; SQLite's writers queue behind BEGIN IMMEDIATE already.
CLAIM_LOCK_KEY = 0x5E0_0A_DE11


def claim_run(db, name: str) -> bool:
    """A named piece of work, claimed as a note in the event log (once, whoever asks first)."""
    with db() as session:
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CLAIM_LOCK_KEY})
        taken = session.exec(select(PaymentEvent.id).where(PaymentEvent.kind == "note",
                                                           PaymentEvent.operation == name)).first()
        if taken is not None:
            return False
        session.add(PaymentEvent(kind="note", operation=name, body="claimed"))
        session.commit()
        return True


def release_run(db, name: str) -> None:
    with db() as session:
        for event in session.exec(select(PaymentEvent).where(PaymentEvent.kind == "note",
                                                             PaymentEvent.operation == name)):
            session.delete(event)
        session.commit()


def _unpaid_orders(session, column, value: str) -> int:
    """Orders of the last hour from this purchase code (or caller) still awaiting payment."""
    since = utcnow() - timedelta(hours=1)
    return session.exec(select(func.count()).select_from(InstantPurchase)
                        .join(Order, col(Order.id) == InstantPurchase.order_id)
                        .where(column == value, col(InstantPurchase.created_at) > since,
                               Order.status == "awaiting_payment")).one()

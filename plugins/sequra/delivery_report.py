"""SeQura's daily delivery report (sequra.md §12.2): the SeQura orders shipped, and statistics of
every order of the last 7 days whatever its payment method. Sent once a day, even when empty,
by whichever store worker claims the day first; the back office can send one at any time.

The day is claimed in the database before the report is sent: on PostgreSQL under an advisory
lock, on SQLite inside the one writer's BEGIN IMMEDIATE, so that with many workers exactly one
sends it. A failed send gives the claim back, for the next hour's try."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import text
from sqlmodel import select

from shop.models import Order, Payment, PaymentEvent
from shop.payments.contract import ProviderError

if TYPE_CHECKING:
    from .plugin import SequraPlugin

log = logging.getLogger(__name__)
LOCK_KEY = 0x5E0_0A_DE11  # the advisory lock that serialises the claim of a day on PostgreSQL
CHECK_EVERY_SECONDS = 3600.0
METHOD_CODES = {"sequra": "SQ", "banktransfer": "TR", "secupay": "O/secupay", "seqr": "O/SEQR"}
STATUS = {"cancelled": "cancelled", "expired": "cancelled", "shipped": "shipped"}


def operation(day: str) -> str:
    return f"SeQura delivery report {day}"


def claim_day(db, day: str) -> bool:
    """Take the day's report for this worker; False when another worker has it already."""
    with db() as session:
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
        taken = session.exec(select(PaymentEvent.id).where(PaymentEvent.kind == "note",
                                                           PaymentEvent.operation == operation(day))).first()
        if taken is not None:
            return False
        session.add(PaymentEvent(kind="note", operation=operation(day), body="claimed"))
        session.commit()
        return True


def release_day(db, day: str) -> None:
    with db() as session:
        for event in session.exec(select(PaymentEvent).where(PaymentEvent.kind == "note",
                                                             PaymentEvent.operation == operation(day))):
            session.delete(event)
        session.commit()


def report_body(db, merchant_ref: str, platform: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The report: SeQura orders with shipped items, and the last 7 days' orders as statistics."""
    since = now - timedelta(days=7)
    with db() as session:
        rows = session.exec(select(Order, Payment).join(Payment, Payment.order_id == Order.id, isouter=True)
                            .where(Order.created_at >= since).order_by(Order.id)).all()
    orders: dict[int, tuple[Order, list[Payment]]] = {}
    for order, payment in rows:
        orders.setdefault(order.id, (order, []))[1].extend([payment] if payment is not None else [])
    shipped, statistics = [], []
    for order, payments in orders.values():
        paid = next((p for p in payments if p.status in ("paid", "refunded")), None)
        sequra = next((p for p in payments if p.plugin == "sequra" and (p.data or {}).get("shipped")), None)
        if sequra is not None:
            shipped.append({"state": "shipped", "sent_at": _iso(order.paid_at or order.created_at),
                            "merchant_reference": {"order_ref_1": (sequra.data or {}).get("order_ref_1") or order.number},
                            "shipped": sequra.data["shipped"]})
        statistics.append({
            "completed_at": _iso(order.created_at), "currency": order.currency, "amount": order.total_cents,
            "merchant_reference": {"order_ref_1": order.number},
            "payment_method": METHOD_CODES.get(paid.plugin, f"O/{paid.plugin}") if paid else "O/none",
            "country": (order.delivery_address or {}).get("country_code", ""), "device": "other",
            "status": STATUS.get(order.status, "processing"), "raw_status": order.status, "sequra_offered": True})
    return {"delivery_report": {"merchant": {"id": merchant_ref}, "orders": shipped, "broken_orders": [],
                                "statistics": {"orders": statistics}, "platform": platform}}


async def send(plugin: SequraPlugin, now: datetime | None = None) -> dict[str, Any]:
    """Build and send one report now; the body sent (ProviderError when SeQura refuses it)."""
    services = plugin.runtime.services
    body = await services.db.run(report_body, services.db, plugin.settings.merchant_ref,
                                 plugin.platform.as_json(), now or datetime.now(UTC))
    await plugin.client.delivery_report(body)
    return body


async def send_daily(plugin: SequraPlugin, now: datetime | None = None) -> bool:
    """Today's report, if no worker has sent it yet: True when this call sent it."""
    now = now or datetime.now(UTC)
    db, day = plugin.runtime.services.db, now.date().isoformat()
    if not await db.write(claim_day, db, day):
        return False
    try:
        await send(plugin, now)
    except ProviderError as exc:
        log.warning("SeQura's delivery report for %s not sent: %s", day, exc.message)
        await db.write(release_day, db, day)
        return False
    return True


async def every_day(plugin: SequraPlugin) -> None:
    """The scheduled job: each hour, today's report if it is not sent yet."""
    while True:
        try:
            await send_daily(plugin)
        except Exception:
            log.exception("SeQura's delivery report failed")
        await asyncio.sleep(CHECK_EVERY_SECONDS)


def _iso(moment: datetime | None) -> str:
    if moment is None:
        return ""
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()

"""SeQura's daily delivery report (sequra.md §12.2): the SeQura orders shipped, and statistics of
every order of the last 7 days whatever its payment method. Sent once a day, even when empty,
by whichever store worker claims the day first; the back office can send one at any time.

The day is claimed through the core (``PluginServices.claim_once``) before the report is sent,
so that with many workers exactly one sends it. A failed send gives the claim back, for the next
hour's try. The orders come from the core too: the plugin opens no session of its own."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from shop.payments.contract import OrderRecord, ProviderError

if TYPE_CHECKING:
    from .plugin import SequraPlugin

log = logging.getLogger(__name__)
CHECK_EVERY_SECONDS = 3600.0
METHOD_CODES = {"sequra": "SQ", "banktransfer": "TR", "secupay": "O/secupay", "seqr": "O/SEQR"}
STATUS = {"cancelled": "cancelled", "expired": "cancelled", "shipped": "shipped"}


def operation(day: str) -> str:
    return f"SeQura delivery report {day}"


def report_body(orders: list[OrderRecord], merchant_ref: str, platform: dict[str, Any]) -> dict[str, Any]:
    """The report: SeQura orders with shipped items, and every order given as statistics."""
    shipped, statistics = [], []
    for order in orders:
        paid = next((p for p in order.payments if p.status in ("paid", "refunded")), None)
        sequra = next((p for p in order.payments if p.plugin == "sequra" and p.data.get("shipped")), None)
        if sequra is not None:
            shipped.append({"state": "shipped", "sent_at": _iso(order.paid_at or order.created_at),
                            "merchant_reference": {"order_ref_1": sequra.data.get("order_ref_1") or order.number},
                            "shipped": sequra.data["shipped"]})
        statistics.append({
            "completed_at": _iso(order.created_at), "currency": order.currency, "amount": order.total_cents,
            "merchant_reference": {"order_ref_1": order.number},
            "payment_method": METHOD_CODES.get(paid.plugin, f"O/{paid.plugin}") if paid else "O/none",
            "country": order.country_code, "device": "other",
            "status": STATUS.get(order.status, "processing"), "raw_status": order.status, "sequra_offered": True})
    return {"delivery_report": {"merchant": {"id": merchant_ref}, "orders": shipped, "broken_orders": [],
                                "statistics": {"orders": statistics}, "platform": platform}}


async def send(plugin: SequraPlugin, now: datetime | None = None) -> dict[str, Any]:
    """Build and send one report now; the body sent (ProviderError when SeQura refuses it)."""
    orders = await plugin.runtime.services.orders_since((now or datetime.now(UTC)) - timedelta(days=7))
    body = report_body(orders, plugin.settings.merchant_ref, plugin.platform.as_json())
    await plugin.client.delivery_report(body)
    return body


async def send_daily(plugin: SequraPlugin, now: datetime | None = None) -> bool:
    """Today's report, if no worker has sent it yet: True when this call sent it."""
    now = now or datetime.now(UTC)
    services, day = plugin.runtime.services, now.date().isoformat()
    if not await services.claim_once(operation(day)):
        return False
    try:
        await send(plugin, now)
    except ProviderError as exc:
        log.warning("SeQura's delivery report for %s not sent: %s", day, exc.message)
        await services.release_claim(operation(day))
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

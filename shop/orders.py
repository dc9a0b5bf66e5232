"""The shopper's order page: lines, totals, the payment's next step and its live status.

The status reaches the browser two ways, both rendered by ``panel``: pushed over a websocket
as the ledger publishes a change, or fetched every second when the socket cannot be used. A
fetch that names the status the page shows already (If-None-Match) is answered 304 from two
small reads, without rendering the panel: the page would not swap it in anyway.
The sync functions here read the database: the handlers run them in a database thread."""

from __future__ import annotations

import asyncio
import contextlib

from sqlalchemy import bindparam
from sqlmodel import select
from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from shop.i18n import gettext as _
from shop.models import Order, OrderLine, OutboxMessage, Payment, Refund
from shop.money import Money
from shop.payments.attempts import snapshot_of
from shop.payments.contract import Embed, PaymentStatus, Redirect, Started
from shop.payments.ledger import OPEN
from shop.payments.steps import next_step_from_dict
from shop.qr import qr_svg
from shop.security import allow_in_csp, checked_form, csrf_token
from shop.web import flash, recount_cart, render, start_context

MAX_REMEMBERED_ORDERS = 20
RETRYABLE = frozenset({PaymentStatus.FAILED, PaymentStatus.CANCELLED, PaymentStatus.EXPIRED})

# Built once: every status poll and every pushed change runs these.
_ORDER_BY_PUBLIC_ID = select(Order).where(Order.public_id == bindparam("public_id"))
_PAYMENTS_LATEST_FIRST = select(Payment).where(Payment.order_id == bindparam("order_id")).order_by(Payment.id.desc())
_LATEST_PAYMENT_STATUS = (select(Payment.status).where(Payment.order_id == bindparam("order_id"))
                          .order_by(Payment.id.desc()).limit(1))
_REFUNDS_OF = select(Refund).where(Refund.payment_id.in_(bindparam("payment_ids", expanding=True)))


def grant_access(conn: HTTPConnection, order: Order) -> None:
    """This browser may see this order from now on (it placed it, or came back from paying it)."""
    owned = [pid for pid in conn.session.get("orders", []) if pid != order.public_id]
    conn.session["orders"] = (owned + [order.public_id])[-MAX_REMEMBERED_ORDERS:]


def owned_order(conn: HTTPConnection) -> Order:
    public_id = conn.path_params["public_id"]
    if public_id not in conn.session.get("orders", []):
        raise HTTPException(404, _("There is no such order."))  # another shopper's order: as if it did not exist
    with conn.app.state.db() as session:
        order = session.exec(_ORDER_BY_PUBLIC_ID, params={"public_id": public_id}).first()
    if order is None:
        raise HTTPException(404, _("There is no such order."))
    return order


def status_key(status: PaymentStatus, order: Order) -> str:
    """What the panel's data-status and the X-Status header say: the latest payment's status
    and the order's ("pending:awaiting_payment"). The page swaps its panel only when it changes."""
    return f"{status}:{order.status}"


def _status_now(conn: HTTPConnection) -> tuple[Order, str]:
    order = owned_order(conn)
    with conn.app.state.db() as session:
        latest = session.exec(_LATEST_PAYMENT_STATUS, params={"order_id": order.id}).first()
    return order, status_key(PaymentStatus(latest) if latest else PaymentStatus.CREATED, order)


def panel_context(conn: HTTPConnection, order: Order) -> dict:
    """Everything the payment panel shows: the latest attempt, its next step, the receipt."""
    state = conn.app.state
    with state.db() as session:
        session.add(order)
        session.refresh(order)
        payments = session.exec(_PAYMENTS_LATEST_FIRST, params={"order_id": order.id}).all()
        refunds = session.exec(_REFUNDS_OF, params={"payment_ids": [p.id for p in payments]}).all()
    latest = payments[0] if payments else None
    status = PaymentStatus(latest.status) if latest else PaymentStatus.CREATED
    step = next_step_from_dict(latest.data.get("_next")) if latest and status in OPEN else None
    plugin = state.plugins.get(latest.plugin) if latest else None
    return {
        "order": order, "payment": latest, "status": status, "step": step, "plugin": plugin,
        "qr": qr_svg(payload) if (payload := getattr(step, "qr_payload", None)) else None,
        "paid_payment": next((p for p in payments if p.status in (PaymentStatus.PAID, PaymentStatus.REFUNDED)), None),
        "refunds": refunds, "can_retry": order.status == "awaiting_payment" and (latest is None or status in RETRYABLE),
        "final": order.status in ("paid", "refunded", "expired", "cancelled"),
    }


def _snapshot(db, order_id: int):
    with db() as session:
        return snapshot_of(session, session.get(Order, order_id))


async def retry_options(conn: HTTPConnection, order: Order):
    snapshot = await conn.app.state.db.run(_snapshot, conn.app.state.db, order.id)
    return await conn.app.state.plugins.options_for(snapshot)


async def panel(conn: HTTPConnection, order: Order, context: dict | None = None) -> tuple[str, str]:
    """(status, html) of the payment panel: the one source for the page, the poll and the socket."""
    context = dict(context or await conn.app.state.db.run(panel_context, conn, order))
    if context["can_retry"]:
        context["options"] = await retry_options(conn, order)
    template = conn.app.state.templates.env.get_template("payment_panel.html")
    html = template.render({**context, "request": conn})
    return status_key(context["status"], order), html


def _page_context(request: Request, order: Order) -> dict:
    context = panel_context(request, order)
    with request.app.state.db() as session:
        lines = session.exec(select(OrderLine).where(OrderLine.order_id == order.id).order_by(OrderLine.id)).all()
    return {**context, "lines": lines}


async def order_page(request: Request) -> Response:
    db = request.app.state.db
    order = await db.run(owned_order, request)
    context = await db.run(_page_context, request, order)
    if isinstance(context["step"], Embed):
        allow_in_csp(request, dict(context["step"].csp))
    _status, panel_html = await panel(request, order, context)
    # The payment may have emptied the cart (in a callback, maybe another worker's): count it again.
    return await render(request, "order.html", {**context, "panel_html": panel_html, "count": await recount_cart(request),
                                                "total": Money(order.total_cents, order.currency)})


async def order_status(request: Request) -> Response:
    order, status = await request.app.state.db.run(_status_now, request)
    if request.headers.get("if-none-match") == _etag(status):
        return Response(status_code=304, headers=_status_headers(status))
    status, html = await panel(request, order)
    return HTMLResponse(html, headers=_status_headers(status))


def _etag(status: str) -> str:
    return f'"{status}"'


def _status_headers(status: str) -> dict[str, str]:
    return {"X-Status": status, "ETag": _etag(status), "Cache-Control": "no-store"}


async def order_socket(websocket: WebSocket) -> None:
    try:
        order = await websocket.app.state.db.run(owned_order, websocket)
    except HTTPException:
        await websocket.close(code=4404)
        return
    bus = websocket.app.state.bus
    async with bus.subscribe(order.public_id) as queue:
        # Subscribed before the handshake ends: once the page's socket is open, no change can slip
        # past it. Only the status is kept while the page waits: a panel's HTML (a QR code's SVG)
        # times two thousand waiting pages is memory. The page names the status it shows, and the
        # first panel goes out only when that is not the current one any more.
        await websocket.accept()
        order_id = order.id  # the order itself is read again for each push, not kept per socket
        del order
        # Of the session, a panel needs only its forms' CSRF token: the rest (the shopper's
        # checkout details) is not kept once for every waiting page. A socket never writes it back.
        websocket.scope["session"] = {"csrf": csrf_token(websocket)}
        first = await _send_panel(websocket, order_id, unless=websocket.query_params.get("shown", ""))

        async def push() -> None:
            last = first
            while True:
                await queue.get()
                last = await _send_panel(websocket, order_id, unless=last)

        async def until_closed() -> None:
            with contextlib.suppress(WebSocketDisconnect):
                while (await websocket.receive())["type"] != "websocket.disconnect":
                    pass

        tasks = [asyncio.create_task(push()), asyncio.create_task(until_closed())]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, RuntimeError):
                    await task


def _panel_context_of(conn: HTTPConnection, order_id: int) -> dict:
    with conn.app.state.db() as session:
        order = session.get(Order, order_id)
    return panel_context(conn, order)


async def _send_panel(websocket: WebSocket, order_id: int, unless: str = "") -> str:
    """Send the panel, unless its status is ``unless`` (already on the page): then nothing is rendered."""
    context = await websocket.app.state.db.run(_panel_context_of, websocket, order_id)
    status = status_key(context["status"], context["order"])
    if status != unless:
        _, html = await panel(websocket, context["order"], context)
        await websocket.send_json({"status": status, "html": html})
    return status


def failed_field_errors(state, payment: Payment) -> dict[str, str]:
    """Per-field messages a provider gave when it refused to start a payment."""
    with state.db() as session:
        return session.get(Payment, payment.id).data.get("_errors") or {}


def next_step_response(request: Request, order: Order, started: Started | None, error: str) -> Response:
    """Where the shopper goes once an attempt is started: the provider's page, or the order page."""
    if started is None:
        flash(request, error, "error")
    elif isinstance(started.next_step, Redirect):
        return RedirectResponse(started.next_step.url, status_code=303)
    return RedirectResponse(f"/orders/{order.public_id}", status_code=303)


async def pay_again(request: Request) -> Response:
    order = await request.app.state.db.run(owned_order, request)
    form = await checked_form(request)
    context = await request.app.state.db.run(panel_context, request, order)
    if not context["can_retry"]:
        flash(request, _("This order cannot take a new payment now."), "error")
        return RedirectResponse(f"/orders/{order.public_id}", status_code=303)
    plugin_id, _colon, option = str(form.get("method", "")).partition(":")
    state = request.app.state
    chosen = next((o for o in await retry_options(request, order) if (o.plugin_id, o.option_id) == (plugin_id, option)),
                  None)
    if chosen is None or chosen.unavailable:
        flash(request, chosen.unavailable if chosen else _("Please choose one of the payment methods shown."), "error")
        return RedirectResponse(f"/orders/{order.public_id}", status_code=303)
    payment, started, error = await state.attempts.start(order.id, plugin_id, option, start_context(request))
    return next_step_response(request, order, started, error)


async def receipt_mail(request: Request) -> Response:
    """The confirmation e-mail as sent, for shoppers who want it on screen."""
    order = await request.app.state.db.run(owned_order, request)
    message = await request.app.state.db.run(_confirmation_of, request.app.state.db, order)
    if message is None:
        raise HTTPException(404, _("No confirmation has been sent for this order yet."))
    return await render(request, "receipt_mail.html", {"order": order, "message": message})


def _confirmation_of(db, order: Order) -> OutboxMessage | None:
    with db() as session:
        return session.exec(select(OutboxMessage).where(OutboxMessage.order_id == order.id)).first()


routes = [
    Route("/orders/{public_id}", order_page, name="order"),
    Route("/orders/{public_id}/status", order_status, name="order_status"),
    Route("/orders/{public_id}/pay", pay_again, methods=["POST"], name="order_pay"),
    Route("/orders/{public_id}/confirmation", receipt_mail, name="order_confirmation"),
    WebSocketRoute("/orders/{public_id}/ws", order_socket, name="order_ws"),
]

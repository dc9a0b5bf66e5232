"""The back office at /admin: orders, their payments and events, and the merchant's actions."""

from __future__ import annotations

import functools
import hashlib
import hmac
from datetime import timedelta
from decimal import InvalidOperation

from sqlmodel import select
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route

from shop import admin_security, mailer
from shop.i18n import N_
from shop.i18n import gettext as _
from shop.mailer import delivery_state
from shop.models import Order, OrderLine, OutboxMessage, Payment, PaymentEvent, Refund, utcnow
from shop.money import Money
from shop.payments import recorder
from shop.payments.attempts import ActionRefused
from shop.payments.contract import Capability, Observation, ProviderError, RefundSeen
from shop.security import checked_form
from shop.sequence import sequence_svg
from shop.web import PAYMENT_STATUS_LABELS, flash, render

ORDER_STATUSES = ("awaiting_payment", "authorized", "paid", "refunded", "expired", "cancelled")


SESSION_KEY = "admin_session"  # the cookie's admin session id (shop.admin_security)


async def is_admin(request: Request) -> bool:
    session_id = request.session.get(SESSION_KEY)
    if not isinstance(session_id, str):
        return False
    state = request.app.state
    idle = timedelta(minutes=state.settings.admin_idle_minutes)
    if await state.db.write(admin_security.session_is_valid, state.db, session_id, _fingerprint(state), idle):
        return True
    request.session.pop(SESSION_KEY, None)
    return False


def _fingerprint(state) -> str:
    return admin_security.password_fingerprint(state.settings.secret_key, state.settings.admin_password)


def client_address(request: Request) -> str:
    """The shopper's address as uvicorn saw it (a trusted proxy's X-Forwarded-For: FORWARDED_ALLOW_IPS)."""
    return request.client.host if request.client else "unknown"


def admin_only(endpoint):
    @functools.wraps(endpoint)
    async def guarded(request: Request) -> Response:
        if not await is_admin(request):
            return RedirectResponse(f"/admin/login?next={request.url.path}", status_code=303)
        return await endpoint(request)

    return guarded


async def login_page(request: Request) -> Response:
    return await render(request, "admin/login.html", {"next": request.query_params.get("next", "/admin")})


async def login(request: Request) -> Response:
    form = await checked_form(request)
    state = request.app.state
    target = str(form.get("next", "/admin"))
    if not (target.startswith("/admin") or target == "/demo/reset"):  # the demo's reset asks for a login too
        target = "/admin"
    client = client_address(request)
    wait = await state.db.run(admin_security.retry_after_seconds, state.db, client)
    if wait:
        minutes = -(-wait // 60)
        response = await render(request, "admin/login.html", {
            "next": target,
            "error": _("Too many wrong passwords from your address: try again in %(minutes)s min.") % {"minutes": minutes}},
            status_code=429)
        response.headers["retry-after"] = str(wait)
        return response
    if not _password_matches(str(form.get("password", "")), state.settings.admin_password):
        await state.db.write(admin_security.record_failure, state.db, client)
        return await render(request, "admin/login.html", {"next": target, "error": _("That password is not right.")},
                            status_code=401)
    await state.db.write(admin_security.clear_failures, state.db, client)
    request.session[SESSION_KEY] = await state.db.write(admin_security.open_session, state.db, _fingerprint(state))
    return RedirectResponse(target, status_code=303)


def _password_matches(given: str, expected: str) -> bool:
    # Digests of equal length: the comparison takes as long whatever the guess, its length too.
    return hmac.compare_digest(hashlib.sha256(given.encode()).digest(), hashlib.sha256(expected.encode()).digest())


async def logout(request: Request) -> Response:
    await checked_form(request)
    session_id = request.session.pop(SESSION_KEY, None)
    if isinstance(session_id, str):
        await request.app.state.db.write(admin_security.close_session, request.app.state.db, session_id)
    return RedirectResponse("/", status_code=303)


@admin_only
async def order_list(request: Request) -> Response:
    status = request.query_params.get("status", "")
    provider = request.query_params.get("provider", "")
    orders, providers = await request.app.state.db.run(_orders_with_providers, request.app.state.db, status, provider)
    return await render(request, "admin/orders.html", {
        "orders": orders, "providers": providers, "status": status, "provider": provider,
        "statuses": ORDER_STATUSES, "plugins": request.app.state.plugins})


def _orders_with_providers(db, status: str, provider: str) -> tuple[list[Order], dict[int, list[str]]]:
    with db() as session:
        query = select(Order)
        if status in ORDER_STATUSES:
            query = query.where(Order.status == status)
        if provider:
            query = query.where(Order.id.in_(select(Payment.order_id).where(Payment.plugin == provider)))
        orders = session.exec(query.order_by(Order.needs_attention.desc(), Order.id.desc()).limit(200)).all()
        providers = {}
        for payment in session.exec(select(Payment).where(Payment.order_id.in_([o.id for o in orders]))):
            providers.setdefault(payment.order_id, []).append(payment.plugin)
    return orders, providers


def _order_by_number(session, number: str) -> Order:
    order = session.exec(select(Order).where(Order.number == number)).first()
    if order is None:
        raise HTTPException(404, _("There is no such order."))
    return order


@admin_only
async def order_detail(request: Request) -> Response:
    state = request.app.state
    context = await state.db.run(_order_detail, state, request.path_params["number"])
    return await render(request, "admin/order.html", context)


def _order_detail(state, number: str) -> dict:
    with state.db() as session:
        order = _order_by_number(session, number)
        lines = session.exec(select(OrderLine).where(OrderLine.order_id == order.id).order_by(OrderLine.id)).all()
        payments = session.exec(select(Payment).where(Payment.order_id == order.id).order_by(Payment.id)).all()
        refunds = session.exec(select(Refund).where(Refund.payment_id.in_([p.id for p in payments]))).all()
        events = session.exec(select(PaymentEvent).where(PaymentEvent.order_id == order.id)
                              .order_by(PaymentEvent.id)).all()
        outbox = session.exec(select(OutboxMessage).where(OutboxMessage.order_id == order.id)).all()
        actions = {}
        for payment in payments:
            plugin = state.plugins.get(payment.plugin)
            if plugin is not None:
                actions[payment.id] = plugin.admin_actions(state.attempts.attempt_of(session, payment, order))
    refunded = {p.id: sum(r.amount_cents for r in refunds if r.payment_id == p.id and r.done) for p in payments}
    return {
        "order": order, "lines": lines, "payments": payments, "refunds": refunds, "events": events,
        "refunded": refunded, "outbox": outbox, "actions": actions, "plugins": state.plugins,
        "Capability": Capability, "diagram": sequence_svg(events, payments, state.plugins),
        "total": Money(order.total_cents, order.currency)}


def _payment_of(request: Request) -> Payment:
    with request.app.state.db() as session:
        order = _order_by_number(session, request.path_params["number"])
        payment = session.get(Payment, int(request.path_params["payment_id"]))
    if payment is None or payment.order_id != order.id:
        raise HTTPException(404, _("There is no such payment on this order."))
    return payment


def _back(request: Request) -> Response:
    return RedirectResponse(f"/admin/orders/{request.path_params['number']}", status_code=303)


async def _run(request: Request, action) -> Response:
    try:
        message = await action()
    except ActionRefused as exc:
        flash(request, str(exc), "error")
    except ProviderError as exc:
        flash(request, _("The provider refused: %(message)s") % {"message": exc.message}, "error")
    else:
        flash(request, message)
    return _back(request)


def _confirmed(form) -> bool:
    return form.get("confirmed") == "yes"


async def _confirm_first(request: Request, form, payment: Payment, question: str, button: str) -> Response:
    """The step between a click and money moving: a page that asks the question and posts the
    same form again, confirmed. Without JS it is the confirmation; with JS the browser asked
    already (data-confirm in app.js) and the form comes confirmed."""
    fields = {k: str(v) for k, v in form.items() if k not in ("csrf_token", "confirmed")}
    return await render(request, "admin/confirm.html", {
        "question": question, "button": button, "action": request.url.path, "fields": fields,
        "back": f"/admin/orders/{request.path_params['number']}", "payment": payment})


@admin_only
async def refund(request: Request) -> Response:
    form = await checked_form(request)
    payment = await request.app.state.db.run(_payment_of, request)
    if not _confirmed(form):
        typed = str(form.get("refund_amount", "")).strip()
        try:
            amount = Money.from_decimal(typed.replace(",", "."), payment.currency).display()
        except (InvalidOperation, ValueError):
            amount = typed or _("the amount entered")  # refused with its reason once confirmed
        question = _("Refund %(amount)s of order %(number)s to the customer? The money goes back; this cannot be "
                     "undone.") % {"amount": amount, "number": request.path_params["number"]}
        return await _confirm_first(request, form, payment, question, _("Yes, refund"))

    async def act() -> str:
        try:
            amount = Money.from_decimal(str(form.get("refund_amount", "")).replace(",", "."), payment.currency)
        except (InvalidOperation, ValueError):
            raise ActionRefused(_("Enter the amount to refund, like %(example)s.")
                                % {"example": Money(1250, payment.currency).editable()}) from None
        done = await request.app.state.attempts.refund(payment.id, amount, str(form.get("reason", ""))[:200])
        return _("Refunded %(amount)s.") % {"amount": done.amount.display()}

    return await _run(request, act)


QUESTIONS = {
    "cancel": (N_("Cancel this payment of %(amount)s? The provider lets the money go and the order is cancelled; "
                  "this cannot be undone."), N_("Yes, cancel the payment")),
    "capture": (N_("Capture %(amount)s now? The customer is charged."), N_("Yes, capture")),
}


async def _provider_action(request: Request, name: str) -> Response:
    form = await checked_form(request)
    payment = await request.app.state.db.run(_payment_of, request)
    if not _confirmed(form):
        question, button = QUESTIONS[name]
        amount = Money(payment.amount_cents, payment.currency).display()
        return await _confirm_first(request, form, payment, _(question) % {"amount": amount}, _(button))

    async def act() -> str:
        observation = await getattr(request.app.state.attempts, name)(payment.id)
        said = {"cancel": _("Cancel sent: the provider says %(status)s."),
                "capture": _("Capture sent: the provider says %(status)s.")}[name]
        return said % {"status": observation.raw_status}

    return await _run(request, act)


@admin_only
async def cancel(request: Request) -> Response:
    return await _provider_action(request, "cancel")


@admin_only
async def capture(request: Request) -> Response:
    return await _provider_action(request, "capture")


@admin_only
async def plugin_action(request: Request) -> Response:
    form = await checked_form(request)
    payment = await request.app.state.db.run(_payment_of, request)
    state = request.app.state
    name = request.path_params["name"]

    plugin = state.plugins[payment.plugin]
    _payment, attempt = await state.db.run(state.attempts.load, payment.id)
    offered = {a.name: a for a in plugin.admin_actions(attempt)}
    if name in offered and offered[name].confirm and not _confirmed(form):
        action = offered[name]
        return await _confirm_first(request, form, payment, _(action.confirm),
                                    _("Yes: %(action)s") % {"action": _(action.label)})

    async def act() -> str:
        if name not in offered:
            raise ActionRefused(_("That action is not available for this payment now."))
        fields = {k: str(v) for k, v in form.items() if k != "csrf_token"}
        with recorder.about(payment.id, payment.order_id) as call:
            result = await plugin.admin_action(name, attempt, fields)
            if isinstance(result, Observation):
                applied = await state.ledger.apply(payment.id, result, correlation_id=call.correlation_id,
                                                   source=f"merchant: {name}")
                return _("Done: the payment is %(status)s.") % {"status": _(PAYMENT_STATUS_LABELS.get(applied.status, applied.status))}
            if isinstance(result, RefundSeen):
                await state.ledger.record_refund(payment.id, result, f"merchant: {name}", call.correlation_id)
                return _("Refund of %(amount)s recorded.") % {"amount": result.amount.display()}
        return str(result or _("Done."))

    return await _run(request, act)


@admin_only
async def outbox(request: Request) -> Response:
    state = request.app.state
    messages = await state.db.run(_latest_messages, state.db)
    now, smtp_configured = utcnow(), bool(state.settings.smtp_url)
    rows = [(m, delivery_state(m, now, smtp_configured)) for m in messages]
    return await render(request, "admin/outbox.html", {"rows": rows})


def _latest_messages(db) -> list[OutboxMessage]:
    with db() as session:
        return session.exec(select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(200)).all()


@admin_only
async def retry_outbox_message(request: Request) -> Response:
    await checked_form(request)
    state = request.app.state
    message = await mailer.retry_now(state, request.path_params["message_id"])
    if message is None:
        raise HTTPException(404, _("There is no such message."))
    delivery = delivery_state(message, utcnow(), bool(state.settings.smtp_url))
    flash(request, _("The message to %(recipient)s is now %(state)s.") % {"recipient": message.recipient, "state": delivery},
          "error" if delivery.name in ("parked", "retrying") else "info")
    return RedirectResponse("/admin/outbox", status_code=303)


def mount(plugins) -> Mount:
    routes = [
        Route("/", order_list, name="admin_orders"),
        Route("/login", login_page, name="admin_login"),
        Route("/login", login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"], name="admin_logout"),
        Route("/outbox", outbox, name="admin_outbox"),
        Route("/outbox/{message_id:int}/retry", retry_outbox_message, methods=["POST"]),
        Route("/orders/{number}", order_detail, name="admin_order"),
        Route("/orders/{number}/payments/{payment_id:int}/refund", refund, methods=["POST"]),
        Route("/orders/{number}/payments/{payment_id:int}/cancel", cancel, methods=["POST"]),
        Route("/orders/{number}/payments/{payment_id:int}/capture", capture, methods=["POST"]),
        Route("/orders/{number}/payments/{payment_id:int}/action/{name}", plugin_action, methods=["POST"]),
    ]
    for plugin in plugins:
        plugin_routes = [_guard(route) for route in plugin.admin_routes()]
        if plugin_routes:
            routes.append(Mount(f"/{plugin.id}", routes=plugin_routes, name=f"admin_{plugin.id}"))
    return Mount("/admin", routes=routes)


def _guard(route: Route) -> Route:
    """A plugin's back-office route behind the same login."""
    return Route(route.path, admin_only(route.endpoint), methods=list(route.methods or ["GET"]), name=route.name)

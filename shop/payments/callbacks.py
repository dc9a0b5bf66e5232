"""The one pipeline every provider callback and every return URL goes through.

Callback: find the payment by its token (404 if none) -> verify (403 if forged) -> where the
plugin confirms inside the callback, check the order still matches its cart and the stock
(conflict if not), and keep what the plugin is about to confirm -> fetch the truth from the
provider (503 so it retries, nothing changed, if that fails) -> apply through the ledger (amount
and currency checked there) -> reply in the provider's own form. Every callback is recorded
with the reply it got."""

from __future__ import annotations

import logging

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route

from shop.checkout import order_problem
from shop.models import Order, Payment
from shop.orders import grant_access
from shop.payments import recorder
from shop.payments.attempts import ActionRefused, find_by_token
from shop.payments.contract import (
    CallbackOutcome,
    CallbackRejected,
    Capability,
    CartChanged,
    Observation,
    PaymentStatus,
    ProviderError,
    ProviderUnavailable,
    ReadBackUnavailable,
    UnsupportedCallback,
)
from shop.payments.ledger import OPEN
from shop.web import flash

log = logging.getLogger(__name__)


def confirms_on_callback(plugin) -> bool:
    """Plugins whose callback is where the sale is confirmed (SeQura's IPN) get the cart
    checked before they are asked to confirm."""
    return bool(getattr(plugin, "confirms_on_callback", False))


async def handle_callback(request: Request) -> Response:
    state = request.app.state
    plugin = state.plugins[request.scope["plugin_id"]]
    token = request.path_params["token"]
    body = await request.body()
    correlation_id = recorder.new_correlation_id()
    with state.db() as session:
        payment = find_by_token(session, plugin.id, token)
        attempt = state.attempts.attempt_of(session, payment) if payment else None

    outcome, detail = CallbackOutcome.UNKNOWN, "no payment has this token"
    if payment is not None:
        with recorder.about(payment.id, payment.order_id, correlation_id):
            outcome, detail = await _process(request, state, plugin, payment, attempt, body, correlation_id)
    reply = plugin.callback_reply(outcome)
    operation = f"callback {request.method}: {outcome}" + (f" ({detail})" if detail else "")
    state.recorder.record(kind="callback", direction="in", operation=operation, http_status=reply.status_code,
                          body=recorder.redact(body, request.headers.get("content-type", "")),
                          payment_id=payment.id if payment else None, order_id=payment.order_id if payment else None,
                          correlation_id=correlation_id)
    log.info("%s callback -> %s %s", plugin.id, reply.status_code, operation)
    return reply


async def _process(request, state, plugin, payment: Payment, attempt, body: bytes, correlation_id: str):
    try:
        claim = await plugin.verify_callback(request, body, attempt)
    except CallbackRejected as exc:
        log.warning("%s: refused a callback for payment %s: %s", plugin.id, payment.id, exc)
        return CallbackOutcome.REJECTED, str(exc)
    except UnsupportedCallback as exc:
        return CallbackOutcome.UNSUPPORTED, str(exc)
    if claim is None:
        return CallbackOutcome.IGNORED, "nothing the shop tracks"

    if confirms_on_callback(plugin) and PaymentStatus(payment.status) in OPEN:
        with state.db() as session:
            problem = order_problem(session, session.get(Order, payment.order_id))
        if problem:
            await _fail_for_cart(state, payment, claim.dedupe_key, problem, correlation_id)
            return CallbackOutcome.CONFLICT, problem

    if confirms_on_callback(plugin):
        await _keep_intent(state, plugin, payment, attempt, claim, correlation_id)
    try:
        observation = await plugin.fetch(attempt, claim)
    except CartChanged as exc:
        await _fail_for_cart(state, payment, claim.dedupe_key, exc.message, correlation_id)
        return CallbackOutcome.CONFLICT, exc.message
    except ProviderUnavailable as exc:
        return CallbackOutcome.RETRY, f"read-back failed: {exc.message}"
    except ReadBackUnavailable as exc:
        return CallbackOutcome.UNSUPPORTED, str(exc)
    except ProviderError as exc:
        return CallbackOutcome.REJECTED, f"provider refused: {exc.message}"
    await state.ledger.apply(payment.id, observation, correlation_id=correlation_id, source="callback")
    return CallbackOutcome.ACCEPTED, observation.raw_status


async def _keep_intent(state, plugin, payment: Payment, attempt, claim, correlation_id: str) -> None:
    """A plugin that confirms the sale inside its callback (SeQura's confirm PUT) names what it
    is about to ask, and the ledger keeps it before the call: a crash between the provider's
    answer and the ledger then leaves an intent the reconciler finishes, never a sale the
    provider holds and the shop forgot."""
    intent = plugin.confirm_intent(attempt, claim) if hasattr(plugin, "confirm_intent") else None
    if intent is not None:
        await state.ledger.apply(payment.id, intent, correlation_id=correlation_id, source="callback: before confirming")


async def _fail_for_cart(state, payment: Payment, key: str, problem: str, correlation_id: str) -> None:
    await state.ledger.apply(payment.id, Observation(
        PaymentStatus.FAILED, "cart changed", f"cart-changed:{key}",
        detail=f"Your order changed while you were paying ({problem}). Please check out again."),
        correlation_id=correlation_id, source="callback")


async def handle_return(request: Request) -> Response:
    """The shopper's browser back from the provider: read back, apply, show the order."""
    state = request.app.state
    plugin = state.plugins[request.scope["plugin_id"]]
    outcome = request.path_params["outcome"]
    with state.db() as session:
        payment = find_by_token(session, plugin.id, request.path_params["token"])
        order = session.get(Order, payment.order_id) if payment else None
    if payment is None:
        raise HTTPException(404, "This payment link is not known to the shop.")
    grant_access(request, order)
    if plugin.has_read_back and PaymentStatus(payment.status) in OPEN:
        await state.attempts.refresh(payment.id, source=f"return: {outcome}")
    if outcome == "abort":
        await _cancel_abandoned(state, plugin, payment.id)
        with state.db() as session:
            ended = session.get(Payment, payment.id)
        if ended.status == PaymentStatus.FAILED and ended.detail:
            flash(request, ended.detail, "error")  # e.g. a rejection or a changed cart: say why
        else:
            flash(request, "You left the payment page. Your cart is as you left it: check out again when you are ready.")
        return RedirectResponse("/checkout", status_code=303)
    return RedirectResponse(f"/orders/{order.public_id}", status_code=303)


async def _cancel_abandoned(state, plugin, payment_id: int) -> None:
    """The shopper left the provider's page: close the attempt there too, so that an old link
    cannot be paid later (money that arrives anyway is kept and flagged by the ledger)."""
    with state.db() as session:
        still_open = PaymentStatus(session.get(Payment, payment_id).status) in OPEN
    if still_open and Capability.CANCEL in plugin.capabilities:
        try:
            await state.attempts.cancel(payment_id)
        except (ActionRefused, ProviderError) as exc:
            log.info("%s: could not cancel abandoned payment %s: %s", plugin.id, payment_id, exc)


def plugin_mount(plugin) -> Mount:
    """/pay/<id>/: the core's callback and return routes, then the plugin's own."""

    def bound(endpoint):
        async def with_plugin(request: Request) -> Response:
            request.scope["plugin_id"] = plugin.id
            return await endpoint(request)

        return with_plugin

    routes = [
        Route("/cb/{token}", bound(handle_callback), methods=["GET", "POST", "PUT"], name="callback"),
        Route("/return/{token}/{outcome}", bound(handle_return), methods=["GET", "POST"], name="return"),
        *plugin.routes(),
    ]
    return Mount(f"/pay/{plugin.id}", routes=routes, name=plugin.id)

"""The one pipeline every provider callback and every return URL goes through.

Callback: find the payment by its token (404 if none, before the body is read and without a
row: only counted) -> read the body, at most MAX_CALLBACK_BYTES (413 past that) -> a body that
is not what its content type says gets 400 -> verify (403 if forged) -> where the plugin
confirms inside the callback, check the order still matches its cart and the stock (conflict
if not), and keep what the plugin is about to confirm -> fetch the truth from the provider (503 so it retries, nothing changed, if that
fails) -> apply through the ledger (amount and currency checked there) -> reply in the
provider's own form. Every callback to a known token is recorded with the reply it got. The
database reads and writes run in a database thread, each between two awaits."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from urllib.parse import parse_qsl

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route

from shop import admin_security
from shop.checkout import order_problem
from shop.i18n import gettext as _
from shop.i18n import use_locale
from shop.models import Order, Payment
from shop.orders import grant_access
from shop.payments import recorder
from shop.payments.attempts import ActionRefused, find_by_token
from shop.payments.base import PLAIN_REPLIES
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
from shop.security import checked_form
from shop.web import flash, render

log = logging.getLogger(__name__)


def confirms_on_callback(plugin) -> bool:
    """Plugins whose callback is where the sale is confirmed (SeQura's IPN) get the cart
    checked before they are asked to confirm."""
    return plugin.confirms_on_callback


async def handle_callback(request: Request) -> Response:
    state = request.app.state
    plugin = state.plugins[request.scope["plugin_id"]]
    token = request.path_params["token"]
    payment, attempt = await state.db.run(_payment_and_attempt, state, plugin.id, token)
    if payment is None:
        # Neither the body nor a row: guessed or stale tokens cost a counter, whatever they send.
        state.unknown_callbacks.seen()
        return reply_for(plugin, CallbackOutcome.UNKNOWN)

    correlation_id = recorder.new_correlation_id()
    content_type = request.headers.get("content-type", "")
    try:
        body = await read_body(request, callback_limit(plugin))
    except BodyTooLarge as exc:
        body, reply = b"", PlainTextResponse("payload too large", status_code=413)
        operation = f"callback {request.method}: refused unread ({exc})"
    else:
        outcome, detail = CallbackOutcome.MALFORMED, body_problem(body, content_type)
        if not detail:
            with recorder.about(payment.id, payment.order_id, correlation_id):
                outcome, detail = await _process(with_body(request, body), state, plugin, payment, attempt, body,
                                                 correlation_id)
        reply = reply_for(plugin, outcome)
        operation = f"callback {request.method}: {outcome}" + (f" ({detail})" if detail else "")
    await state.db.write(state.recorder.record, kind="callback", direction="in", operation=operation,
                         http_status=reply.status_code, body=recorder.redact(body, content_type),
                         payment_id=payment.id, order_id=payment.order_id, correlation_id=correlation_id)
    log.info("%s callback -> %s %s", plugin.id, reply.status_code, operation)
    return reply


def _payment_and_attempt(state, plugin_id: str, token: str):
    with state.db() as session:
        payment = find_by_token(session, plugin_id, token)
        return payment, state.attempts.attempt_of(session, payment) if payment else None


async def _process(request, state, plugin, payment: Payment, attempt, body: bytes, correlation_id: str):
    try:
        claim = await plugin.verify_callback(request, body, attempt)
    except CallbackRejected as exc:
        log.warning("%s: refused a callback for payment %s: %s", plugin.id, payment.id, exc)
        return CallbackOutcome.REJECTED, str(exc)
    except UnsupportedCallback as exc:
        return CallbackOutcome.UNSUPPORTED, str(exc)
    except Exception as exc:  # a body the plugin could not take apart (JSON nested too deep...): never a 500
        log.warning("%s: could not read a callback for payment %s: %r", plugin.id, payment.id, exc)
        return CallbackOutcome.MALFORMED, f"unreadable: {type(exc).__name__}"
    if claim is None:
        return CallbackOutcome.IGNORED, "nothing the shop tracks"

    if confirms_on_callback(plugin) and PaymentStatus(payment.status) in OPEN:
        problem = await state.db.run(_order_problem, state.db, payment.order_id)
        if problem:
            await _fail_for_cart(state, payment, claim.dedupe_key, problem, correlation_id)
            return CallbackOutcome.CONFLICT, problem

    if confirms_on_callback(plugin):
        await _keep_intent(state, plugin, payment, attempt, claim, correlation_id)
    try:
        with use_locale(attempt.order.customer.language):  # what it says to the shopper, in the order's language
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
    except Exception as exc:  # an answer the plugin cannot place: flag it, and let the provider ask again
        await state.db.write(state.attempts.not_understood, payment, plugin, exc, "callback", correlation_id)
        return CallbackOutcome.RETRY, f"read-back not understood: {exc}"
    await state.ledger.apply(payment.id, observation, correlation_id=correlation_id, source="callback")
    return CallbackOutcome.ACCEPTED, observation.raw_status


def _order_problem(db, order_id: int) -> str:
    with db() as session:
        return order_problem(session, session.get(Order, order_id))


async def _keep_intent(state, plugin, payment: Payment, attempt, claim, correlation_id: str) -> None:
    """A plugin that confirms the sale inside its callback (SeQura's confirm PUT) names what it
    is about to ask, and the ledger keeps it before the call: a crash between the provider's
    answer and the ledger then leaves an intent the reconciler finishes, never a sale the
    provider holds and the shop forgot."""
    intent = plugin.confirm_intent(attempt, claim)
    if intent is not None:
        await state.ledger.apply(payment.id, intent, correlation_id=correlation_id, source="callback: before confirming")


async def _fail_for_cart(state, payment: Payment, key: str, problem: str, correlation_id: str) -> None:
    await state.ledger.apply(payment.id, Observation(
        PaymentStatus.FAILED, "cart changed", f"cart-changed:{key}",
        detail=f"Your order changed while you were paying ({problem}). Please check out again."),
        correlation_id=correlation_id, source="callback")


async def handle_return(request: Request) -> Response:
    """The shopper's browser back from the provider: read back, apply, show the order. Any
    browser's visit reads the provider back (that is what makes the payment current); only the
    browser that started the checkout is shown the order: a link seen elsewhere (a log, a shared
    screen) first asks for the order's e-mail address."""
    state = request.app.state
    plugin = state.plugins[request.scope["plugin_id"]]
    outcome = request.path_params["outcome"]
    payment, order = await state.db.run(_payment_and_order, state.db, plugin.id, request.path_params["token"])
    if payment is None:
        raise HTTPException(404, _("This payment link is not known to the shop."))
    started_here = order.public_id in request.session.get("orders", [])  # this browser placed the order
    if plugin.has_read_back and PaymentStatus(payment.status) in OPEN:
        await state.attempts.refresh(payment.id, source=f"return: {outcome}")
    if outcome == "abort":
        # A provider's page posts here, or sends the browser that started the checkout; a GET of a
        # link from elsewhere (a log, a shared screen) does not cancel a payment another is making,
        # and a GET replayed once the payment moved on (authorized) cancels nothing either.
        if request.method == "POST":
            await _cancel_abandoned(state, plugin, payment.id, OPEN)
        elif started_here:
            await _cancel_abandoned(state, plugin, payment.id, AWAITING_THE_SHOPPER)
        ended = await state.db.run(_payment, state.db, payment.id)
        flash(request, *_why_back(plugin, ended, started_here))
        return RedirectResponse("/checkout", status_code=303)
    if not started_here:
        return await _email_check_page(request, plugin)
    grant_access(request, order)  # already granted at checkout: keeps it among the remembered orders
    return RedirectResponse(f"/orders/{order.public_id}", status_code=303)


def _why_back(plugin, payment: Payment, started_here: bool) -> tuple[str, str]:
    """What the checkout says to a shopper back from the provider's page without paying: the
    reason where the provider gave one, and "you left" only where the shop knows that is what
    happened (a provider without read-back closes its page the same way after a rejection)."""
    if started_here and payment.status == PaymentStatus.FAILED:
        return (payment.detail or _("%(provider)s declined the payment; no money was taken. Please choose another "
                                    "way to pay.") % {"provider": _(plugin.name)}), "error"
    if plugin.has_read_back:
        return _("You left the payment page. Your cart is as you left it: check out again when you are ready."), "info"
    return _("The payment with %(provider)s was not completed and no money was taken. Your cart is as you left it: "
             "choose how to pay again.") % {"provider": _(plugin.name)}, "info"


async def handle_email_check(request: Request) -> Response:
    """The e-mail address of the order, from a browser that came back by a return link it did not
    start: the right one grants this browser the order; a wrong one grants nothing, says only
    that it is wrong, and each order takes a few wrong ones per window (shared by all workers)."""
    state = request.app.state
    plugin = state.plugins[request.scope["plugin_id"]]
    form = await checked_form(request)
    payment, order = await state.db.run(_payment_and_order, state.db, plugin.id, request.path_params["token"])
    if payment is None:
        raise HTTPException(404, _("This payment link is not known to the shop."))
    guesses = f"order-email:{order.id}"  # counted per order, not per address: a botnet guesses no faster
    wait = await state.db.run(admin_security.retry_after_seconds, state.db, guesses)
    if wait:
        too_many = _("Too many wrong addresses: try again in %(minutes)s min.") % {"minutes": -(-wait // 60)}
        response = await _email_check_page(request, plugin, too_many, status_code=429)
        response.headers["retry-after"] = str(wait)
        return response
    if not _same_email(str(form.get("email", "")), order.email):
        await state.db.write(admin_security.record_failure, state.db, guesses)
        return await _email_check_page(request, plugin, _("That is not the e-mail address of this order."),
                                       status_code=403)
    await state.db.write(admin_security.clear_failures, state.db, guesses)
    grant_access(request, order)
    return RedirectResponse(f"/orders/{order.public_id}", status_code=303)


async def _email_check_page(request: Request, plugin, error: str = "", status_code: int = 200) -> Response:
    action = f"/pay/{plugin.id}/confirm/{request.path_params['token']}"
    return await render(request, "confirm_email.html", {"action": action, "error": error}, status_code=status_code)


def _same_email(given: str, expected: str) -> bool:
    # Addresses compare without case or surrounding spaces; digests, so the time says nothing of how much matched.
    def digest(address: str) -> bytes:
        return hashlib.sha256(address.strip().lower().encode()).digest()

    return hmac.compare_digest(digest(given), digest(expected))


def _payment_and_order(db, plugin_id: str, token: str) -> tuple[Payment | None, Order | None]:
    with db() as session:
        payment = find_by_token(session, plugin_id, token)
        return payment, session.get(Order, payment.order_id) if payment else None


def _payment(db, payment_id: int) -> Payment:
    with db() as session:
        return session.get(Payment, payment_id)


AWAITING_THE_SHOPPER = frozenset({PaymentStatus.CREATED, PaymentStatus.PENDING})


async def _cancel_abandoned(state, plugin, payment_id: int, cancellable: frozenset[PaymentStatus]) -> None:
    """The shopper left the provider's page: close the attempt there too, so that an old link
    cannot be paid later (money that arrives anyway is kept and flagged by the ledger)."""
    still_open = PaymentStatus((await state.db.run(_payment, state.db, payment_id)).status) in cancellable
    if still_open and Capability.CANCEL in plugin.capabilities:
        try:
            await state.attempts.cancel(payment_id)
        except (ActionRefused, ProviderError) as exc:
            log.info("%s: could not cancel abandoned payment %s: %s", plugin.id, payment_id, exc)


# --------------------------------------------------------------------------- bounded bodies

MAX_CALLBACK_BYTES = 1024 * 1024  # no provider's callback comes near; a plugin may declare less


class BodyTooLarge(Exception):
    """The body passes the limit; it was not read whole."""


def callback_limit(plugin) -> int:
    declared = plugin.max_callback_bytes
    return min(declared, MAX_CALLBACK_BYTES) if declared else MAX_CALLBACK_BYTES


async def read_body(request: Request, limit: int) -> bytes:
    """The body, or BodyTooLarge as soon as it is known to pass ``limit``: from Content-Length
    before anything is read, else while it streams in (chunked), never holding more than that."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(f"Content-Length {declared} is over {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(f"over {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def with_body(request: Request, body: bytes) -> Request:
    """The request again, its body already read: a plugin may still call request.body()."""
    sent = False

    async def receive():
        nonlocal sent
        if sent:
            return await request.receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return Request(request.scope, receive)


def body_problem(body: bytes, content_type: str) -> str:
    """Why a body is not the JSON or form its content type says it is; "" when it is (or says neither)."""
    kind = content_type.partition(";")[0].strip().lower()
    if not body:
        return ""
    try:
        if kind == "application/json" or kind.endswith("+json"):
            json.loads(body)
        elif kind == "application/x-www-form-urlencoded":
            parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=True)
    except RecursionError:
        return "JSON nested too deeply"
    except ValueError:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        return f"not valid {kind}"
    return ""


def reply_for(plugin, outcome: CallbackOutcome) -> Response:
    """The plugin's answer; a plugin whose replies predate an outcome gets the plain one for it."""
    try:
        return plugin.callback_reply(outcome)
    except KeyError:
        status, text = PLAIN_REPLIES[outcome]
        return PlainTextResponse(text, status_code=status)


class UnknownCallbacks:
    """Callbacks to tokens no payment has: counted, and told in one log line at most every
    ``every`` seconds however many arrive (a flood must not become a flood of log lines)."""

    def __init__(self, every: float = 60.0, clock=time.monotonic) -> None:
        self.every = every
        self.clock = clock
        self.total = 0
        self._untold = 0
        self._since = clock()
        self._told_at: float | None = None

    def seen(self) -> None:
        self.total += 1
        self._untold += 1
        now = self.clock()
        if self._told_at is None or now - self._told_at >= self.every:
            log.warning("%d callbacks with unknown tokens in the last %.0f s", self._untold, now - self._since)
            self._untold, self._since, self._told_at = 0, now, now


# --------------------------------------------------------------------------- mounting


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
        Route("/confirm/{token}", bound(handle_email_check), methods=["POST"], name="confirm_email"),
        *plugin.routes(),
    ]
    return Mount(f"/pay/{plugin.id}", routes=routes, name=plugin.id)

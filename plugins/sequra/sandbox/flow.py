"""What happens after the shopper finishes the form: the decision, the IPN, the review outcome
and the events webhook. Callbacks leave from background tasks, never from the request that
caused them: the shop calls the sandbox back (PUT confirm) while the IPN is open."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from urllib.parse import urlencode

import httpx

from shop.testing.driver import CallbackRequest

from .state import SandboxOrder, SandboxState

FORM_HEADERS = {"Content-Type": "application/x-www-form-urlencoded; charset=UTF-8"}
EVENT_HEADERS = {**FORM_HEADERS, "Accept": "application/json", "User-Agent": "SeQura-Event/1.0 (www.sequra.es)"}
CONFIRMS = {"approved": "confirmed", "needs_review": "on_hold"}  # IPN state -> the PUT that answers it
REVIEW_PHRASES = {"review test approve": "review_approve", "review test cancel": "review_cancel"}


def magic_decision(order: SandboxOrder) -> str:
    """The spec's test data: "Review Test Approve"/"Cancel" names; ours: "Reject Test" or under 18."""
    customer = order.payload.get("customer") or {}
    given = order.shopper.get("given_names") or customer.get("given_names") or ""
    surnames = order.shopper.get("surnames") or customer.get("surnames") or ""
    for text in (f"{given} {surnames}", given, surnames):
        decision = REVIEW_PHRASES.get(" ".join(text.lower().split()))
        if decision:
            return decision
    if "reject test" in f"{given} {surnames}".lower():
        return "reject"
    dob = order.shopper.get("date_of_birth") or customer.get("date_of_birth") or ""
    try:
        born = dt.date.fromisoformat(dob)
    except ValueError:
        return "approve"
    today = dt.date.today()
    age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    return "reject" if age < 18 else "approve"


def return_url(order: SandboxOrder) -> str | None:
    url = order.merchant.get("return_url")
    return url.replace("SQ_PRODUCT_CODE", order.product or "") if url else None


def decide(state: SandboxState, order: SandboxOrder) -> None:
    """The shopper finished identification (and card): SeQura decides."""
    decision = state.scenario.decision
    if decision == "auto":
        decision = magic_decision(order)
    if decision == "reject":
        order.state, order.step = "rejected", "reject"
        order.message = "SeQura cannot offer this payment method for this purchase."
        order.note("rejected by the form")
        return
    if decision in ("review_approve", "review_cancel"):
        order.state, order.review = "needs_review", decision.removeprefix("review_")
        order.step = "wait_for_on_hold"
    else:
        order.state, order.step = "approved", "wait_for_confirmation"
    order.note(f"decision: {order.state}")
    if not order.merchant.get("notify_url"):
        # Isolated till: no IPN; the phone shows the approval, the operator confirms.
        order.step = "approved_offline" if order.state == "approved" else "show_on_hold"
        order.message = ("Approved. Show this screen to the shop assistant, who will confirm the sale."
                         if order.state == "approved" else "SeQura is reviewing the purchase.")
        if order.review:
            schedule_review(state, order)
        return
    send_ipn(state, order, order.state)


def ipn_request(order: SandboxOrder, sq_state: str) -> CallbackRequest:
    fields = dict(order.merchant.get("notification_parameters") or {})  # echoed unprefixed
    # order_ref_1 always, as in SeQura's own fixture: empty until the shop registered its reference.
    fields.update({"order_ref": order.uuid, "order_ref_1": order.order_ref_1 or "", "product_code": order.product or "i1",
                   "sq_state": sq_state, f"{sq_state}_since": "0"})
    return CallbackRequest("POST", order.merchant["notify_url"], dict(FORM_HEADERS), urlencode(fields).encode())


def event_request(order: SandboxOrder, event: str, **extra: str) -> CallbackRequest | None:
    hook = order.merchant.get("events_webhook") or {}
    if not hook.get("url"):
        return None
    fields = {"charset": "UTF-8", "utf8": "√", "event": event, "order_ref_1": order.order_ref_1 or "",
              "order_ref_2": order.order_ref_2 or "", "order_ref": order.uuid}
    fields.update({f"m_{k}": v for k, v in (hook.get("parameters") or {}).items()})
    fields.update(extra)
    return CallbackRequest("POST", hook["url"], dict(EVENT_HEADERS), urlencode(fields).encode())


def send_ipn(state: SandboxState, order: SandboxOrder, sq_state: str) -> None:
    request = ipn_request(order, sq_state)
    if state.hold_callbacks:
        state.held.append(request)
        return
    order.ipn_in_flight = True
    state.spawn(deliver_ipn(state, order, sq_state, request))


async def _post(state: SandboxState, request: CallbackRequest, timeout: float) -> int | None:
    sent_at, started = time.time(), time.monotonic()
    try:
        response = await state.outbound.request(request.method, request.url, headers=dict(request.headers),
                                                content=request.body, timeout=timeout)
        status: int | None = response.status_code
    except httpx.HTTPError:
        status = None
    elapsed = time.monotonic() - started
    state.deliveries.append({"url": request.url, "status": status, "ms": round(elapsed * 1000),
                             "us": round(elapsed * 1_000_000), "sent_at": sent_at, "body": request.body.decode()})
    return status


async def deliver_ipn(state: SandboxState, order: SandboxOrder, sq_state: str, request: CallbackRequest) -> None:
    try:
        await _deliver_ipn(state, order, sq_state, request)
    finally:
        order.ipn_in_flight = False


async def _deliver_ipn(state: SandboxState, order: SandboxOrder, sq_state: str, request: CallbackRequest) -> None:
    scenario = state.scenario
    if scenario.delivery == "lost":
        order.note(f"IPN {sq_state} lost (scenario)")
        order.message = "Waiting for the shop to confirm..."
        return
    if scenario.delivery == "slow":
        await asyncio.sleep(scenario.slow_seconds)
    wanted = CONFIRMS[sq_state]
    for attempt in range(1 + max(0, scenario.ipn_retries)):
        if attempt:
            await asyncio.sleep(scenario.ipn_retry_after)
        status = await _post(state, request, scenario.ipn_timeout)
        if scenario.delivery == "repeated":
            status = await _post(state, request, scenario.ipn_timeout) or status
        order.note(f"IPN {sq_state} -> {status or 'no answer'}")
        answered = status is not None and 200 <= status < 300 and order.state == wanted
        if answered or status in (409, 410):
            break
    after_ipn(state, order, sq_state, status)


def after_ipn(state: SandboxState, order: SandboxOrder, sq_state: str, status: int | None) -> None:
    """The form's next step from the shop's answer and whether the shop PUT the state.

    A 2xx sends the shopper back to ``return_url`` ([doc] §8.5, §9.4: "Finally, SeQura will
    automatically redirect to the return_url"), also when the shop's PUT has not arrived yet:
    the shop took the order and confirms it later; SeQura keeps it approved until then."""
    wanted = CONFIRMS[sq_state]
    if status is not None and 200 <= status < 300:
        order.step = "finish" if wanted == "confirmed" else "show_on_hold"
        order.redirect = return_url(order)
        if order.state == wanted:
            if wanted == "on_hold":
                schedule_review(state, order)
        else:
            order.note(f"IPN answered {status} without the {wanted} PUT: the shopper goes back to the shop")
    elif status in (409, 410):
        order.state, order.step = "cancelled", "show_conflict"
        order.message = "The shop could not accept the order. Please start the checkout again."
        order.note("cancelled: the shop refused the IPN")
    else:
        order.step = "show_error"
        order.message = "The shop did not answer. Your order was not placed."


WAITING = ("wait_for_confirmation", "wait_for_on_hold")


def put_while_waiting(state: SandboxState, order: SandboxOrder, wanted: str) -> None:
    """The shop's PUT came with no IPN on its way (it was lost): the form, which polls SeQura,
    moves on as if the IPN had been answered. [sandbox] SeQura does not document this case."""
    if order.ipn_in_flight or order.step not in WAITING:
        return
    order.note(f"{wanted} by PUT while the form waited: the shopper goes back to the shop")
    after_ipn(state, order, next(ipn for ipn, put in CONFIRMS.items() if put == wanted), 200)


def schedule_review(state: SandboxState, order: SandboxOrder) -> None:
    if order.review and not state.hold_callbacks and (order.timer is None or order.timer.done()):
        order.timer = state.spawn(_review_later(state, order), timer=True)


async def _review_later(state: SandboxState, order: SandboxOrder) -> None:
    await asyncio.sleep(state.scenario.review_delay)
    if order.state in ("on_hold", "needs_review") and order.review:
        finish_review(state, order, order.review)


def finish_review(state: SandboxState, order: SandboxOrder, outcome: str) -> None:
    """The review is over: second IPN ``approved``, or event ``cancelled``."""
    order.review = None
    if order.timer and order.timer is not asyncio.current_task():
        order.timer.cancel()  # decided from the control page before the delay ran out
    order.timer = None
    if outcome == "approve":
        order.state = "approved"
        order.note("review passed")
        if order.merchant.get("notify_url"):
            send_ipn(state, order, "approved")
        else:
            order.step = "approved_offline"
    else:
        order.state = "cancelled"
        order.step = "reject"
        order.note("review failed: cancelled")
        send_event(state, order, "cancelled")


def send_event(state: SandboxState, order: SandboxOrder, event: str, **extra: str) -> None:
    request = event_request(order, event, **extra)
    if request is None:
        return
    if state.hold_callbacks:
        state.held.append(request)
        return
    state.spawn(deliver_event(state, order, event, request))


async def deliver_event(state: SandboxState, order: SandboxOrder, event: str, request: CallbackRequest) -> None:
    """Eyewear webhook policy, shortened: 5 s an attempt, retried with backoff; 2xx or 501 is done."""
    for attempt in range(max(1, state.scenario.event_attempts)):
        status = await _post(state, request, 5.0)
        order.note(f"event {event} -> {status or 'no answer'}")
        if status is not None and (200 <= status < 300 or status == 501):
            return
        if attempt + 1 < state.scenario.event_attempts:
            await asyncio.sleep(state.scenario.event_backoff * (2 ** attempt))

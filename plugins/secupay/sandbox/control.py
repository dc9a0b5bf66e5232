"""The control page at the mount root: transactions, scenarios and the back office's hand."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from .api import own_base, state
from .checkout import money, templates
from .errors import ApiError
from .state import CLIENT_ID, CONTRACT, PAID_STX, SIMPLE_TEXT, Sandbox, Scenarios, Stx

ACTIONS = {
    "receive": ("transfer received", Sandbox.receive_transfer),
    "accept": ("accept after review", Sandbox.accept_review),
    "cancel": ("cancel", Sandbox.cancel),
    "fail": ("fail", Sandbox.fail),
    "chargeback": ("chargeback", Sandbox.chargeback),
    "repush": ("push again", None),
}


def _actions(sandbox: Sandbox, stx: Stx) -> list[tuple[str, str]]:
    pci = sandbox.pci.get(stx.pci_id or "")
    out = []
    if pci and pci.method == "prepaid" and stx.status == "pending":
        out.append(("receive", ACTIONS["receive"][0]))
    if pci and pci.simple == 10 and pci.method != "prepaid":
        out.append(("accept", ACTIONS["accept"][0]))
    if stx.status not in PAID_STX and stx.status not in ("failed", "cancelled"):
        out += [("cancel", "cancel"), ("fail", "fail")]
    if pci and pci.executed:
        out.append(("chargeback", "chargeback"))
    if pci:
        out.append(("repush", "push again"))
    return out


async def index(request: Request) -> Response:
    sandbox = state(request)
    rows = [{"stx": s, "pci": sandbox.pci.get(s.pci_id or ""), "actions": _actions(sandbox, s)}
            for s in reversed(list(sandbox.stx.values()))]
    pushes = list(reversed(list(enumerate(sandbox.pusher.log))))[:100]
    return templates.TemplateResponse(request, "control.html", {
        "base": own_base(request), "s": sandbox.scenarios, "transactions": rows, "pushes": pushes,
        "money": money, "simple_text": SIMPLE_TEXT, "links": sandbox.links, "lang": "en",
        "token_fetches": sandbox.token_fetches, "client_id": CLIENT_ID, "contract": CONTRACT,
        "message": request.query_params.get("message", ""),
    })


def _back(request: Request, message: str = "") -> Response:
    url = f"{own_base(request)}/"
    if message:
        url += f"?message={quote(message)}"
    return RedirectResponse(url, status_code=303)


async def scenarios(request: Request) -> Response:
    set_scenarios(state(request), await request.form())
    return _back(request, "Scenarios saved.")


async def reset(request: Request) -> Response:
    """The control API's reset (the store's "Reset the demo" calls it): a fresh contract."""
    state(request).reset()
    return Response(status_code=204)


async def demo_scenario(request: Request) -> Response:
    """The scenario a demo flow needs: the defaults, then the posted switches (the control form's fields)."""
    sandbox = state(request)
    sandbox.scenarios = Scenarios()
    set_scenarios(sandbox, await request.form())
    return Response(status_code=204)


def set_scenarios(sandbox: Sandbox, form) -> None:
    """The switches the control form sends; a value secupay does not know leaves its switch alone."""
    s = sandbox.scenarios
    if form.get("outcome") in ("normal", "reject", "review"):
        s.outcome = form["outcome"]
    if form.get("push") in ("normal", "lost", "late", "repeated", "reordered"):
        s.push = form["push"]
        if s.push != "reordered":
            sandbox.pusher.flush()
    if form.get("api") in ("normal", "slow", "error"):
        s.api = form["api"]
    if form.get("token_refusal") in ("401", "403"):
        s.token_refusal = int(form["token_refusal"])
    if form.get("prepaid_simple") in ("2", "10"):
        s.prepaid_simple = int(form["prepaid_simple"])
    if str(form.get("token_lifetime", "")).isdigit() and int(form["token_lifetime"]) > 0:
        s.token_lifetime = int(form["token_lifetime"])


async def act(request: Request) -> Response:
    sandbox = state(request)
    stx = sandbox.stx.get(request.path_params["stx"])
    action = request.path_params["action"]
    if stx is None or action not in ACTIONS:
        return Response("Unknown transaction or action", status_code=404, media_type="text/plain")
    try:
        if action == "repush":
            if not stx.pci_id:
                raise ApiError(403, "ProductNotAllowedException", "no payment transaction to push", 1003)
            sandbox.push(sandbox.pci[stx.pci_id])
        else:
            ACTIONS[action][1](sandbox, stx)
    except ApiError as exc:
        return _back(request, exc.details)
    return _back(request, f"{stx.id}: {ACTIONS[action][0]} done.")


async def refund(request: Request) -> Response:
    """A refund made in secupay's back office (secuOffice): the shop only hears of it by push."""
    sandbox = state(request)
    stx = sandbox.stx.get(request.path_params["stx"])
    if stx is None or not stx.pci_id:
        return Response("Unknown transaction", status_code=404, media_type="text/plain")
    text = str((await request.form()).get("amount", "")).replace(",", ".").strip()
    try:
        cents = int((Decimal(text) * 100).to_integral_value(ROUND_HALF_UP)) if text else None
        sandbox.reduce(sandbox.pci[stx.pci_id], cents, "secuOffice")
    except InvalidOperation:
        return _back(request, "Type an amount such as 5.00, or nothing for all that is left.")
    except ApiError as exc:
        return _back(request, exc.details)
    return _back(request, f"{stx.id}: refunded in the back office.")


async def resend(request: Request) -> Response:
    pusher = state(request).pusher
    index = request.path_params["index"]
    if not 0 <= index < len(pusher.log):
        return Response("Unknown push", status_code=404, media_type="text/plain")
    pusher.resend(pusher.log[index])
    return _back(request, "Push sent again.")


async def snapshot(request: Request) -> Response:
    """What the control page shows, as JSON: for benches and scripts that check a run afterwards."""
    sandbox = state(request)
    transactions = []
    for stx in sandbox.stx.values():
        pci = sandbox.pci.get(stx.pci_id or "")
        transactions.append({
            "id": stx.id, "merchant_ref": stx.request.get("merchantRef"), "status": stx.status,
            "amount": stx.amount, "currency": stx.currency, "payment_method": stx.payment_method,
            "pci": None if pci is None else {"id": pci.id, "simple": pci.simple, "amount": pci.amount,
                                               "reduced": pci.reduced, "children": list(pci.children)},
        })
    pushes = [{"event": p.event, "stx_id": p.stx_id, "pci_id": p.body["data"][0]["id"], "state": p.state,
               "attempts": list(p.attempts)} for p in sandbox.pusher.log]
    return JSONResponse({"token_fetches": sandbox.token_fetches, "transactions": transactions, "pushes": pushes})


async def expire_tokens(request: Request) -> Response:
    state(request).expire_tokens()
    return _back(request, "All tokens expired.")


def routes() -> list[Route]:
    return [
        Route("/", index, methods=["GET"]),
        Route("/control/scenarios", scenarios, methods=["POST"]),
        # A read-back for tests: a served sandbox leaves it out unless the test harness asks (shop.sandbox_host).
        Route("/control/state.json", snapshot, methods=["GET"], name="test_readback_state"),
        Route("/control/tokens/expire", expire_tokens, methods=["POST"]),
        Route("/control/reset", reset, methods=["POST"]),
        Route("/control/demo-scenario", demo_scenario, methods=["POST"]),
        Route("/control/stx/{stx}/refund", refund, methods=["POST"]),
        Route("/control/stx/{stx}/{action}", act, methods=["POST"]),
        Route("/control/push/{index:int}/resend", resend, methods=["POST"]),
    ]

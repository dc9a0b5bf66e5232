"""Templatepay played on loopback: its JSON API under /api, the hosted payment page where the
shopper pays, and a control page with scenarios (notifications sent, held or lost; API down)."""

from __future__ import annotations

import hmac
from html import escape

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from .state import NOTIFY_MODES, Payment, Sandbox

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<meta name="viewport" content="width=device-width,initial-scale=1">
<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem}}
button{{font:inherit;margin:.2rem}}td,th{{padding:.2rem .6rem;text-align:left}}</style></head>
<body><h1>{title}</h1>{body}</body></html>"""


def _page(title: str, body: str, status_code: int = 200) -> HTMLResponse:
    return HTMLResponse(PAGE.format(title=escape(title), body=body), status_code=status_code)


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


def _sandbox(request: Request) -> Sandbox:
    return request.app.state.sandbox


def _pay_url(request: Request, payment: Payment) -> str:
    # From the address the sandbox is reached at: mounted under /sandbox/templatepay/ or served alone.
    return f"{request.base_url}pay/{payment.id}"


# --------------------------------------------------------------------------- the API


def _refused(request: Request) -> Response | None:
    sandbox = _sandbox(request)
    if not hmac.compare_digest(request.headers.get("authorization", "").encode(),
                               f"Bearer {sandbox.api_key}".encode()):
        return _error(401, "unauthorized", "Missing or wrong API key.")
    if sandbox.api_down:
        return _error(503, "unavailable", "The API is down (scenario).")
    return None


async def create_payment(request: Request) -> Response:
    if (refused := _refused(request)) is not None:
        return refused
    try:
        body = await request.json()
    except ValueError:
        return _error(400, "bad_request", "The body is not JSON.")
    amount = body.get("amount")
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        return _error(422, "invalid_amount", "amount must be a positive integer of cents")
    sandbox = _sandbox(request)
    payment = Payment(sandbox.new_id("pay"), amount, str(body.get("currency", "EUR")), str(body.get("reference", "")),
                      str(body.get("return_url", "")), str(body.get("notify_url", "")))
    sandbox.payments[payment.id] = payment
    return JSONResponse(payment.as_json(_pay_url(request, payment)), status_code=201)


def _find(request: Request) -> Payment | None:
    return _sandbox(request).payments.get(request.path_params["payment_id"])


async def read_payment(request: Request) -> Response:
    if (refused := _refused(request)) is not None:
        return refused
    if (payment := _find(request)) is None:
        return _error(404, "not_found", "No such payment.")
    return JSONResponse(payment.as_json(_pay_url(request, payment)))


async def cancel_payment(request: Request) -> Response:
    if (refused := _refused(request)) is not None:
        return refused
    if (payment := _find(request)) is None:
        return _error(404, "not_found", "No such payment.")
    if payment.status != "open":
        return _error(409, "not_open", f"A {payment.status} payment cannot be cancelled.")
    _sandbox(request).settle(payment, "cancelled")
    return JSONResponse(payment.as_json(_pay_url(request, payment)))


async def refund_payment(request: Request) -> Response:
    if (refused := _refused(request)) is not None:
        return refused
    if (payment := _find(request)) is None:
        return _error(404, "not_found", "No such payment.")
    amount = (await request.json()).get("amount")
    if payment.status != "paid":
        return _error(409, "not_paid", "Only a paid payment can be refunded.")
    if not isinstance(amount, int) or amount <= 0 or payment.refunded + amount > payment.amount:
        return _error(422, "invalid_amount", "The refund is more than what is left.")
    return JSONResponse(_sandbox(request).refund(payment, amount), status_code=201)


# --------------------------------------------------------------------------- the hosted page


async def pay_page(request: Request) -> Response:
    if (payment := _find(request)) is None:
        return _page("Templatepay", "<p>There is no such payment.</p>", 404)
    if payment.status != "open":
        return _page("Templatepay", f"<p>This payment is {escape(payment.status)}.</p>"
                     f'<p><a href="{escape(payment.return_url)}">Back to the shop</a></p>')
    amount = f"{payment.amount / 100:.2f} {escape(payment.currency)}"
    return _page("Templatepay", f"<p>Pay <strong>{amount}</strong> for order {escape(payment.reference)}.</p>"
                 '<form method="post"><button name="action" value="paid">Pay</button>'
                 '<button name="action" value="declined">Decline</button></form>')


async def pay_submit(request: Request) -> Response:
    if (payment := _find(request)) is None or payment.status != "open":
        return _page("Templatepay", "<p>This payment cannot be paid.</p>", 409)
    action = (await request.form()).get("action")
    if action not in ("paid", "declined"):
        return _page("Templatepay", "<p>Choose Pay or Decline.</p>", 400)
    _sandbox(request).settle(payment, str(action))
    return RedirectResponse(payment.return_url, status_code=303)


# --------------------------------------------------------------------------- the control page


async def control(request: Request) -> Response:
    sandbox = _sandbox(request)
    modes = "".join(f'<option{" selected" if m == sandbox.notify_mode else ""}>{m}</option>' for m in NOTIFY_MODES)
    rows = "".join(f"<tr><td>{escape(p.id)}</td><td>{escape(p.reference)}</td><td>{p.amount / 100:.2f}</td>"
                   f"<td>{escape(p.status)}</td><td>{p.refunded / 100:.2f}</td></tr>"
                   for p in reversed(sandbox.payments.values()))
    return _page("Templatepay sandbox", (
        '<form method="post" action="scenarios"><p><label>Notifications <select name="notify_mode">'
        f'{modes}</select></label> <label><input type="checkbox" name="api_down"{" checked" if sandbox.api_down else ""}>'
        ' The API answers 503</label> <button>Set</button></p></form>'
        f"<p>{len(sandbox.held)} notification(s) held.</p>"
        "<table><tr><th>Payment</th><th>Order</th><th>Amount</th><th>Status</th><th>Refunded</th></tr>"
        f"{rows}</table>"))


async def set_scenarios(request: Request) -> Response:
    _apply_scenario(_sandbox(request), await request.form())
    return RedirectResponse(str(request.base_url), status_code=303)


def _apply_scenario(sandbox: Sandbox, form) -> None:
    mode = form.get("notify_mode")
    if mode in NOTIFY_MODES:
        sandbox.notify_mode = str(mode)
    sandbox.api_down = form.get("api_down") == "on"


# --------------------------------------------------------------------------- the control API
# What the store calls in demo mode (shop/sandbox_control.py): "Reset the demo", and a demo flow's
# "Try it" setting the scenario it needs (the switches of the control page's own form).


async def reset(request: Request) -> Response:
    _sandbox(request).reset()
    return Response(status_code=204)


async def demo_scenario(request: Request) -> Response:
    sandbox = _sandbox(request)
    sandbox.reset_scenario()
    _apply_scenario(sandbox, await request.form())
    return Response(status_code=204)


def create_sandbox(outbound: httpx.AsyncClient | None, *, api_key: str, webhook_secret: str) -> Starlette:
    app = Starlette(routes=[
        Route("/", control),
        Route("/scenarios", set_scenarios, methods=["POST"]),
        Route("/control/reset", reset, methods=["POST"]),
        Route("/control/demo-scenario", demo_scenario, methods=["POST"]),
        Route("/api/payments", create_payment, methods=["POST"]),
        Route("/api/payments/{payment_id}", read_payment),
        Route("/api/payments/{payment_id}/cancel", cancel_payment, methods=["POST"]),
        Route("/api/payments/{payment_id}/refunds", refund_payment, methods=["POST"]),
        Route("/pay/{payment_id}", pay_page),
        Route("/pay/{payment_id}", pay_submit, methods=["POST"]),
    ])
    app.state.sandbox = Sandbox(outbound, api_key, webhook_secret)
    return app


__all__ = ["create_sandbox"]

"""The sandbox bank's routes: its JSON API under /v1, the online-banking page, the control page."""

from __future__ import annotations

import asyncio
import hmac
from html import escape
from urllib.parse import urlsplit

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from plugins.banktransfer.sandbox.state import READ_MODES, WEBHOOK_MODES, Bank, ExpectedCredit


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


def _authorised(request: Request, bank: Bank) -> bool:
    given = request.headers.get("authorization", "")
    return hmac.compare_digest(given.encode(), f"Bearer {bank.api_key}".encode())


def _bank(request: Request) -> Bank:
    return request.app.state.sandbox


async def _api_guard(request: Request) -> Response | None:
    bank = _bank(request)
    if not _authorised(request, bank):
        return _error(401, "unauthorized", "Missing or wrong API key.")
    if bank.read_mode == "error":
        return _error(503, "unavailable", "The bank's API is down for maintenance (scenario).")
    if bank.read_mode == "slow":
        await asyncio.sleep(15)
    return None


async def create_expected(request: Request) -> Response:
    if (refused := await _api_guard(request)) is not None:
        return refused
    bank = _bank(request)
    try:
        body = await request.json()
    except ValueError:
        return _error(400, "bad_request", "The body is not JSON.")
    problems = []
    amount = body.get("amount")
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        problems.append("amount must be a positive integer of cents")
    if body.get("currency") != "EUR":
        problems.append("currency must be EUR")
    reference = body.get("reference")
    if not isinstance(reference, str) or not 1 <= len(reference) <= 140:
        problems.append("reference must be 1 to 140 characters")
    elif bank.by_reference(reference):
        problems.append("reference is already used")
    if body.get("iban") != bank.iban:
        problems.append("iban is not an account of this merchant")
    url = body.get("notify_url", "")
    if not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https"):
        problems.append("notify_url must be an http(s) URL")
    if problems:
        return _error(422, "invalid_request", "; ".join(problems))
    expected = ExpectedCredit(bank.next_id("exc"), reference, amount, "EUR", body["iban"], url)
    bank.expected[expected.id] = expected
    return JSONResponse(expected.as_json(), status_code=201)


def _find(request: Request) -> ExpectedCredit | None:
    return _bank(request).expected.get(request.path_params["credit_id"])


async def read_expected(request: Request) -> Response:
    if (refused := await _api_guard(request)) is not None:
        return refused
    expected = _find(request)
    if expected is None:
        return _error(404, "not_found", "No such expected credit.")
    return JSONResponse(expected.as_json())


async def cancel_expected(request: Request) -> Response:
    if (refused := await _api_guard(request)) is not None:
        return refused
    expected = _find(request)
    if expected is None:
        return _error(404, "not_found", "No such expected credit.")
    if expected.status == "credited":
        return _error(409, "already_credited", "The money has arrived; it cannot be cancelled.")
    expected.status = "cancelled"
    return JSONResponse(expected.as_json())


# --------------------------------------------------------------------------- pages

STYLE = """<style>body{font:15px/1.5 system-ui,sans-serif;max-width:900px;margin:1rem auto;padding:0 1rem;color:#1d2330}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.35rem;text-align:left}
header{background:#0b5c3b;color:#fff;padding:.6rem 1rem;border-radius:6px}button{font:inherit;padding:.3rem .7rem}
input{font:inherit;padding:.3rem}.ok{color:#067647}.muted{color:#667085}form{display:inline}
td,pre{overflow-wrap:anywhere}pre{white-space:pre-wrap}@media (max-width:720px){table{display:block;overflow-x:auto}}
</style>"""


def _page(title: str, body: str) -> HTMLResponse:
    return HTMLResponse(f"<!doctype html><html lang=en><head><meta charset=utf-8><meta name=viewport "
                        f"content='width=device-width,initial-scale=1'><title>{escape(title)}</title>{STYLE}</head>"
                        f"<body><header><strong>Sandbox Bank</strong> · {escape(title)}</header>{body}</body></html>")


async def control(request: Request) -> Response:
    bank = _bank(request)
    rows = "".join(
        f"<tr><td><code>{e.id}</code></td><td>{escape(e.reference)}</td><td>{e.amount / 100:.2f} {e.currency}</td>"
        f"<td>{e.received / 100:.2f}</td><td class='status'>{e.status}</td><td>"
        f"<form method=post action='book'><input type=hidden name=id value='{e.id}'>"
        f"<input type=hidden name=amount value='{(e.amount - e.received) / 100:.2f}'>"
        f"<button>Book transfer</button></form></td></tr>"
        for e in reversed(list(bank.expected.values())))
    def options(values, current):
        return "".join(f"<option{' selected' if v == current else ''}>{v}</option>" for v in values)
    body = (f"<h1>Control</h1><form method=post action='scenario'><label>Webhook: <select name=webhook>"
            f"{options(WEBHOOK_MODES, bank.webhook_mode)}</select></label> <label>API: <select name=read>"
            f"{options(READ_MODES, bank.read_mode)}</select></label> <button>Set</button></form>"
            f"<p class=muted>send: one signed webhook · lost: none · repeat: twice · late: after "
            f"{bank.late_seconds:g} s · hold: kept for tests · API error: 503 on every call · slow: 15 s</p>"
            f"<h2>Expected credits</h2><table><tr><th>Id</th><th>Reference</th><th>Amount</th><th>Received</th>"
            f"<th>Status</th><th></th></tr>{rows or '<tr><td colspan=6>None yet.</td></tr>'}</table>"
            f"<p><a href='bank'>Online banking (the shopper's side)</a></p>"
            f"<h2>Log</h2><pre>{escape(chr(10).join(bank.log[-30:]))}</pre>")
    return _page("Control page", body)


async def state_json(request: Request) -> Response:
    """Every expected credit with its status and the money booked against it, for benches."""
    return JSONResponse({"expected_credits": [e.as_json() for e in _bank(request).expected.values()]})


async def set_scenario(request: Request) -> Response:
    form = await request.form()
    _bank(request).set_scenario(form.get("webhook"), form.get("read"))
    return RedirectResponse("./", status_code=303)  # back to the control page, wherever mounted


async def reset(request: Request) -> Response:
    """The control API's reset (the store's "Reset the demo" calls it): a fresh account."""
    _bank(request).reset()
    return Response(status_code=204)


async def demo_scenario(request: Request) -> Response:
    """The scenario a demo flow needs: the defaults, then the posted switches (the control form's fields)."""
    bank = _bank(request)
    form = await request.form()
    bank.reset_scenario()
    bank.set_scenario(form.get("webhook"), form.get("read"))
    return Response(status_code=204)


def _parse_cents(raw: str) -> int | None:
    try:
        value = round(float(raw.replace(",", ".")) * 100)
    except ValueError:
        return None
    return value if value > 0 else None


async def book_from_control(request: Request) -> Response:
    bank = _bank(request)
    form = await request.form()
    expected = bank.expected.get(str(form.get("id", "")))
    amount = _parse_cents(str(form.get("amount", "")))
    if expected and amount:
        bank.book(expected, amount, "Demo Payer")
    return RedirectResponse("./", status_code=303)  # back to the control page, wherever mounted


async def online_banking(request: Request) -> Response:
    bank = _bank(request)
    message = ""
    if request.method == "POST":
        form = await request.form()
        expected = bank.by_reference(str(form.get("reference", "")))
        amount = _parse_cents(str(form.get("amount", "")))
        iban = str(form.get("iban", "")).replace(" ", "").upper()
        if iban != bank.iban:
            message = "<p role=alert>That IBAN is not the shop's account.</p>"
        elif amount is None:
            message = "<p role=alert>Enter the amount, like 12.50.</p>"
        elif expected is None:
            message = "<p role=alert>No payment with that reference is expected; check the reference.</p>"
        else:
            bank.book(expected, amount, str(form.get("payer", "")) or "A shopper")
            message = f"<p class=ok role=status>Sent {amount / 100:.2f} EUR with reference {escape(expected.reference)}.</p>"
    body = (f"<h1>Send a transfer</h1>{message}<form method=post style='display:grid;gap:.5rem;max-width:420px'>"
            f"<label>Your name <input name=payer value='Demo Payer'></label>"
            f"<label>To (IBAN) <input name=iban value='{escape(bank.iban)}'></label>"
            f"<label>Beneficiary <input name=owner value='{escape(bank.account_owner)}' readonly></label>"
            f"<label>Amount (EUR) <input name=amount inputmode=decimal required></label>"
            f"<label>Reference <input name=reference required></label><button>Send transfer</button></form>")
    return _page("Online banking", body)


def create_sandbox(outbound: httpx.AsyncClient, *, api_key: str, webhook_secret: str, iban: str,
                   account_owner: str, late_seconds: float = 3.0) -> Starlette:
    app = Starlette(routes=[
        Route("/", control, name="sandbox_control"),
        Route("/state.json", state_json),
        Route("/scenario", set_scenario, methods=["POST"]),
        Route("/book", book_from_control, methods=["POST"]),
        Route("/control/reset", reset, methods=["POST"]),
        Route("/control/demo-scenario", demo_scenario, methods=["POST"]),
        Route("/bank", online_banking, methods=["GET", "POST"], name="online_banking"),
        Route("/v1/expected-credits", create_expected, methods=["POST"]),
        Route("/v1/expected-credits/{credit_id}", read_expected),
        Route("/v1/expected-credits/{credit_id}/cancel", cancel_expected, methods=["POST"]),
    ])
    app.state.sandbox = Bank(outbound, api_key=api_key, webhook_secret=webhook_secret, iban=iban,
                             account_owner=account_owner, late_seconds=late_seconds)
    return app

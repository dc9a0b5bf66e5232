"""The sandbox's control plane, outside SeQura's namespace: the control page at ``/``,
scenario switches, a read-back of an order for tests (``/_control/orders/<uuid>``), review
decisions, and the SMS inbox that plays the customer's phone. The plugin never calls these."""

from __future__ import annotations

import html
import json
import time

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from . import catalogue, flow
from .state import DECISIONS, DELIVERIES, SandboxState, Scenario
from .web import base_url

STYLE = ("body{font-family:system-ui,sans-serif;margin:0 auto;padding:12px;max-width:1000px;font-size:15px}"
         "table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:4px;text-align:left}"
         "fieldset{margin:8px 0}code{font-size:12px}form.inline{display:inline}"
         "li,td{overflow-wrap:anywhere}ul{padding-left:20px}"
         # Radios big enough to tap (24 px); on a phone a wide table scrolls in its own box.
         "input[type=radio]{width:24px;height:24px;vertical-align:middle}"
         "@media (max-width:720px){table{display:block;overflow-x:auto}}")


def _page(title: str, body: str) -> HTMLResponse:
    return HTMLResponse(f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
                        f"<meta name='viewport' content='width=device-width, initial-scale=1'>"
                        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head>"
                        f"<body>{body}</body></html>")


def _radios(name: str, options: tuple[str, ...], current: str) -> str:
    return " ".join(f"<label><input type='radio' name='{name}' value='{o}'{' checked' if o == current else ''}>"
                    f" {o.replace('_', ' ')}</label>" for o in options)


async def home(request: Request) -> Response:
    state: SandboxState = request.app.state.sandbox
    base = base_url(request)
    s = state.scenario
    readbacks = getattr(request.app.state, "test_readbacks", True)
    rows = []
    for order in sorted(state.orders.values(), key=lambda o: o.log[0][0] if o.log else 0, reverse=True):
        actions = ""
        if order.state in ("needs_review", "on_hold"):
            actions = "".join(
                f"<form class='inline' method='post' action='{base}/_control/orders/{order.uuid}/review'>"
                f"<input type='hidden' name='outcome' value='{o}'><button>{o} review</button></form> "
                for o in ("approve", "cancel"))
        if order.state in ("approved", "needs_review") and order.merchant.get("notify_url"):
            actions += (f"<form class='inline' method='post' action='{base}/_control/orders/{order.uuid}/ipn'>"
                        f"<button>re-send IPN</button></form>")
        uuid = (f"<a href='{base}/_control/orders/{order.uuid}'><code>{order.uuid}</code></a>" if readbacks
                else f"<code>{order.uuid}</code>")
        rows.append(f"<tr><td>{uuid}</td>"
                    f"<td>{html.escape(order.merchant_ref)}</td><td>{html.escape(order.order_ref_1 or '')}</td>"
                    f"<td>{catalogue.euros(order.total)}</td><td>{order.product or ''}</td>"
                    f"<td><b>{order.state}</b> <small>({order.step})</small></td><td>{actions}</td></tr>")
    deliveries = "".join(f"<tr><td><code>{html.escape(d['url'])}</code></td><td>{d['status']}</td>"
                         f"<td>{d['ms']} ms</td><td><code>{html.escape(d['body'][:140])}</code></td></tr>"
                         for d in reversed(state.deliveries[-20:]))
    body = f"""<h1>SeQura sandbox</h1>
<p>Account <code>cartwheel</code> / <code>cartwheel-sandbox</code>; merchant refs
{", ".join(f"<code>{r}</code>" for r in catalogue.MERCHANTS)}.
Test data: OTP = last five digits of the phone; card <code>4716 7730 7733 9777</code>, 12/30, CVV 123;
names <i>Review Test Approve</i> / <i>Review Test Cancel</i>; ours: surname <i>Reject Test</i> or under 18
rejects. <a href="{base}/_control/sms">SMS inbox (the customer's phone)</a></p>
<form method="post" action="{base}/_control/scenario">
<fieldset><legend>Decision</legend>{_radios("decision", DECISIONS, s.decision)}</fieldset>
<fieldset><legend>IPN delivery</legend>{_radios("delivery", DELIVERIES, s.delivery)}<br>
 <label>slow by <input name="slow_seconds" size="3" value="{s.slow_seconds:g}"> s</label>
 <label>review decided after <input name="review_delay" size="3" value="{s.review_delay:g}"> s</label>
 <label>re-send an unanswered IPN <input name="ipn_retries" size="2" value="{s.ipn_retries}"> times,
 every <input name="ipn_retry_after" size="3" value="{s.ipn_retry_after:g}"> s</label>
 <label>answer a confirm PUT <input name="confirm_answer_delay" size="3" value="{s.confirm_answer_delay:g}"> s
 late (it takes effect at once)</label></fieldset>
<fieldset><legend>Faults</legend>
<label><input type="checkbox" name="conflict_on_confirm"{" checked" if s.conflict_on_confirm else ""}>
 409 on the next confirm</label>
<label><input type="checkbox" name="server_error"{" checked" if s.server_error else ""}> 500 on every API call</label>
<label><input type="checkbox" name="strict_lines"{" checked" if s.strict_lines else ""}>
 enforce price &times; quantity = total</label></fieldset>
<button>Save scenario</button></form>
<h2>Orders</h2><table><tr><th>uuid</th><th>merchant</th><th>order_ref_1</th><th>total</th><th>product</th>
<th>state</th><th></th></tr>{"".join(rows) or "<tr><td colspan=7>none yet</td></tr>"}</table>
<h2>Callbacks sent</h2><table>{deliveries or "<tr><td>none yet</td></tr>"}</table>"""
    return _page("SeQura sandbox", body)


async def set_scenario(request: Request) -> Response:
    apply_scenario(request.app.state.sandbox.scenario, await request.form())
    return RedirectResponse(f"{base_url(request)}/", status_code=303)


async def reset(request: Request) -> Response:
    """The control API's reset (the store's "Reset the demo" calls it): SeQura as it started."""
    request.app.state.sandbox.reset()
    return Response(status_code=204)


async def demo_scenario(request: Request) -> Response:
    """The scenario a demo flow needs: the starting scenario, then the posted switches only."""
    state: SandboxState = request.app.state.sandbox
    state.reset_scenario()
    apply_scenario(state.scenario, await request.form(), whole_form=False)
    return Response(status_code=204)


def apply_scenario(s: Scenario, form, *, whole_form: bool = True) -> None:
    """The control form's switches. From the whole form, an unticked box is off; a value SeQura's
    sandbox does not know leaves its switch alone."""
    if form.get("decision") in DECISIONS:
        s.decision = str(form["decision"])
    if form.get("delivery") in DELIVERIES:
        s.delivery = str(form["delivery"])
    for key, kind in (("slow_seconds", float), ("review_delay", float), ("ipn_retry_after", float),
                      ("ipn_retries", int), ("confirm_answer_delay", float)):
        try:
            setattr(s, key, max(kind(0), kind(str(form.get(key)))))
        except (TypeError, ValueError):
            pass
    for key in ("conflict_on_confirm", "server_error", "strict_lines"):
        if whole_form or key in form:
            setattr(s, key, form.get(key) is not None)


async def read_back(request: Request) -> Response:
    """JSON for tests; a browser (Accept: text/html) gets the same facts as a page."""
    order = request.app.state.sandbox.orders.get(request.path_params["uuid"])
    if order is None:
        return JSONResponse({"errors": ["Order not found"]}, status_code=404)
    facts = order.read_back()
    if "text/html" not in request.headers.get("accept", ""):
        return JSONResponse(facts)
    log = "".join(f"<li>{time.strftime('%H:%M:%S', time.localtime(at))} {html.escape(text)}</li>"
                  for at, text in order.log)
    payload = html.escape(json.dumps(order.payload, indent=2, ensure_ascii=False))
    return _page(f"SeQura order {order.uuid}", f"""<p><a href="{base_url(request)}/">&larr; all orders</a></p>
<h1>Order <code>{order.uuid}</code></h1>
<p>State <b>{order.state}</b>, form step <b>{order.step}</b>, product {order.product or "-"},
order_ref_1 {html.escape(order.order_ref_1 or "-")}, total {catalogue.euros(order.total)}</p>
<h2>What happened</h2><ol>{log}</ol><h2>Solicited payload</h2><pre>{payload}</pre>""")


async def orders_json(request: Request) -> Response:
    """Every order's facts at once, for benches and tests (the plugin never calls it)."""
    state: SandboxState = request.app.state.sandbox
    return JSONResponse([{**order.read_back(), "cart": None} for order in state.orders.values()])


async def deliveries_json(request: Request) -> Response:
    """Every IPN and event the sandbox sent: url, the shop's status, how long the shop took (ms)."""
    state: SandboxState = request.app.state.sandbox
    return JSONResponse(state.deliveries)


async def review(request: Request) -> Response:
    """The merchant-risk team decides a reviewed order: second IPN, or the cancelled event."""
    state: SandboxState = request.app.state.sandbox
    order = state.orders.get(request.path_params["uuid"])
    outcome = (await request.form()).get("outcome")
    if order is None or order.state not in ("needs_review", "on_hold") or outcome not in ("approve", "cancel"):
        return JSONResponse({"errors": ["Nothing to review"]}, status_code=409)
    flow.finish_review(state, order, str(outcome))
    return RedirectResponse(f"{base_url(request)}/", status_code=303)


async def resend_ipn(request: Request) -> Response:
    state: SandboxState = request.app.state.sandbox
    order = state.orders.get(request.path_params["uuid"])
    if order is None or order.state not in ("approved", "needs_review") or not order.merchant.get("notify_url"):
        return JSONResponse({"errors": ["No IPN to send"]}, status_code=409)
    flow.send_ipn(state, order, order.state)
    return RedirectResponse(f"{base_url(request)}/", status_code=303)


async def sms_inbox(request: Request) -> Response:
    """The customer's phone: every form link sent by SMS, newest first."""
    state: SandboxState = request.app.state.sandbox
    items = "".join(
        f"<li><p><b>To {html.escape(m.to)}</b> <small>{time.strftime('%H:%M:%S', time.localtime(m.sent_at))}"
        f"</small></p><p>{html.escape(m.text.replace(m.link, ''))}<a href='{html.escape(m.link)}'>"
        f"{html.escape(m.link)}</a></p></li>" for m in reversed(state.outbox))
    return _page("SMS inbox", f"<h1>SMS inbox</h1><ul>{items or '<li>No messages.</li>'}</ul>"
                              f"<p><a href='{base_url(request)}/'>Sandbox control page</a></p>")


routes = [
    Route("/", home, methods=["GET"]),
    Route("/_control/scenario", set_scenario, methods=["POST"]),
    # The store's hand in demo mode, at the same address on every sandbox (shop.sandbox_control).
    Route("/control/reset", reset, methods=["POST"]),
    Route("/control/demo-scenario", demo_scenario, methods=["POST"]),
    # Read-backs for tests (the payers' personal data): a served sandbox leaves them out unless
    # the test harness asks for them (shop.sandbox_host, SANDBOX_TEST_READBACKS).
    Route("/_control/orders", orders_json, methods=["GET"], name="test_readback_orders"),
    Route("/_control/deliveries", deliveries_json, methods=["GET"], name="test_readback_deliveries"),
    Route("/_control/orders/{uuid}", read_back, methods=["GET"], name="test_readback_order"),
    Route("/_control/orders/{uuid}/review", review, methods=["POST"]),
    Route("/_control/orders/{uuid}/ipn", resend_ipn, methods=["POST"]),
    Route("/_control/sms", sms_inbox, methods=["GET"]),
]

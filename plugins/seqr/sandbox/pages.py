"""The sandbox's HTML: the payer's SEQR app (/app) and the control page (/)."""

from __future__ import annotations

import contextlib
import re
from dataclasses import fields
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from shop import i18n
from shop.i18n import N_
from shop.money import Money

from ..client import REPORT_IDS
from .state import OPEN, TEST_PIN, Scenarios, SeqrSandbox

templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
templates.env.add_extension("jinja2.ext.i18n")
templates.env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)
templates.env.policies["ext.i18n.trimmed"] = True
templates.env.globals["current_locale"] = i18n.current_locale
# The app speaks the phone's language: Swedish, else English (the two SEQR's app has).
APP_LANGUAGES = ("sv", "en")

# HTTP://SEQR.SE/R<ref> from sendInvoice, or the same with an app scheme (SEQR:, SEQR-DEMO:, ...)
INVOICE_CODE = re.compile(r"^[a-z][a-z0-9+.-]*://seqr\.se/r(\d+)/?$", re.IGNORECASE)
# The Instant Checkout code the shop prints per product: HTTP://SEQR.SE/000/ic?w=<webshop>&t=<token>
INSTANT_CODE = re.compile(r"^[a-z][a-z0-9+.-]*://seqr\.se/000/ic\?", re.IGNORECASE)
CHOICES = {
    "soap": ("normal", "busy", "fault", "unavailable", "slow"),
    "notification": ("deliver", "lost", "late", "repeated"),
    "notification_body": ("empty", "form"),
    "bank": ("approve", "decline"),
    "refunds": ("allow", "deny", "forbid"),
}


def _sandbox(request: Request) -> SeqrSandbox:
    return request.app.state.sandbox


def app_language(request: Request) -> str:
    language = i18n.negotiate(request.headers.get("accept-language", ""))
    return language if language in APP_LANGUAGES else "en"


def app_text(request: Request, message: str) -> str:
    with i18n.use_locale(app_language(request)):
        return i18n.gettext(message)


def amount(value, currency: str) -> str:
    """An invoice amount (major units, as SEQR sends it) as the app's language writes it."""
    try:
        return Money.from_decimal(str(value), currency).display()
    except ValueError:  # a currency the shop has no exponent for: as SEQR sent it
        return f"{value} {currency}"


templates.env.filters["amount"] = amount


def _page(request: Request, name: str, status_code: int = 200, **ctx) -> Response:
    # The control page is the sandbox operator's and stays in English; the app is the payer's.
    with i18n.use_locale(app_language(request) if name.startswith("app_") else "en"):
        return templates.TemplateResponse(request, name, {"sb": _sandbox(request), "test_pin": TEST_PIN, **ctx},
                                          status_code=status_code)


def _see(request: Request, route: str, **params) -> RedirectResponse:
    return RedirectResponse(str(request.url_for(route, **params)), status_code=303)


# --------------------------------------------------------------------------- the app


async def app_home(request: Request) -> Response:
    code = (request.query_params.get("code") or request.query_params.get("url") or "").strip()
    if code:
        if m := INVOICE_CODE.match(code):
            return _see(request, "app_invoice", reference=m.group(1))
        if INSTANT_CODE.match(code):
            query = parse_qs(urlsplit(code).query)
            url = request.url_for("app_instant").include_query_params(
                w=(query.get("w") or [""])[0], t=(query.get("t") or [""])[0])
            return RedirectResponse(str(url), status_code=303)
        return _page(request, "app_home.html", 400, error=app_text(request, N_("This is not a SEQR code: %(code)s")) % {"code": code},
                     invoices=_sandbox(request).open_invoices())
    return _page(request, "app_home.html", invoices=_sandbox(request).open_invoices())


async def app_invoice(request: Request) -> Response:
    inv = _sandbox(request).scan(request.path_params["reference"])
    if inv is None:
        return _page(request, "app_home.html", 404, error=app_text(request, N_("SEQR does not know this invoice.")),
                     invoices=_sandbox(request).open_invoices())
    return _page(request, "app_invoice.html", inv=inv)


async def app_pin(request: Request) -> Response:
    inv = _sandbox(request).invoices.get(request.path_params["reference"])
    if inv is None or inv.status != "ISSUED":
        return _see(request, "app_invoice", reference=request.path_params["reference"])
    return _page(request, "app_pin.html", inv=inv)


async def app_pay(request: Request) -> Response:
    sb = _sandbox(request)
    reference = request.path_params["reference"]
    form = await request.form()
    outcome = sb.confirm(reference, str(form.get("pin", "")))
    inv = sb.invoices.get(reference)
    if outcome == "wrong_pin":
        return _page(request, "app_pin.html", 403, inv=inv, error=app_text(request, N_("Wrong PIN. Try again.")))
    if outcome == "not_payable":
        return _see(request, "app_invoice", reference=reference)
    return _page(request, "app_done.html", inv=inv, outcome=outcome)


async def app_cancel(request: Request) -> Response:
    sb = _sandbox(request)
    reference = request.path_params["reference"]
    sb.payer_cancel(reference)
    return _page(request, "app_done.html", inv=sb.invoices.get(reference), outcome="cancelled")


async def app_instant(request: Request) -> Response:
    sb = _sandbox(request)
    if request.method == "GET":
        return _page(request, "app_instant.html", webshop_id=request.query_params.get("w", ""),
                     token=request.query_params.get("t", ""), address=sb.address)
    form = await request.form()
    webshop_id, token = str(form.get("w", "")), str(form.get("t", ""))
    reference, reason = await sb.create_purchase(webshop_id, token)
    if reference is None:
        return _page(request, "app_instant.html", 502, webshop_id=webshop_id, token=token,
                     address=sb.address, error=reason)
    return _see(request, "app_invoice", reference=reference)


# --------------------------------------------------------------------------- the control page


async def control(request: Request) -> Response:
    sb = _sandbox(request)
    sb.sweep()
    invoices = sorted(sb.invoices.values(), key=lambda i: i.created_at, reverse=True)
    return _page(request, "control.html", invoices=invoices, choices=CHOICES, open_statuses=OPEN,
                 report_ids=REPORT_IDS, now=sb.clock.now())


async def control_state(request: Request) -> Response:
    """Every invoice's status and amount as JSON, for benches that check a run afterwards."""
    sb = _sandbox(request)
    sb.sweep()  # what time has done, as the control page and getPaymentStatus would see it
    return JSONResponse({"invoices": [
        {"reference": inv.reference, "client_invoice_id": inv.data.get("client_invoice_id"), "status": inv.status,
         "committed": inv.committed, "amount": int(inv.total * 100), "currency": inv.currency}
        for inv in sb.invoices.values()]})


async def control_scenarios(request: Request) -> Response:
    set_scenarios(_sandbox(request).scenarios, await request.form())
    return _see(request, "control")


async def control_reset(request: Request) -> Response:
    """The control API's reset (the store's "Reset the demo" calls it): SEQR as it started."""
    _sandbox(request).reset()
    return Response(status_code=204)


async def control_demo_scenario(request: Request) -> Response:
    """The scenario a demo flow needs: the starting scenarios, then the posted switches only."""
    sb = _sandbox(request)
    sb.reset_scenarios()
    set_scenarios(sb.scenarios, await request.form(), whole_form=False)
    return Response(status_code=204)


def set_scenarios(sc: Scenarios, form, *, whole_form: bool = True) -> None:
    """The control form's switches. From the whole form, an unticked box is off; a value SEQR
    does not know leaves its switch alone."""
    for f in fields(Scenarios):
        if f.name == "hold_callbacks":
            continue  # the contract kit's switch, not a demo scenario
        if f.name in CHOICES:
            value = str(form.get(f.name, getattr(sc, f.name)))
            if value in CHOICES[f.name]:
                setattr(sc, f.name, value)
        elif f.type in ("bool", bool):
            if whole_form or f.name in form:
                setattr(sc, f.name, form.get(f.name) == "on")
        elif f.name in form:
            try:
                number = float(str(form[f.name]))
            except ValueError:
                continue
            setattr(sc, f.name, int(number) if f.type in ("int", int) else max(0.0, number))


async def control_invoice(request: Request) -> Response:
    sb = _sandbox(request)
    reference, action = request.path_params["reference"], request.path_params["action"]
    inv = sb.invoices.get(reference)
    if inv is not None:
        if action == "pay":
            sb.scan(reference)
            sb.confirm(reference, TEST_PIN)
        elif action == "cancel":
            sb.payer_cancel(reference)
        elif action == "end_window":
            sb.end_commit_window(reference)
        elif action == "notify":
            sb.notify(inv)
    return _see(request, "control")


async def control_clock(request: Request) -> Response:
    form = await request.form()
    with contextlib.suppress(ValueError):
        _sandbox(request).clock.advance(float(str(form.get("seconds", "0"))))
    return _see(request, "control")


async def control_webshop(request: Request) -> Response:
    form = await request.form()
    webshop_id, url = str(form.get("webshop_id", "")).strip(), str(form.get("url", "")).strip()
    # Only the shop's own address: the sandbox posts to it and shows the answer.
    if webshop_id and url.startswith(("http://", "https://")) and _sandbox(request).may_call(url):
        _sandbox(request).webshops[webshop_id] = url
    return _see(request, "control")


routes = [
    Route("/", control, name="control"),
    Route("/control/state.json", control_state, name="control_state"),
    Route("/control/scenarios", control_scenarios, methods=["POST"], name="control_scenarios"),
    Route("/control/reset", control_reset, methods=["POST"], name="control_reset"),
    Route("/control/demo-scenario", control_demo_scenario, methods=["POST"], name="control_demo_scenario"),
    Route("/control/invoice/{reference}/{action}", control_invoice, methods=["POST"], name="control_invoice"),
    Route("/control/clock", control_clock, methods=["POST"], name="control_clock"),
    Route("/control/webshop", control_webshop, methods=["POST"], name="control_webshop"),
    Route("/app", app_home, name="app"),
    Route("/app/invoice/{reference}", app_invoice, name="app_invoice"),
    Route("/app/invoice/{reference}/pin", app_pin, name="app_pin"),
    Route("/app/invoice/{reference}/pay", app_pay, methods=["POST"], name="app_pay"),
    Route("/app/invoice/{reference}/cancel", app_cancel, methods=["POST"], name="app_cancel"),
    Route("/app/instant", app_instant, methods=["GET", "POST"], name="app_instant"),
]

"""The identification form: the ``form_v2`` snippet, its scripts, the AJAX steps the form
calls, and the form's own page (``pumbaa_form``).

As SeQura serves it (sequra.md §6.2), the snippet is an iframe on the sandbox's origin plus a
small script on the shop's page (``sequra_form.js``) that shows the iframe and obeys the
messages the form posts to it (close, go to the shop). The form itself (``pumbaa_form.js``)
runs inside the iframe, or as the whole page where an SMS link opens it. The form endpoints
still answer CORS, for clients that drive the form's steps directly (the bench)."""

from __future__ import annotations

import datetime as dt
import html
from pathlib import Path
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from . import catalogue, flow
from .state import SandboxOrder
from .web import NOT_FOUND_HTML, base_url

ASSETS = Path(__file__).parent / "assets"
CORS = {"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
        "Access-Control-Allow-Headers": "Content-Type", "Access-Control-Max-Age": "600"}
TEST_CARD = {"pan": "4716773077339777", "expiry": "12/30", "cvv": "123"}


def form_url(base: str, order: SandboxOrder, product: str, campaign: str | None = None) -> str:
    query = urlencode({"product": product, **({"campaign": campaign} if campaign else {})})
    return f"{base}/orders/{order.uuid}/pumbaa_form?{query}"


def snippet(base: str, order: SandboxOrder, product: str, campaign: str | None = None) -> str:
    """What ``form_v2`` returns, in SeQura's shape: the hidden iframe, its name for the
    script, the script."""
    element = f"sq-identification-{product}"
    src = html.escape(form_url(base, order, product, campaign))
    return (f"<iframe id='{element}' name='{element}' class=\"sq-identification-iframe\" title=\"SeQura\"\n"
            f"        src=\"{src}\" frameborder=\"0\"\n"
            f"        style=\"display:none;position:fixed;top:0;left:0;width:100%;height:100%;z-index:999999;\">\n"
            "</iframe>\n"
            f"<script type=\"text/javascript\">window.SequraFormElement = '{element}';</script>\n"
            f"<script src='{html.escape(base)}/assets/sequra_form.js'></script>\n")


def _order(request: Request) -> SandboxOrder | None:
    return request.app.state.sandbox.orders.get(request.path_params["uuid"])


def _json(data: dict, status: int = 200) -> JSONResponse:
    return JSONResponse(data, status_code=status, headers={**CORS, "Cache-Control": "no-store"})


def form_state(order: SandboxOrder, errors: dict[str, str] | None = None) -> dict:
    product = catalogue.PRODUCTS.get(order.product or "i1", catalogue.PRODUCTS["i1"])
    customer = order.payload.get("customer") or {}
    delivery = order.payload.get("delivery_address") or {}
    known = {"given_names": order.shopper.get("given_names") or customer.get("given_names") or "",
             "surnames": order.shopper.get("surnames") or customer.get("surnames") or "",
             "date_of_birth": order.shopper.get("date_of_birth") or customer.get("date_of_birth") or "",
             "mobile_phone": order.shopper.get("mobile_phone") or delivery.get("mobile_phone") or ""}
    first = round(order.total / product.counts[0]) + catalogue.instalment_fee(product.code, order.total) \
        if product.counts else 0
    return {"step": order.step, "message": order.message, "redirect": order.redirect,
            "abort_url": order.merchant.get("abort_url"), "amount": catalogue.euros(order.total),
            "product": product.code, "title": product.title, "description": product.description,
            "part_payment": product.part_payment, "down_payment": catalogue.euros(first),
            "known": known, "errors": errors or {}}


async def preflight(request: Request) -> Response:
    return Response(status_code=204, headers=CORS)


async def state(request: Request) -> Response:
    order = _order(request)
    if order is None:
        return _json({"errors": ["Order not found"]}, 404)
    product = request.query_params.get("product")
    if order.product is None and product in catalogue.PRODUCTS:
        order.product = product
    return _json(form_state(order))


async def identify(request: Request) -> Response:
    order = _order(request)
    if order is None:
        return _json({"errors": ["Order not found"]}, 404)
    if order.step not in ("identify", "otp"):
        return _json(form_state(order))
    form = await request.form()
    data = {k: str(form.get(k, "")).strip() for k in ("given_names", "surnames", "date_of_birth", "mobile_phone")}
    errors: dict[str, str] = {}
    for key in ("given_names", "surnames"):
        if not data[key]:
            errors[key] = "Required"
    try:
        dt.date.fromisoformat(data["date_of_birth"])
    except ValueError:
        errors["date_of_birth"] = "Enter your date of birth"
    phone = "".join(ch for ch in data["mobile_phone"] if ch.isdigit())
    if len(phone) < 9:
        errors["mobile_phone"] = "Enter a mobile phone number"
    if errors:
        return _json(form_state(order, errors))
    order.shopper.update(data, mobile_phone=phone)
    order.step = "otp"
    order.message = (f"We sent a 5-digit code to the phone ending in {phone[-3:]}. "
                     "Sandbox: the code is the last five digits of the phone.")
    order.note(f"identified, OTP sent to {phone}")
    return _json(form_state(order))


async def otp(request: Request) -> Response:
    order = _order(request)
    if order is None:
        return _json({"errors": ["Order not found"]}, 404)
    if order.step != "otp":
        return _json(form_state(order))
    code = str((await request.form()).get("code", "")).strip()
    if code != order.shopper.get("mobile_phone", "")[-5:]:
        return _json(form_state(order, {"code": "This code is not right"}))
    order.note("OTP validated")
    product = catalogue.PRODUCTS.get(order.product or "i1")
    if product and product.part_payment:
        order.step, order.message = "card", ""
    else:
        order.message = ""
        flow.decide(request.app.state.sandbox, order)
    return _json(form_state(order))


async def card(request: Request) -> Response:
    order = _order(request)
    if order is None:
        return _json({"errors": ["Order not found"]}, 404)
    if order.step != "card":
        return _json(form_state(order))
    form = await request.form()
    pan = "".join(ch for ch in str(form.get("pan", "")) if ch.isdigit())
    expiry = str(form.get("expiry", "")).replace(" ", "").replace("/20", "/")
    cvv = str(form.get("cvv", "")).strip()
    if (pan, expiry, cvv) != (TEST_CARD["pan"], TEST_CARD["expiry"], TEST_CARD["cvv"]):
        return _json(form_state(order, {"pan": "Card declined. Sandbox: use 4716 7730 7733 9777, 12/30, 123."}))
    order.note("down payment charged to the test card")
    order.message = ""
    flow.decide(request.app.state.sandbox, order)
    return _json(form_state(order))


def _asset(name: str) -> Response:
    return Response((ASSETS / name).read_text(), media_type="application/javascript",
                    headers={**CORS, "Cache-Control": "no-cache"})


async def script(request: Request) -> Response:
    """The script the shop's page loads beside the iframe."""
    return _asset("sequra_form.js")


async def form_script(request: Request) -> Response:
    """The form itself, run inside the iframe (or the SMS link's page)."""
    return _asset("pumbaa_form.js")


async def pumbaa_form(request: Request) -> Response:
    """The form's page: inside the ``form_v2`` iframe on the shop's page, or alone on the
    customer's phone where an SMS link opens it."""
    order = _order(request)
    product = request.query_params.get("product") or "i1"
    if order is None or product not in catalogue.PRODUCTS:
        return HTMLResponse(NOT_FOUND_HTML, status_code=404)
    if order.product is None or order.state == "solicited":
        order.product = product
    base = base_url(request)
    attrs = " ".join(f'data-sequra-{k}="{html.escape(v)}"' for k, v in
                     (("base", base), ("order", order.uuid), ("product", product)))
    page = f"""<!DOCTYPE html><html lang="es"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>SeQura</title></head>
<body style="margin:0;font-family:system-ui,sans-serif;background:transparent">
<main id="sq-form" {attrs}></main>
<script src="{html.escape(base)}/assets/pumbaa_form.js"></script>
</body></html>"""
    return HTMLResponse(page, headers={"Cache-Control": "no-store"})


routes = [
    Route("/assets/sequra_form.js", script, methods=["GET"]),
    Route("/assets/pumbaa_form.js", form_script, methods=["GET"]),
    Route("/orders/{uuid}/pumbaa_form", pumbaa_form, methods=["GET"]),
    Route("/orders/{uuid}/form/state", state, methods=["GET"]),
    Route("/orders/{uuid}/form/identify", identify, methods=["POST"]),
    Route("/orders/{uuid}/form/otp", otp, methods=["POST"]),
    Route("/orders/{uuid}/form/card", card, methods=["POST"]),
    Route("/orders/{uuid}/form/{step}", preflight, methods=["OPTIONS"]),
]

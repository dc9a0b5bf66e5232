"""SeQura's Order API, played: paths, verbs, status codes and error bodies as the spec gives."""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from . import catalogue, flow, validation
from .form import snippet
from .state import SandboxOrder, SandboxState, Sms
from .web import NOT_FOUND_HTML, base_url, errors


class Denied(Exception):
    def __init__(self, response: Response) -> None:
        self.response = response


def authenticate(request: Request) -> tuple[str, tuple[str, ...]]:
    """Basic auth -> (account, merchant refs). Wrong credentials: SeQura's plain-text 401."""
    state: SandboxState = request.app.state.sandbox
    if state.scenario.server_error:
        raise Denied(errors(500, "Internal server error (sandbox scenario)"))
    header = request.headers.get("authorization", "")
    account = secret = None
    if header.lower().startswith("basic "):
        try:
            account, _, secret = base64.b64decode(header[6:]).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            pass
    known = catalogue.ACCOUNTS.get(account or "")
    if not known or known[0] != secret:
        if request.url.path.endswith("/merchants/credentials"):
            raise Denied(errors(401, "Access denied"))
        raise Denied(PlainTextResponse("HTTP Basic: Access denied.\n", status_code=401,
                                       headers={"WWW-Authenticate": 'Basic realm="Application"'}))
    return account, known[1]


async def read_json(request: Request) -> Any:
    if "json" not in request.headers.get("content-type", ""):
        raise Denied(errors(400, "Invalid JSON"))
    try:
        return json.loads(await request.body())
    except (ValueError, UnicodeDecodeError):
        raise Denied(errors(400, "Invalid JSON")) from None


def merchant_id(order: Any) -> str:
    merchant = order.get("merchant") if isinstance(order, dict) else None
    return str(merchant.get("id") or "") if isinstance(merchant, dict) else ""


def find_order(request: Request, refs: tuple[str, ...]) -> SandboxOrder | None:
    order = request.app.state.sandbox.orders.get(request.path_params["uuid"])
    return order if order and order.merchant_ref in refs else None


def guarded(handler):
    async def endpoint(request: Request) -> Response:
        try:
            return await handler(request)
        except Denied as denied:
            return denied.response
    endpoint.__name__ = handler.__name__
    return endpoint


# --------------------------------------------------------------------------- orders


@guarded
async def create_order(request: Request) -> Response:
    account, refs = authenticate(request)
    body = await read_json(request)
    order = body.get("order") if isinstance(body, dict) else None
    ref = merchant_id(order)
    if ref and ref not in refs:
        return errors(403, f"Bad merchant id '{ref}' for {account}")
    state: SandboxState = request.app.state.sandbox
    countries = catalogue.MERCHANTS.get(ref, (("ES",), ()))[0]
    problems = validation.check_order(order, countries, strict_lines=state.scenario.strict_lines)
    if problems:
        return errors(409, *problems)
    if order.get("state") not in ("", None):
        return errors(409, f"Invalid state transition from solicited to {order['state']}")
    created = state.new_order(account, ref, order, base_url(request))
    reference = order.get("merchant_reference") if isinstance(order.get("merchant_reference"), dict) else {}
    if reference.get("order_ref_1"):  # optional on the solicitation (sequra.md §5.3); the IPN echoes it
        created.order_ref_1 = str(reference["order_ref_1"])
    # SeQura's quick guide: "a 200 response with a Location header" (its older docs say 204).
    return Response(status_code=200, headers={"Location": created.uri})


@guarded
async def form_v2(request: Request) -> Response:
    _, refs = authenticate(request)
    order = find_order(request, refs)
    product = request.query_params.get("product") or "i1"
    campaign = request.query_params.get("campaign")
    known = catalogue.PRODUCTS.get(product)
    if (order is None or known is None or product not in catalogue.MERCHANTS[order.merchant_ref][1]
            or not known.fits(order.total)):
        return HTMLResponse(NOT_FOUND_HTML, status_code=404)
    if request.query_params.get("ajax", "false") not in ("true", "false", "1", "0"):
        return HTMLResponse(NOT_FOUND_HTML, status_code=404)
    if order.state == "solicited":
        order.product, order.campaign = product, campaign or known.campaign
    return HTMLResponse(snippet(base_url(request), order, product, campaign), headers={"Cache-Control": "no-store"})


@guarded
async def form_deliveries(request: Request) -> Response:
    _, refs = authenticate(request)
    order = find_order(request, refs)
    if order is None:
        return errors(404, "Order not found")
    body = await read_json(request)
    if not isinstance(body, dict) or body.get("channel") != "sms":
        return errors(409, "Invalid data: channel must be sms")
    product = body.get("product_code")
    if product not in catalogue.MERCHANTS[order.merchant_ref][1]:
        return errors(409, f"Invalid data: product_code '{product}' is not available")
    if not catalogue.PRODUCTS[product].fits(order.total):
        return errors(409, f"Invalid data: product_code '{product}' does not fit this amount")
    phone = mobile_of(order)
    if not phone:
        return errors(409, "Invalid data: the order has no Spanish mobile phone")
    order.product, order.campaign = product, body.get("campaign") or catalogue.PRODUCTS[product].campaign
    link = f"{order.uri}/pumbaa_form?product={product}"
    request.app.state.sandbox.outbox.append(
        Sms(phone, f"SeQura: completa tu compra de {catalogue.euros(order.total)} aquí: {link}", link, order.uuid))
    order.note(f"form sent by SMS to {phone}")
    return Response(status_code=204)


def mobile_of(order: SandboxOrder) -> str | None:
    """A Spanish mobile from the order: delivery mobile, then phone, then invoice address."""
    for section in ("delivery_address", "invoice_address"):
        addr = order.payload.get(section) or {}
        for key in ("mobile_phone", "phone"):
            digits = "".join(ch for ch in str(addr.get(key) or "") if ch.isdigit())
            digits = digits[2:] if digits.startswith("34") and len(digits) == 11 else digits
            if len(digits) == 9 and digits[0] in "67":
                return digits
    return None


def changes(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """§9.2: what counts as the cart having changed since the solicitation."""
    out = []
    b_cart, a_cart = before.get("cart") or {}, after.get("cart") or {}
    if b_cart.get("currency") != a_cart.get("currency"):
        out.append("currency")
    if b_cart.get("order_total_with_tax") != a_cart.get("order_total_with_tax"):
        out.append("order_total_with_tax")

    def lines(cart: dict) -> list[tuple]:
        return sorted((str(i.get("type", "product")), str(i.get("reference")), i.get("quantity"),
                       i.get("total_with_tax")) for i in cart.get("items") or [])

    if lines(b_cart) != lines(a_cart):
        out.append("items")
    for key in ("country_code", "postal_code"):
        if (before.get("delivery_address") or {}).get(key) != (after.get("delivery_address") or {}).get(key):
            out.append(f"delivery_address.{key}")
    if (before.get("customer") or {}).get("email") != (after.get("customer") or {}).get("email"):
        out.append("customer.email")
    return out


TRANSITIONS = {"confirmed": {"approved", "confirmed"}, "on_hold": {"needs_review", "on_hold"}}


def apply_put(state: SandboxState, order: SandboxOrder, body: dict[str, Any], *, partial: bool) -> Response:
    wanted = body.get("state") or ""
    if not partial:
        changed = changes(order.payload, body)
        if changed:
            if order.state == "approved":
                order.state = "cancelled"
                order.note("cancelled: confirm PUT with a changed cart")
            return errors(409, f"Cart has changed: {', '.join(changed)}")
    if wanted:
        if wanted not in TRANSITIONS or order.state not in TRANSITIONS[wanted]:
            return errors(409, f"Invalid state transition from {order.state} to {wanted}")
        if wanted == "confirmed" and state.scenario.conflict_on_confirm:
            state.scenario.conflict_on_confirm = False
            order.state = "cancelled"
            return errors(409, "Cart has changed: items (sandbox scenario)")
    reference = body.get("merchant_reference") or {}
    ref_1 = reference.get("order_ref_1")
    if ref_1 not in (None, ""):
        ref_1 = str(ref_1)
        taken = any(o.uuid != order.uuid and o.merchant_ref == order.merchant_ref and o.order_ref_1 == ref_1
                    and o.state in ("confirmed", "shipped") for o in state.orders.values())
        if taken:
            return errors(409, f"Invalid data: merchant_reference.order_ref_1 '{ref_1}' is already used")
    if wanted and order.state != wanted:
        order.state = wanted
        order.note(f"{wanted} by PUT")
        if wanted == "confirmed":
            order.confirmed_total = order.total
        flow.put_while_waiting(state, order, wanted)
    if ref_1 not in (None, ""):
        order.order_ref_1 = ref_1
        if reference.get("order_ref_2") not in (None, ""):
            order.order_ref_2 = str(reference["order_ref_2"])
        order.note(f"order_ref_1 = {ref_1}")
    return Response(status_code=200)


@guarded
async def put_order(request: Request) -> Response:
    account, refs = authenticate(request)
    state: SandboxState = request.app.state.sandbox
    if state.break_confirm:
        return errors(500, "Internal server error (sandbox: confirm broken)")
    order = find_order(request, refs)
    if order is None:
        return errors(404, "Order not found")
    body = await read_json(request)
    payload = body.get("order") if isinstance(body, dict) else None
    if request.method == "PATCH":
        if not isinstance(payload, dict):
            return errors(409, "Invalid data: order is missing")
        return apply_put(state, order, payload, partial=True)
    ref = merchant_id(payload)
    if ref and ref != order.merchant_ref:
        return errors(403, f"Bad merchant id '{ref}' for {account}")
    problems = validation.check_order(payload, catalogue.MERCHANTS[order.merchant_ref][0],
                                      strict_lines=state.scenario.strict_lines)
    if problems:
        return errors(409, *problems)
    answer = apply_put(state, order, payload, partial=False)
    if payload.get("state") and answer.status_code == 200 and state.scenario.confirm_answer_delay:
        await asyncio.sleep(state.scenario.confirm_answer_delay)  # done at SeQura; the shop hears later
    return answer


@guarded
async def order_payment_methods(request: Request) -> Response:
    account, refs = authenticate(request)
    order = find_order(request, refs)
    if order is None:
        return errors(403, f"Bad order id '{request.path_params['uuid']}' for {account}")
    return JSONResponse(catalogue.payment_methods(order.merchant_ref, order.total))


# --------------------------------------------------------------------------- merchants


def merchant_of(request: Request, refs: tuple[str, ...]) -> str:
    ref = request.path_params["ref"]
    if ref not in refs:
        raise Denied(errors(403, "You do not have access to this URL"))
    return ref


@guarded
async def merchant_payment_methods(request: Request) -> Response:
    _, refs = authenticate(request)
    return JSONResponse(catalogue.payment_methods(merchant_of(request, refs), None))


@guarded
async def credit_agreements(request: Request) -> Response:
    _, refs = authenticate(request)
    ref = merchant_of(request, refs)
    try:
        total = int(request.query_params["total_with_tax"])
    except (KeyError, ValueError):
        return errors(409, "Invalid data: total_with_tax must be an integer")
    if request.query_params.get("currency", "EUR") != "EUR":
        return errors(409, "Invalid data: currency is not supported")
    return JSONResponse(catalogue.credit_agreements(ref, total))


@guarded
async def credentials(request: Request) -> Response:
    account, refs = authenticate(request)
    listed = [{"ref": ref, "name": ref, "country": catalogue.MERCHANTS[ref][0][0], "verify_signature": False}
              for ref in refs]
    if "ref" in request.path_params:
        return JSONResponse([m for m in listed if m["ref"] == merchant_of(request, refs)])
    return JSONResponse(listed)


@guarded
async def update_order(request: Request) -> Response:
    """Order Update API: the shipped and unshipped carts replace what SeQura knows."""
    _, refs = authenticate(request)
    ref = merchant_of(request, refs)
    state: SandboxState = request.app.state.sandbox
    order_ref_1 = request.path_params["order_ref"]
    order = next((o for o in state.orders.values() if o.merchant_ref == ref and o.order_ref_1 == order_ref_1
                  and o.state in ("confirmed", "shipped", "cancelled")), None)
    if order is None:
        return errors(404, "Order not found")
    body = await read_json(request)
    payload = body.get("order") if isinstance(body, dict) else None
    problems = validation.check_update(payload)
    if problems:
        return errors(409, *problems)
    if order.state == "cancelled":
        return errors(409, "Invalid data: the order is cancelled")
    shipped, unshipped = payload["shipped_cart"], payload["unshipped_cart"]
    if shipped["order_total_with_tax"] + unshipped["order_total_with_tax"] > (order.confirmed_total or order.total):
        return errors(409, "Invalid data: order total cannot increase")
    order.shipped_cart, order.unshipped_cart = shipped, unshipped
    if not shipped["items"] and not unshipped["items"]:
        order.state = "cancelled"
    elif not unshipped["items"]:
        order.state = "shipped"
    order.note(f"order update: shipped {shipped['order_total_with_tax']}, "
               f"unshipped {unshipped['order_total_with_tax']} -> {order.state}")
    return Response(status_code=204)


@guarded
async def delivery_report(request: Request) -> Response:
    _, refs = authenticate(request)
    body = await read_json(request)
    report = body.get("delivery_report") if isinstance(body, dict) else None
    if not isinstance(report, dict) or not isinstance(report.get("merchant"), dict):
        return errors(409, "Invalid data: delivery_report.merchant is missing")
    if str(report["merchant"].get("id")) not in refs:
        return errors(403, "You do not have access to this URL")
    state: SandboxState = request.app.state.sandbox
    state.delivery_reports = [*state.delivery_reports[-29:], report]  # the last month's, for the control page
    return Response(status_code=204)


async def deployments(request: Request) -> Response:
    """GET /deployments: where each deployment lives; here, all of it is this sandbox."""
    base = base_url(request)
    here = {"api_base_url": f"{base}/", "assets_base_url": f"{base}/assets/"}
    return JSONResponse([{"id": "sequra", "name": "seQura (Cartwheel sandbox)", "live": here, "sandbox": here}])


routes = [
    Route("/deployments", deployments, methods=["GET"]),
    Route("/orders", create_order, methods=["POST"]),
    Route("/orders/delivery_reports", delivery_report, methods=["POST"]),
    Route("/delivery_reports", delivery_report, methods=["POST"]),
    Route("/orders/{uuid}", put_order, methods=["PUT", "PATCH"]),
    Route("/orders/{uuid}/form_v2", form_v2, methods=["GET"]),
    Route("/orders/{uuid}/form_deliveries", form_deliveries, methods=["POST"]),
    Route("/orders/{uuid}/payment_methods", order_payment_methods, methods=["GET"]),
    Route("/merchants/credentials", credentials, methods=["GET"]),
    Route("/merchants/{ref}/credentials", credentials, methods=["GET"]),
    Route("/merchants/{ref}/payment_methods", merchant_payment_methods, methods=["GET"]),
    Route("/merchants/{ref}/credit_agreements", credit_agreements, methods=["GET"]),
    Route("/merchants/{ref}/orders/{order_ref:path}", update_order, methods=["PUT"]),
]

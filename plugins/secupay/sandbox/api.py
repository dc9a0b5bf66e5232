"""The secuconnect API on its own paths: OAuth token, Smart and Payment Transactions."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .errors import ApiError, format_error, internal_error, oauth_error, token_required
from .state import Sandbox
from .validation import validate


def own_base(request: Request) -> str:
    """The sandbox's absolute address, wherever it is mounted."""
    url = request.url
    return f"{url.scheme}://{url.netloc}{request.scope.get('root_path', '')}".rstrip("/")


def state(request: Request) -> Sandbox:
    return request.app.state.sandbox


# --------------------------------------------------------------------------- OAuth


async def token(request: Request) -> Response:
    sandbox = state(request)
    raw = await request.body()
    content_type = request.headers.get("content-type", "")
    if "json" in content_type:
        try:
            data = json.loads(raw or b"{}")
        except ValueError:
            return oauth_error("invalid_request", "The request body is not valid JSON")
        if not isinstance(data, dict):
            return oauth_error("invalid_request", "The request body is not valid JSON")
    else:
        data = {k: v[0] for k, v in parse_qs(raw.decode("utf-8", "replace")).items()}
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("basic "):  # HTTP Basic is the other way bshaffer's server takes
        try:
            user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
            data.setdefault("client_id", user)
            data.setdefault("client_secret", password)
        except ValueError:
            pass
    grant = data.get("grant_type")
    if not grant:
        return oauth_error("invalid_request", "The grant type was not specified in the request")
    if grant != "client_credentials":
        return oauth_error("unsupported_grant_type", f'Grant type "{grant}" not supported')
    client_id, secret = data.get("client_id"), data.get("client_secret")
    if not client_id or not secret:
        return oauth_error("invalid_client", "Client credentials were not found in the headers or body")
    if sandbox.clients.get(str(client_id)) != secret:
        return oauth_error("invalid_client", "The client credentials are invalid")
    return JSONResponse(sandbox.issue_token())


# --------------------------------------------------------------------------- API plumbing

Handler = Callable[[Request, Sandbox], Awaitable[object]]


def api(handler: Handler, *, read: bool = False) -> Callable[[Request], Awaitable[Response]]:
    """Bearer check, scenarios and the error body around one API handler."""

    async def endpoint(request: Request) -> Response:
        sandbox = state(request)
        try:
            if sandbox.scenarios.api == "slow":
                await asyncio.sleep(sandbox.slow_delay)
            auth = request.headers.get("authorization", "")
            bearer = auth[7:].strip() if auth.lower().startswith("bearer ") else None
            if not sandbox.token_valid(bearer):
                raise token_required(sandbox.scenarios.token_refusal)
            if sandbox.scenarios.api == "error" or (read and sandbox.read_back_broken):
                raise internal_error()
            result = await handler(request, sandbox)
        except ApiError as exc:
            return exc.response()
        return result if isinstance(result, Response) else JSONResponse(result)

    return endpoint


async def payload(request: Request, *, required: bool = True) -> dict:
    raw = await request.body()
    if not raw.strip():
        if required:
            raise format_error("no payload")
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        raise format_error("the payload is not valid JSON") from None
    if not isinstance(data, dict):
        raise format_error("the payload must be a JSON object")
    return data


# --------------------------------------------------------------------------- Smart Transactions


async def create_stx(request: Request, sandbox: Sandbox):
    body = await payload(request, required=False)
    validate(body, sandbox.contracts)
    stx = sandbox.create(body, body["contract"]["id"], own_base(request))
    return sandbox.stx_json(stx)


async def list_stx(request: Request, sandbox: Sandbox):
    items = list(sandbox.stx.values())
    query = request.query_params.get("q")
    if query:
        field_name, _, value = query.partition(":")
        items = [s for s in items if str(_dig(sandbox.stx_json(s), field_name)) == value]
    try:
        offset = int(request.query_params.get("offset", 0))
        count = int(request.query_params.get("count", 20))
    except ValueError:
        raise format_error("count/offset: must be integers") from None
    return {"count": len(items), "data": [sandbox.stx_json(s) for s in items[offset:offset + count]]}


def _dig(data, dotted: str):
    for part in dotted.split("."):
        data = data.get(part) if isinstance(data, dict) else None
    return data


async def read_stx(request: Request, sandbox: Sandbox):
    return sandbox.stx_json(sandbox.get_stx(request.path_params["id"]))


async def update_stx(request: Request, sandbox: Sandbox):
    stx = sandbox.get_stx(request.path_params["id"])
    body = await payload(request)
    validate(body, sandbox.contracts)
    if body["contract"]["id"] != stx.contract:
        raise format_error("contract.id: cannot be changed")
    sandbox.update(stx, body)
    return sandbox.stx_json(stx)


async def cancel_stx(request: Request, sandbox: Sandbox):
    stx = sandbox.get_stx(request.path_params["id"])
    sandbox.cancel(stx)
    return sandbox.stx_json(stx)


async def abort_stx(request: Request, sandbox: Sandbox):
    stx = sandbox.get_stx(request.path_params["id"])
    sandbox.cancel(stx)  # undocumented effect; the sandbox reads it as a cancellation
    return sandbox.stx_json(stx)


async def start_stx(request: Request, sandbox: Sandbox):
    stx = sandbox.get_stx(request.path_params["id"])
    await payload(request, required=False)
    sandbox.start(stx, request.path_params.get("method"))
    return sandbox.stx_json(stx)


async def prepare_stx(request: Request, sandbox: Sandbox):
    stx = sandbox.get_stx(request.path_params["id"])
    sandbox.prepare(stx, request.path_params["method"], await payload(request, required=False))
    return sandbox.stx_json(stx)


async def set_delivery(request: Request, sandbox: Sandbox):
    stx = sandbox.get_stx(request.path_params["id"])
    body = await payload(request)
    sandbox.set_delivery(stx, body.get("delivery_options"))
    return sandbox.stx_json(stx)


# --------------------------------------------------------------------------- Payment Transactions


async def read_pci(request: Request, sandbox: Sandbox):
    return sandbox.pci_json(sandbox.get_pci(request.path_params["id"]))


async def check_status(request: Request, sandbox: Sandbox):
    return sandbox.check_status(sandbox.get_pci(request.path_params["id"]))


async def cancel_pci(request: Request, sandbox: Sandbox):
    pci = sandbox.get_pci(request.path_params["id"])
    body = await payload(request, required=False)
    by = body.get("reduce_amount_by", body.get("amount"))  # "amount" is the deprecated spelling
    answer = sandbox.reduce(pci, by, body.get("reason"))
    return JSONResponse([sandbox.pci_json(p) for p in answer])


async def capture_pci(request: Request, sandbox: Sandbox):
    pci = sandbox.get_pci(request.path_params["id"])
    body = await payload(request, required=False)
    sandbox.capture(pci, body.get("amount"), body.get("shipping_information"))
    return sandbox.pci_json(pci)


async def shipping_information(request: Request, sandbox: Sandbox):
    pci = sandbox.get_pci(request.path_params["id"])
    sandbox.shipping_information(pci, await payload(request))
    return {"result": True}


async def payment_instructions(request: Request, sandbox: Sandbox):
    pci = sandbox.get_pci(request.path_params["id"])
    stx = sandbox.stx[pci.stx_id]
    if not stx.payment_instructions:
        raise format_error("This payment has no payment instructions")
    amount = pci.amount - pci.reduced
    instructions = {k: v for k, v in stx.payment_instructions.items() if k != "girocode_url"}
    return {"lang": stx.language, "amount": f"{amount / 100:.2f}".replace(".", ","),
            "currency": pci.currency, "payment_instructions": instructions}


async def test_changed_status(request: Request, sandbox: Sandbox):
    pci = sandbox.get_pci(request.path_params["id"])
    body = await payload(request)
    sandbox.force_status(request.path_params["product"], pci, body.get("new_status_id"))
    return sandbox.pci_json(pci)


def routes() -> list[Route]:
    base = "/api/v2"
    return [
        Route("/oauth/token", token, methods=["POST"]),
        Route(f"{base}/Smart/Transactions", api(create_stx), methods=["POST"]),
        Route(f"{base}/Smart/Transactions", api(list_stx, read=True), methods=["GET"]),
        Route(f"{base}/Smart/Transactions/{{id}}", api(read_stx, read=True), methods=["GET"]),
        Route(f"{base}/Smart/Transactions/{{id}}", api(update_stx), methods=["PUT"]),
        Route(f"{base}/Smart/Transactions/{{id}}/cancel", api(cancel_stx), methods=["POST"]),
        Route(f"{base}/Smart/Transactions/{{id}}/abort", api(abort_stx), methods=["POST"]),
        Route(f"{base}/Smart/Transactions/{{id}}/prepare/{{method}}", api(prepare_stx), methods=["POST"]),
        Route(f"{base}/Smart/Transactions/{{id}}/start", api(start_stx), methods=["POST"]),
        Route(f"{base}/Smart/Transactions/{{id}}/start/{{method}}", api(start_stx), methods=["POST"]),
        Route(f"{base}/Smart/Transactions/{{id}}/setDelivery", api(set_delivery), methods=["POST"]),
        Route(f"{base}/Payment/Transactions/{{id}}", api(read_pci, read=True), methods=["GET"]),
        Route(f"{base}/Payment/Transactions/{{id}}/checkStatus", api(check_status, read=True), methods=["GET"]),
        Route(f"{base}/Payment/Transactions/{{id}}/cancel", api(cancel_pci), methods=["POST"]),
        Route(f"{base}/Payment/Transactions/{{id}}/capture", api(capture_pci), methods=["POST"]),
        Route(f"{base}/Payment/Transactions/{{id}}/ShippingInformation", api(shipping_information), methods=["PUT"]),
        Route(f"{base}/Payment/Transactions/{{id}}/getPaymentInstructions", api(payment_instructions),
              methods=["POST"]),
        Route(f"{base}/Payment/{{product}}/{{id}}/TestChangedPaymentStatus", api(test_changed_status),
              methods=["POST"]),
    ]

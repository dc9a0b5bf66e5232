"""SEQR played on loopback: the SOAP service, the payer's phone app and a control page.

``create_sandbox(outbound)`` returns a Starlette app that works mounted anywhere (the core mounts
it at /sandbox/seqr/) or served alone:

    /soap/merchant/cashregister-2         POST SOAP 1.1; GET ?wsdl for the WSDL, addressed to itself
    /extclientproxy/service/v2            the older test path, same service
    /app                                  the simulated SEQR app (scan, confirm, PIN, receipt)
    /                                     control page: invoices, SMS log, notifications, scenarios
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from . import pages, soap, widget
from .state import SeqrSandbox

WSDL_FILE = Path(__file__).parent.parent / "wsdl" / "seqr-merchant.wsdl"
PLACEHOLDER_ADDRESS = "https://seqr.invalid/soap/merchant/cashregister-2"


async def soap_endpoint(request: Request) -> Response:
    sandbox: SeqrSandbox = request.app.state.sandbox
    if request.method == "GET":
        if any(key.lower() == "wsdl" for key in request.query_params):
            address = str(request.url.replace(query=None, fragment=None))
            text = WSDL_FILE.read_text().replace(PLACEHOLDER_ADDRESS, address)
            return Response(text, media_type="text/xml; charset=UTF-8")
        return PlainTextResponse("POST SOAP 1.1 requests here; the WSDL is at ?wsdl", status_code=405)
    sc = sandbox.scenarios
    if sc.soap == "unavailable":
        return PlainTextResponse("503 Service Unavailable", status_code=503)
    if sc.soap == "slow":
        await asyncio.sleep(sc.slow_seconds)
    if sc.soap == "fault":
        return Response(soap.fault("Fault occurred while processing.", "soap:Server"), status_code=500,
                        media_type="text/xml; charset=UTF-8")
    status, payload, _ = soap.handle(sandbox, await request.body())
    media = "text/plain" if status in (502, 503) else "text/xml; charset=UTF-8"
    return Response(payload, status_code=status, media_type=media)


class OwnRouter:
    """Mounted inside the shop, ``request.url_for`` would look names up in the shop's router
    (Starlette keeps the outermost one in the scope): look them up in the sandbox's own, so
    that its redirects and links work mounted anywhere."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] in ("http", "websocket"):
            # ...and build them from where the sandbox is mounted, not from the shop's root.
            scope = {**scope, "router": scope["app"].router, "app_root_path": scope.get("root_path", "")}
        await self.app(scope, receive, send)


def create_sandbox(outbound: httpx.AsyncClient | None = None, **options: Any) -> Starlette:
    """The SEQR sandbox app; ``options`` set the starting scenarios (see state.Scenarios), plus
    ``webshops`` = {webshop id: createPurchase URL} for Instant Checkout and ``shop_origins``,
    the only addresses it posts to."""
    sandbox = SeqrSandbox(outbound, **options)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        yield
        await sandbox.aclose()

    app = Starlette(
        routes=[
            Route("/soap/merchant/cashregister-2", soap_endpoint, methods=["GET", "POST"], name="soap"),
            Route("/extclientproxy/service/v2", soap_endpoint, methods=["GET", "POST"], name="soap_v2"),
            *pages.routes,
            *widget.routes,
        ],
        middleware=[Middleware(OwnRouter)],
        lifespan=lifespan,
    )
    app.state.sandbox = sandbox
    return app

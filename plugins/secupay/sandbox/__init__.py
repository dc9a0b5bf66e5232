"""secuconnect and its hosted Smart Checkout, played on loopback."""

from __future__ import annotations

import contextlib

import httpx
from starlette.applications import Starlette

from . import api, checkout, control
from .state import Sandbox


def create_sandbox(outbound: httpx.AsyncClient | None = None, **options) -> Starlette:
    """The sandbox app; ``options`` go to ``Sandbox`` (push retry_delays, late_delay, push_timeout, slow_delay)."""
    sandbox = Sandbox(outbound, **options)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        yield
        await sandbox.pusher.aclose()

    app = Starlette(routes=[*api.routes(), *checkout.routes(), *control.routes()], lifespan=lifespan)
    app.state.sandbox = sandbox
    return app


__all__ = ["Sandbox", "create_sandbox"]

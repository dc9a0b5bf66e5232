"""SeQura's Order API played on loopback: API, identification form, IPN and events, control page."""

from __future__ import annotations

import contextlib
from typing import Any

import httpx
from starlette.applications import Starlette

from . import api, control, form
from .state import SandboxState


def create_sandbox(outbound: httpx.AsyncClient, **options: Any) -> Starlette:
    """``options`` preset scenario fields (e.g. ``review_delay=0.1``) for tests and demos."""
    state = SandboxState(outbound, **options)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        yield
        await state.aclose()  # only runs when served alone; a Mount does not run sub-app lifespans

    app = Starlette(routes=[*control.routes, *form.routes, *api.routes], lifespan=lifespan)
    app.state.sandbox = state
    return app

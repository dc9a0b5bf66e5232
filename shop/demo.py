"""The sales person's start page: every provider's flows, the scenario that shows each, and a reset.

Sandbox links and the flows are shown only for plugins in sandbox mode; the page names the plugins
that are live. The reset empties the orders: it is refused while any plugin talks to its real provider."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from shop.admin import admin_only
from shop.security import checked_form
from shop.seed import reset
from shop.web import flash, render


async def demo_page(request: Request) -> Response:
    state = request.app.state
    live = [plugin for plugin in state.plugins if not _in_sandbox_mode(state, plugin.id)]
    return await render(request, "demo.html", {"plugins": list(state.plugins), "sandbox_pages": state.sandbox_pages,
                                               "live": live})


def _in_sandbox_mode(state, plugin_id: str) -> bool:
    return plugin_id in state.sandbox_pages


@admin_only
async def demo_reset(request: Request) -> Response:
    await checked_form(request)
    state = request.app.state
    if not all(_in_sandbox_mode(state, plugin.id) for plugin in state.plugins):
        raise HTTPException(403, "The demo reset would clear real orders: a plugin talks to its real provider.")
    await request.app.state.db.write(_reset, request.app.state.db)
    request.app.state.listing.forget()
    request.session.pop("cart", None)
    request.session.pop("orders", None)
    flash(request, "The demo is reset: catalog and stock restored, orders and carts cleared.")
    return RedirectResponse("/demo", status_code=303)


def _reset(db) -> None:
    with db() as session:
        reset(session)


routes = [
    Route("/demo", demo_page, name="demo"),
    Route("/demo/reset", demo_reset, methods=["POST"], name="demo_reset"),
]

"""The sales person's start page: every provider's flows, a "Try it" for each, and a reset.

Served only in demo mode, that is while at least one plugin talks to its sandbox; the flows and
their "Try it" only for those plugins, and the page names the plugins that are live. "Try it"
fills the cart and the checkout as the flow's persona (shop.personas) and sets the sandbox's
scenario. The reset (confirmed, behind the back-office login) resets the shop and every sandbox:
it is refused while any plugin talks to its real provider."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from shop.admin import admin_only
from shop.cart import CartError, add_to_cart, cart_id, product_by_sku
from shop.i18n import gettext as _
from shop.personas import PERSONAS, Persona
from shop.sandbox_control import SandboxControlError, reset_sandboxes, set_demo_scenario
from shop.security import checked_form
from shop.seed import reset
from shop.web import flash, forget_cart_count, render


def _in_sandbox_mode(state, plugin_id: str) -> bool:
    return plugin_id in state.sandbox_pages


def _demo_mode(state) -> None:
    """No demo page in a store whose every plugin is live: there is nothing of a demo to show."""
    if not state.sandbox_pages:
        raise HTTPException(404)


async def demo_page(request: Request) -> Response:
    state = request.app.state
    _demo_mode(state)
    live = [plugin for plugin in state.plugins if not _in_sandbox_mode(state, plugin.id)]
    return await render(request, "demo.html", {"plugins": list(state.plugins), "sandbox_pages": state.sandbox_pages,
                                               "live": live, "personas": PERSONAS})


def _every_plugin_in_sandbox_mode(state) -> None:
    if not all(_in_sandbox_mode(state, plugin.id) for plugin in state.plugins):
        raise HTTPException(403, _("The demo reset would clear real orders: a plugin talks to its real provider."))


@admin_only
async def demo_reset_confirm(request: Request) -> Response:
    """The reset's confirmation step; also where the login brings a presenter who was logged out."""
    _every_plugin_in_sandbox_mode(request.app.state)
    return await render(request, "demo_reset.html", {"sandbox_pages": request.app.state.sandbox_pages,
                                                     "plugins": request.app.state.plugins})


@admin_only
async def demo_reset(request: Request) -> Response:
    await checked_form(request)
    state = request.app.state
    _every_plugin_in_sandbox_mode(state)
    # The sandboxes first: should one not answer, the shop keeps its orders and the presenter can
    # try again, rather than a shop that forgot what a sandbox still remembers.
    try:
        await reset_sandboxes(state)
    except SandboxControlError as exc:
        return await render(request, "demo_reset.html", {
            "sandbox_pages": state.sandbox_pages, "plugins": state.plugins,
            "error": _("Nothing in the shop was reset: %(error)s. Try again in a moment.") % {"error": exc}},
            status_code=502)
    await state.db.write(_reset, state.db)
    state.listing.forget()
    request.session.pop("cart", None)
    forget_cart_count(request)
    request.session.pop("orders", None)
    request.session.pop("checkout_details", None)
    flash(request, _("The demo is reset: catalog and stock restored, orders and carts cleared, every sandbox "
                     "emptied and its scenarios back to normal."))
    return RedirectResponse("/demo", status_code=303)


def _reset(db) -> None:
    with db() as session:
        reset(session)


async def try_flow(request: Request) -> Response:
    """Ready the checkout for one demo flow: its sandbox scenario, its persona's cart and details."""
    await checked_form(request)
    state = request.app.state
    plugin = state.plugins.get(request.path_params["plugin"])
    if plugin is None or not _in_sandbox_mode(state, plugin.id):
        raise HTTPException(404)
    flows = plugin.demo_flows
    index = request.path_params["index"]
    if not 0 <= index < len(flows) or flows[index].persona not in PERSONAS:
        raise HTTPException(404)
    flow = flows[index]
    try:
        await set_demo_scenario(state, plugin.id, flow.scenario)
    except SandboxControlError as exc:
        flash(request, _("Could not set the scenario for \"%(flow)s\": %(error)s.")
              % {"flow": _(flow.title), "error": exc}, "error")
        return RedirectResponse("/demo", status_code=303)
    persona = PERSONAS[flow.persona]
    request.session.pop("cart", None)  # a cart of its own: nothing left from the previous flow
    try:
        await state.db.write(_fill_cart, request, persona)
    except CartError as exc:  # sold out since the last reset
        flash(request, _("Could not fill the cart for \"%(flow)s\": %(error)s Reset the demo to restock.")
              % {"flow": _(flow.title), "error": exc.detail}, "error")
        return RedirectResponse("/demo", status_code=303)
    request.session["checkout_details"] = {**persona.details, "method": f"{plugin.id}:{flow.option or plugin.id}"}
    flash(request, _("%(flow)s: checking out as %(persona)s. %(how)s")
          % {"flow": _(flow.title), "persona": _(persona.description), "how": _(flow.how)})
    return RedirectResponse("/checkout", status_code=303)


def _fill_cart(request: Request, persona: Persona) -> None:
    cart = cart_id(request, create=True)  # its own transaction, before this one reads
    with request.app.state.db() as session:
        for sku, quantity in persona.cart:
            add_to_cart(session, cart, product_by_sku(session, sku), quantity)
        session.commit()
    forget_cart_count(request)


routes = [
    Route("/demo", demo_page, name="demo"),
    Route("/demo/reset", demo_reset_confirm, methods=["GET"], name="demo_reset_confirm"),
    Route("/demo/reset", demo_reset, methods=["POST"], name="demo_reset"),
    Route("/demo/try/{plugin}/{index:int}", try_flow, methods=["POST"], name="demo_try"),
]

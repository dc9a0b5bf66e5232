"""create_app(settings) -> the Starlette app: routes, middleware, plugins and their sandboxes."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging

import httpx
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from shop import admin, cart, catalog, checkout, demo, i18n, orders
from shop.catalogs import compile_stale
from shop.db import Database, checkpoint_wal_every, make_engine
from shop.page_memo import PageMemo
from shop.payments.attempts import Attempts
from shop.payments.bus import make_bus
from shop.payments.callbacks import UnknownCallbacks, plugin_mount
from shop.payments.contract import PluginRuntime
from shop.payments.ledger import Ledger
from shop.payments.reconciler import Reconciler
from shop.payments.recorder import Recorder
from shop.payments.registry import Plugins, discover
from shop.payments.services import ShopServices
from shop.sandbox_host import uses_own_sandbox
from shop.security import SecurityHeaders
from shop.settings import Settings, check_admin_password
from shop.web import STATIC_DIR, make_templates, render

log = logging.getLogger(__name__)


READY_TIMEOUT_SECONDS = 2.0


async def health(request: Request) -> Response:
    """Liveness: the process answers. Touches nothing, so that a slow database never fails it."""
    return PlainTextResponse("ok")


async def ready(request: Request) -> Response:
    """Readiness: this worker can reach its database (a SELECT 1 in the database threads)."""
    try:
        await asyncio.wait_for(request.app.state.db.run(_select_one, request.app.state.engine), READY_TIMEOUT_SECONDS)
    except TimeoutError:
        return PlainTextResponse(f"database: no answer within {READY_TIMEOUT_SECONDS:g} s", status_code=503)
    except Exception as exc:
        log.warning("/ready: the database cannot be reached: %s", exc)
        return PlainTextResponse(f"database: {type(exc).__name__}", status_code=503)
    return PlainTextResponse("ready")


def _select_one(engine) -> None:
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))


async def not_found(request: Request, exc: Exception) -> Response:
    return await _error_page(request, 404, getattr(exc, "detail", "") or i18n.gettext("There is nothing at this address."))


async def http_error(request: Request, exc: HTTPException) -> Response:
    return await _error_page(request, exc.status_code, exc.detail)


async def server_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return await _error_page(request, 500,
                             i18n.gettext("Something went wrong on our side. Nothing was charged twice; please try again."))


async def _error_page(request: Request, status: int, message: str) -> Response:
    try:
        return await render(request, "error.html", {"status": status, "message": message}, status_code=status)
    except Exception:  # the error page itself must never fail
        return PlainTextResponse(message, status_code=status)


def create_app(settings: Settings, *, plugin_ids: list[str] | None = None, in_process: bool = False,
               run_background: bool = True) -> Starlette:
    """The store. ``in_process`` routes every provider call to this same app (tests, the
    contract kit) instead of over the network; ``run_background`` starts the reconciler."""
    compile_stale()  # a fresh clone served without `make`: its catalogs are compiled here
    db = Database(make_engine(settings.database_url))
    engine = db.engine
    bus = make_bus(settings.redis_url)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        await bus.start()
        # What start-up built (modules, templates, plugins, WSDLs) lives as long as the process:
        # the collector stops scanning it, which took its full passes from ~20 ms to nothing.
        gc.freeze()
        checkpointer = None
        warming: list[asyncio.Task] = []
        if run_background:
            # Plugins' own background work (SeQura's teaser cache, its daily report): no start waits on it.
            warming = [asyncio.create_task(_run_in_background(plugin), name=f"background-{plugin.id}")
                       for plugin in app.state.plugins]
            app.state.reconciler.start()
            if engine.dialect.name == "sqlite":
                checkpointer = asyncio.create_task(checkpoint_wal_every(engine), name="wal-checkpoint")
        try:
            yield
        finally:
            for task in warming:
                task.cancel()
            await asyncio.gather(*warming, return_exceptions=True)
            if checkpointer:
                checkpointer.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await checkpointer
            await app.state.reconciler.stop()
            await app.state.plugins.aclose()
            for client in app.state.clients:
                await client.aclose()
            await bus.stop()
            db.close()

    app = Starlette(
        debug=settings.debug,
        middleware=[
            Middleware(SecurityHeaders, hsts=settings.callback_base_url.startswith("https://")),
            Middleware(SessionMiddleware, secret_key=settings.secret_key, session_cookie="cartwheel",
                       same_site="lax", https_only=settings.callback_base_url.startswith("https"),
                       max_age=14 * 24 * 3600),
            Middleware(i18n.LocaleMiddleware),  # inside the session: the shopper's choice is kept there
        ],
        exception_handlers={404: not_found, HTTPException: http_error, 500: server_error},
        lifespan=lifespan,
    )
    state = app.state
    state.settings = settings
    state.engine = engine
    state.db = db
    state.listing = catalog.Listing(db)
    # Rendered pages kept by what they show (shop.page_memo): the catalog, and a cart seen again unchanged.
    state.catalog_pages = PageMemo("catalog.html")
    state.cart_pages = PageMemo("cart.html")
    state.bus = bus
    state.recorder = Recorder(db)
    state.attempts = Attempts(state)
    state.reconciler = Reconciler(state)
    state.unknown_callbacks = UnknownCallbacks()
    services = ShopServices(state)  # all a plugin may ask of the core

    # Served, the sandboxes are another process (shop.sandbox_host): one provider for every worker.
    # In process (tests, the contract kit), they are mounted here and called through this app.
    transport = httpx.ASGITransport(app=app) if in_process else None
    sandbox_http = httpx.AsyncClient(timeout=settings.provider_timeout_seconds, transport=transport)
    state.clients = [sandbox_http]

    def sandbox_url_for(plugin_id: str) -> str:
        return f"{settings.base_url}/sandbox/{plugin_id}" if in_process else settings.sandbox_url_for(plugin_id)

    def runtime_for(plugin_id: str) -> PluginRuntime:
        client = state.recorder.client(settings.provider_timeout_seconds, transport)
        state.clients.append(client)
        return PluginRuntime(http=client, public_url=settings.callback_base_url,
                             sandbox_url=sandbox_url_for(plugin_id), sandbox_http=sandbox_http, services=services)

    state.plugins = Plugins.build(discover(plugin_ids), settings.env, runtime_for)
    state.ledger = Ledger(db, bus, amount_unreported_by=[p.id for p in state.plugins if not p.reports_amount],
                          method_name=lambda payment: _method_name(state.plugins, payment))
    state.templates = make_templates({p.id: p.templates_dir for p in state.plugins if p.templates_dir})

    routes = [
        Route("/health", health),
        Route("/ready", ready),
        Route("/favicon.ico", favicon),
        Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
        *i18n.routes, *catalog.routes, *cart.routes, *checkout.routes, *orders.routes, *demo.routes,
        admin.mount(state.plugins),
    ]
    state.sandboxes = {}  # mounted in this app (in process only)
    state.sandbox_pages = {}  # plugin id -> its sandbox's control page, for the demo guide
    for plugin in state.plugins:
        routes.append(plugin_mount(plugin))
        if not uses_own_sandbox(plugin, sandbox_url_for(plugin.id)):
            continue
        state.sandbox_pages[plugin.id] = f"{sandbox_url_for(plugin.id)}/"
        if in_process and (sandbox := plugin.sandbox()) is not None:
            state.sandboxes[plugin.id] = sandbox
            routes.append(Mount(f"/sandbox/{plugin.id}", app=sandbox, name=f"sandbox_{plugin.id}"))
    # Also here, for workers started without `shop serve` (uvicorn shop.asgi:app).
    check_admin_password(settings, [plugin.id for plugin in state.plugins if plugin.id not in state.sandbox_pages])
    if not in_process and state.sandbox_pages:
        routes.append(Route("/sandbox/{plugin}/{rest:path}", sandbox_moved, name="sandbox_moved"))
    app.router.routes.extend(routes)
    return app


async def favicon(request: Request) -> Response:
    """Where a browser looks for an icon on a page that names none (a plain error page, say)."""
    return FileResponse(STATIC_DIR / "favicon.svg", media_type="image/svg+xml")


async def _run_in_background(plugin) -> None:
    try:
        await plugin.run_in_background()
    except Exception:
        log.exception("%s: its background work failed", plugin.id)


def _method_name(plugins, payment) -> str:
    """How the confirmation names the way the shopper paid: the provider's name."""
    plugin = plugins.get(payment.plugin) if plugins is not None else None
    return plugin.name if plugin is not None else payment.plugin


async def sandbox_moved(request: Request) -> Response:
    """Sandbox pages live in the sandbox process; an address on the store's origin (an old
    bookmark, a link typed from the demo guide) is sent there. Only for sandboxes in use."""
    page = request.app.state.sandbox_pages.get(request.path_params["plugin"])
    if page is None or request.method != "GET":
        raise HTTPException(404)
    target = page + request.path_params["rest"] + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(target, status_code=307)

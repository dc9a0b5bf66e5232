"""Every sandbox in one process of its own, the way the real providers are services of their own.

A provider has one state whatever the number of shop workers talking to it, and does not forget
an order because the shop crashed. So the sandboxes are not mounted in the store's workers:
``shop serve`` starts this process beside them (``shop sandboxes`` serves it alone), each sandbox
under ``/sandbox/<plugin>/``, and the plugins call it over loopback HTTP as they would call the
provider. Each sandbox's state is written to disk whenever it changed (at most every
``SAVE_EVERY_SECONDS``) and on shutdown, and read back at start: a restarted sandbox still knows
its transactions. Callbacks it had scheduled but not yet sent are lost with the process, as
a provider's would be delayed by an outage; the shop's reconciler reads those payments back.

A sandbox is served only while its plugin points at it: a plugin set to its real provider has
no sandbox here, and when none uses one ``shop serve`` starts no sandbox process at all. Routes
a sandbox names ``test_readback...`` (read-backs of its state for tests, with the payers'
personal data) are left out unless the test harness sets SANDBOX_TEST_READBACKS.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import pickle
from html import escape
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route

from shop.payments.contract import PluginRuntime
from shop.payments.registry import Plugins, discover
from shop.settings import Settings, SettingsError, load_plugin_settings

log = logging.getLogger(__name__)
SAVE_EVERY_SECONDS = 0.5
INDEX_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><title>Cartwheel sandboxes</title>
<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#1f2937}}
code{{color:#6b7280;margin-left:.5rem}}li{{margin:.4rem 0}}</style></head><body>
<h1>Cartwheel sandboxes</h1><p>Each provider played on this machine: its API, its hosted pages and a
control page that sets what it does next. The shop they call back is at <a href="{shop}/">{shop}</a>.</p>
<ul>{items}</ul></body></html>"""


TEST_READBACK = "test_readback"  # the route-name prefix of a sandbox's read-backs for tests


def uses_own_sandbox(plugin: Any, sandbox_url: str) -> bool:
    """A plugin pointed at its sandbox (the default) rather than at the real provider."""
    return points_at_sandbox(plugin.settings, sandbox_url)


def points_at_sandbox(plugin_settings: Any, sandbox_url: str) -> bool:
    base_url = getattr(plugin_settings, "base_url", "")
    return isinstance(base_url, str) and (base_url == sandbox_url or base_url.startswith(f"{sandbox_url}/"))


def sandbox_modes(settings: Settings, only: list[str] | None = None) -> dict[str, bool]:
    """Each plugin's id -> whether it points at its sandbox, read from the settings alone (no
    plugin is built): what ``shop serve`` decides from before it starts anything."""
    modes = {}
    for plugin_id, plugin_cls in discover(only).items():
        sandbox_url = settings.sandbox_url_for(plugin_id)
        try:
            plugin_settings = load_plugin_settings(plugin_cls.settings_model, plugin_id, settings.env, sandbox_url)
        except TypeError as exc:
            raise SettingsError(f"{plugin_id.upper()}_*: {exc}") from None
        modes[plugin_id] = points_at_sandbox(plugin_settings, sandbox_url)
    return modes


def drop_test_readbacks(sandbox: Starlette) -> None:
    """Take a sandbox's read-backs for tests off its routes (its control page checks
    ``state.test_readbacks`` before linking to them)."""
    sandbox.router.routes[:] = [route for route in sandbox.router.routes
                                if not (getattr(route, "name", None) or "").startswith(TEST_READBACK)]
    sandbox.state.test_readbacks = False


class SandboxStateFile:
    """One sandbox's state on disk: the attributes its state object names in ``PERSISTED``."""

    def __init__(self, state: Any, path: Path) -> None:
        self.state = state
        self.path = path
        self._last: bytes | None = None

    def _snapshot(self) -> bytes:
        fields = getattr(type(self.state), "PERSISTED", ())
        return pickle.dumps({name: getattr(self.state, name) for name in fields}, protocol=pickle.HIGHEST_PROTOCOL)

    def load(self) -> bool:
        if not self.path.is_file():
            return False
        try:
            saved = pickle.loads(self.path.read_bytes())
        except Exception:  # a state from an older sandbox version: start afresh rather than not at all
            log.warning("could not read %s; the sandbox starts empty", self.path, exc_info=True)
            return False
        for name, value in saved.items():
            if name in getattr(type(self.state), "PERSISTED", ()):
                setattr(self.state, name, value)
        self._last = self._snapshot()
        return True

    def save_if_changed(self) -> bool:
        data = self._snapshot()
        if data == self._last:
            return False
        # Written beside and renamed over: a crash mid-write leaves the previous state, never half a file.
        partial = self.path.with_suffix(".partial")
        partial.write_bytes(data)
        os.replace(partial, self.path)
        self._last = data
        return True


def build_plugins(settings: Settings, outbound: httpx.AsyncClient, only: list[str] | None = None) -> Plugins:
    """The plugins as the store configures them, so that each sandbox knows what its plugin knows
    (the bank's API key, SEQR's webshop URL); their provider calls are never made from here."""
    def runtime_for(plugin_id: str) -> PluginRuntime:
        return PluginRuntime(http=outbound, public_url=settings.callback_base_url,
                             sandbox_url=settings.sandbox_url_for(plugin_id), sandbox_http=outbound)

    return Plugins.build(discover(only), settings.env, runtime_for)


def create_sandbox_host(settings: Settings, only: list[str] | None = None) -> Starlette:
    """The sandbox process's app: every sandbox the store's plugins use, under /sandbox/<plugin>."""
    outbound = httpx.AsyncClient(timeout=settings.provider_timeout_seconds)
    plugins = build_plugins(settings, outbound, only)
    state_dir = Path(settings.sandbox_state_dir)
    mounted: dict[str, str] = {}
    files: list[SandboxStateFile] = []
    routes: list[Any] = [Route("/health", lambda request: PlainTextResponse("ok"))]
    for plugin in plugins:
        if not uses_own_sandbox(plugin, settings.sandbox_url_for(plugin.id)):
            continue
        sandbox = plugin.sandbox()
        if sandbox is None:
            continue
        if not settings.sandbox_test_readbacks:
            drop_test_readbacks(sandbox)
        mounted[plugin.id] = plugin.name
        routes.append(Mount(f"/sandbox/{plugin.id}", app=sandbox, name=f"sandbox_{plugin.id}"))
        files.append(SandboxStateFile(sandbox.state.sandbox, state_dir / f"{plugin.id}.pickle"))

    async def index(request: Request) -> Response:
        items = "".join(f'<li><a href="/sandbox/{pid}/">{escape(name)}</a> <code>/sandbox/{pid}/</code></li>'
                        for pid, name in mounted.items()) or "<li>None: every plugin points at its real provider.</li>"
        return HTMLResponse(INDEX_PAGE.format(items=items, shop=escape(settings.callback_base_url)))

    routes.append(Route("/", index))

    async def keep_saving() -> None:
        while True:
            await asyncio.sleep(SAVE_EVERY_SECONDS)
            _save(files)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        state_dir.mkdir(parents=True, exist_ok=True)
        for file in files:
            if file.load():
                log.info("sandbox state read back from %s", file.path)
        saver = asyncio.create_task(keep_saving(), name="sandbox-state")
        try:
            yield
        finally:
            saver.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await saver
            await plugins.aclose()  # a mounted app's lifespan does not run: the plugins stop their sandboxes
            _save(files)
            await outbound.aclose()

    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.plugins = plugins
    app.state.mounted = mounted
    return app


def _save(files: list[SandboxStateFile]) -> None:
    for file in files:
        try:
            file.save_if_changed()
        except Exception:  # a full disk must not stop the sandbox; the next round tries again
            log.warning("could not save %s", file.path, exc_info=True)

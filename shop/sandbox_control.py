"""The store's hand on its sandboxes in demo mode: the control API every sandbox serves at the same
addresses under its root, called over HTTP where the sandbox is served (the sandbox process at
SANDBOX_URL, or the store itself in process), as a plugin calls its provider.

    POST <sandbox>/control/reset           forget every transaction and scenario; ids keep counting
    POST <sandbox>/control/demo-scenario   the starting scenario, then the posted switches
                                           (the field names of the sandbox's own scenario form)

Only sandboxes a plugin points at are called: a plugin at its real provider has none.
"""

from __future__ import annotations

from collections.abc import Mapping

import httpx

RESET = "control/reset"
DEMO_SCENARIO = "control/demo-scenario"


class SandboxControlError(RuntimeError):
    """A sandbox did not do what the store asked: the sentence says which and why."""


async def reset_sandboxes(state) -> None:
    """Reset every sandbox in use; raise SandboxControlError naming those that did not answer."""
    failed = []
    for plugin_id in state.sandbox_pages:
        try:
            await _post(state, plugin_id, RESET, {})
        except SandboxControlError as exc:
            failed.append(str(exc))
    if failed:
        raise SandboxControlError("; ".join(failed))


async def set_demo_scenario(state, plugin_id: str, switches: Mapping[str, str]) -> None:
    await _post(state, plugin_id, DEMO_SCENARIO, dict(switches))


async def _post(state, plugin_id: str, path: str, form: dict[str, str]) -> None:
    plugin = state.plugins.get(plugin_id)
    url = state.sandbox_pages[plugin_id] + path
    http = plugin.runtime.sandbox_http or plugin.runtime.http
    try:
        response = await http.post(url, data=form)
    except httpx.HTTPError as exc:
        raise SandboxControlError(f"the {plugin.name} sandbox did not answer ({type(exc).__name__})") from exc
    if response.status_code != 204:
        raise SandboxControlError(f"the {plugin.name} sandbox answered {response.status_code}")

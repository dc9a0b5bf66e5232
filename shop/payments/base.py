"""Defaults a plugin class can inherit so that it only writes what is about its provider."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp

from shop.payments.contract import (
    CallbackOutcome,
    Capability,
    OrderSnapshot,
    PaymentOption,
    PluginRuntime,
)

_PLAIN_REPLIES = {
    CallbackOutcome.ACCEPTED: (200, "ok"),
    CallbackOutcome.IGNORED: (200, "ignored"),
    CallbackOutcome.CONFLICT: (409, "conflict"),
    CallbackOutcome.RETRY: (503, "retry later"),
    CallbackOutcome.REJECTED: (403, "rejected"),
    CallbackOutcome.UNKNOWN: (404, "unknown"),
    CallbackOutcome.UNSUPPORTED: (501, "not implemented"),
}


class PluginBase:
    id: ClassVar[str]
    name: ClassVar[str]
    capabilities: ClassVar[frozenset[Capability]] = frozenset()
    settings_model: ClassVar[type]
    has_read_back: ClassVar[bool] = True
    # The plugin's own templates, reachable in Jinja as "<plugin id>/<file>".
    templates_dir: ClassVar[Path | None] = None

    def __init__(self, settings: Any, runtime: PluginRuntime) -> None:
        self.settings = settings
        self.runtime = runtime

    async def options(self, order: OrderSnapshot) -> Sequence[PaymentOption]:
        return [PaymentOption(self.id, self.id, self.name)]

    def callback_reply(self, outcome: CallbackOutcome) -> Response:
        status, text = _PLAIN_REPLIES[outcome]
        return PlainTextResponse(text, status_code=status)

    def routes(self) -> Sequence[BaseRoute]:
        return []

    def sandbox(self) -> ASGIApp | None:
        return None

    async def aclose(self) -> None:
        """Release what the plugin opened (clients, background tasks)."""

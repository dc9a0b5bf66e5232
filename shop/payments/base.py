"""Defaults a plugin class can inherit so that it only writes what is about its provider."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp

from shop.payments.contract import (
    AdminAction,
    CallbackOutcome,
    Capability,
    DemoFlow,
    OrderSnapshot,
    PaymentAttempt,
    PaymentOption,
    PluginRuntime,
)

# How a provider is answered, by outcome: a plugin overrides ``replies`` with its provider's form.
PLAIN_REPLIES: Mapping[CallbackOutcome, tuple[int, str]] = {
    CallbackOutcome.ACCEPTED: (200, "ok"),
    CallbackOutcome.IGNORED: (200, "ignored"),
    CallbackOutcome.CONFLICT: (409, "conflict"),
    CallbackOutcome.RETRY: (503, "retry later"),
    CallbackOutcome.REJECTED: (403, "rejected"),
    CallbackOutcome.MALFORMED: (400, "malformed"),
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
    # True where the callback is where the sale is confirmed (SeQura's IPN): the core then
    # checks the order against its cart and the stock before calling fetch().
    confirms_on_callback: ClassVar[bool] = False
    replies: ClassVar[Mapping[CallbackOutcome, tuple[int, str]]] = PLAIN_REPLIES
    # What a sales person can show with this plugin, for the demo guide (/demo).
    demo_flows: ClassVar[tuple[DemoFlow, ...]] = ()

    def __init__(self, settings: Any, runtime: PluginRuntime) -> None:
        self.settings = settings
        self.runtime = runtime

    async def options(self, order: OrderSnapshot) -> Sequence[PaymentOption]:
        return [PaymentOption(self.id, self.id, self.name)]

    def callback_reply(self, outcome: CallbackOutcome) -> Response:
        status, text = self.replies[outcome]
        return PlainTextResponse(text, status_code=status)

    def routes(self) -> Sequence[BaseRoute]:
        return []

    def sandbox(self) -> ASGIApp | None:
        return None

    def admin_actions(self, payment: PaymentAttempt) -> Sequence[AdminAction]:
        """Provider-specific back-office buttons for this payment, beyond capture/refund/cancel."""
        return []

    async def admin_action(self, name: str, payment: PaymentAttempt, form: dict[str, str]):
        """Run one of ``admin_actions``: return an Observation for the ledger, or a sentence to show."""
        raise NotImplementedError(name)

    def admin_routes(self) -> Sequence[BaseRoute]:
        """Back-office pages of this plugin, mounted behind the login at /admin/<id>/."""
        return []

    async def aclose(self) -> None:
        """Release what the plugin opened (clients, background tasks)."""

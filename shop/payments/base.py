"""Defaults a plugin class can inherit so that it only writes what is about its provider."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp

from shop.money import Money
from shop.payments.contract import (
    AdminAction,
    CallbackOutcome,
    Capability,
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
    # What a sales person can show with this plugin: (flow, how to show it) pairs for /demo.
    demo_flows: ClassVar[tuple[tuple[str, str], ...]] = ()

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

    # ---------------------------------------------------------------- snippets on the shop's pages
    # A plugin may show something on the shop's own pages: a promotion (SeQura's instalment
    # teasers), a way to buy at once (SEQR's Instant Checkout). Each hook returns HTML, or "" for
    # nothing, and must answer at once: it is called while the page renders, so it never waits on
    # the provider (what is not ready yet loads afterwards through the plugin's own routes).

    async def product_extra(self, product: Any, request: Request | None = None) -> str:
        """Under the product page's price and quantity (``product``: the Product row)."""
        return ""

    async def listing_extra(self, product: Any, request: Request | None = None) -> str:
        """A line on the product's card in the catalog's listing."""
        return ""

    async def cart_extra(self, total: Money, request: Request | None = None) -> str:
        """Under the cart's total; rendered again whenever the cart changes (quantity, discount)."""
        return ""

    async def run_in_background(self) -> None:
        """Work of the plugin's own while a store worker runs (fill the caches the hooks above
        read, a daily job), started in the background with the worker and cancelled when it
        stops. An exception is logged and changes nothing else."""

    async def aclose(self) -> None:
        """Release what the plugin opened (clients, background tasks)."""

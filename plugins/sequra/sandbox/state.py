"""The sandbox's memory: orders, scenario switches, the SMS outbox, held callbacks."""

from __future__ import annotations

import asyncio
import dataclasses
import time
import uuid as uuidlib
from dataclasses import dataclass, field
from typing import Any

import httpx

from shop.testing.driver import CallbackRequest

DECISIONS = ("auto", "approve", "reject", "review_approve", "review_cancel")
DELIVERIES = ("normal", "slow", "lost", "repeated")


@dataclass
class Scenario:
    """What the control page sets. ``auto`` decides from the spec's test data."""

    decision: str = "auto"
    delivery: str = "normal"  # of the IPN: normal, slow, lost, repeated
    slow_seconds: float = 5.0
    review_delay: float = 10.0  # on hold -> second IPN or cancel event (real: under a minute)
    ipn_timeout: float = 30.0
    ipn_retries: int = 0  # re-send an IPN that got 5xx, no answer, or 2xx without the PUT
    ipn_retry_after: float = 5.0
    conflict_on_confirm: bool = False  # the next confirm PUT answers 409
    confirm_answer_delay: float = 0.0  # a confirm/hold PUT takes effect at once, its 200 comes this late
    server_error: bool = False  # every API endpoint answers 500
    strict_lines: bool = False  # enforce price_with_tax * quantity == total_with_tax
    event_attempts: int = 3  # eyewear policy is 10; fewer keeps the demo quick
    event_backoff: float = 1.0


@dataclass
class SandboxOrder:
    uuid: str
    account: str
    merchant_ref: str
    payload: dict[str, Any]  # the ``order`` object as solicited
    base: str  # the sandbox's public base URL when the order was made
    state: str = "solicited"
    product: str | None = None
    campaign: str | None = None
    step: str = "identify"  # where the identification form is
    message: str = ""
    redirect: str | None = None
    shopper: dict[str, str] = field(default_factory=dict)  # what the form collected
    order_ref_1: str | None = None
    order_ref_2: str | None = None
    confirmed_total: int | None = None
    shipped_cart: dict[str, Any] | None = None
    unshipped_cart: dict[str, Any] | None = None
    review: str | None = None  # "approve" / "cancel" once a decision put it on hold
    ipn_in_flight: bool = False  # an IPN is being delivered (or waits for its next retry)
    timer: asyncio.Task | None = None  # the pending review decision
    log: list[tuple[float, str]] = field(default_factory=list)

    @property
    def merchant(self) -> dict[str, Any]:
        return self.payload.get("merchant") or {}

    @property
    def total(self) -> int:
        return self.payload["cart"]["order_total_with_tax"]

    @property
    def uri(self) -> str:
        return f"{self.base}/orders/{self.uuid}"

    def note(self, text: str) -> None:
        self.log.append((time.time(), text))

    def read_back(self) -> dict[str, Any]:
        return {"uuid": self.uuid, "state": self.state, "product_code": self.product,
                "merchant_ref": self.merchant_ref,
                "merchant_reference": {"order_ref_1": self.order_ref_1, "order_ref_2": self.order_ref_2},
                "form_step": self.step, "cart": self.payload.get("cart"),
                "shipped_cart": self.shipped_cart, "unshipped_cart": self.unshipped_cart,
                "log": [text for _, text in self.log]}


@dataclass
class Sms:
    to: str
    text: str
    link: str
    uuid: str
    sent_at: float = field(default_factory=time.time)


class SandboxState:
    # What SeQura remembers across a restart of its process (shop.sandbox_host keeps it on disk).
    PERSISTED = ("scenario", "orders", "outbox", "deliveries", "hold_callbacks", "held", "break_confirm",
                 "delivery_reports")

    def __init__(self, outbound: httpx.AsyncClient, **options: Any) -> None:
        self.outbound = outbound
        self.scenario = Scenario(**{k: v for k, v in options.items() if hasattr(Scenario, k)})
        self._starting_scenario = dataclasses.replace(self.scenario)  # what a reset goes back to
        self.orders: dict[str, SandboxOrder] = {}
        self.outbox: list[Sms] = []
        self.delivery_reports: list[dict] = []  # the daily reports received, newest last
        self.deliveries: list[dict[str, Any]] = []  # every IPN/event attempt, for the control page
        # The contract kit's driver turns this on: callbacks are kept here, not sent.
        self.hold_callbacks = False
        self.held: list[CallbackRequest] = []
        self.break_confirm = False
        self.tasks: set[asyncio.Task] = set()
        self.timers: set[asyncio.Task] = set()  # review decisions waiting for their delay

    def reset(self) -> None:
        """SeQura as it started (the demo's reset): no orders, SMS or callbacks, the starting
        scenario. Order uuids are random: none the shop saw before is ever given again."""
        for task in (*self.tasks, *self.timers):
            task.cancel()  # no IPN or review decision reaches the shop after the reset
        self.orders.clear()
        self.outbox.clear()
        self.deliveries.clear()
        self.held.clear()
        self.hold_callbacks = self.break_confirm = False
        self.reset_scenario()

    def reset_scenario(self) -> None:
        self.scenario = dataclasses.replace(self._starting_scenario)

    def new_order(self, account: str, merchant_ref: str, payload: dict[str, Any], base: str) -> SandboxOrder:
        order = SandboxOrder(str(uuidlib.uuid4()), account, merchant_ref, payload, base)
        order.note("solicited")
        self.orders[order.uuid] = order
        return order

    def spawn(self, coro, *, timer: bool = False) -> asyncio.Task:
        """Run a callback later, outside the request that caused it; keep a reference."""
        task = asyncio.get_running_loop().create_task(coro)
        group = self.timers if timer else self.tasks
        group.add(task)
        task.add_done_callback(group.discard)
        return task

    async def drain(self, *, timers: bool = True) -> None:
        """Wait until the pending callbacks (and, with ``timers``, review decisions) are done."""
        while self.tasks or (timers and self.timers):
            pending = list(self.tasks) + (list(self.timers) if timers else [])
            await asyncio.gather(*pending, return_exceptions=True)

    async def aclose(self) -> None:
        pending = list(self.tasks) + list(self.timers)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

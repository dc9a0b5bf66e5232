"""What one completed checkout costs the store, per payment method: N shoppers pay at once
through each provider's sandbox (in its own process, as a real provider is another company's
machine) and the bench counts the CPU the store's processes spent from the first cart to the
moment every payment is paid in the store's database (callbacks, read-backs and pages included),
less what the store spends idle over the same time (measured just before, with no shopper).

Run for one worker on SQLite and for two workers on PostgreSQL + Redis (the database and Redis
servers' own CPU is not the store's and is left out, as the sandboxes' is).

    .venv/bin/python bench/checkout_cost.py [--orders 40] [--setups sqlite,postgres] [--timeout 240]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent))
import shoppers  # noqa: E402
from shoppers import JOURNEYS, Browser, Journey  # noqa: E402
from soak import LABELS, Stack, descendants, read_only_url  # noqa: E402
from summary import record  # noqa: E402

METHODS = ("banktransfer:banktransfer", "secupay:creditcard", "seqr:seqr", "sequra:i1")
SKUS = ("PEN-BLUE", "TEA-SENCHA", "NOTEBOOK-A5")  # plenty in stock: this bench is about cost, not races
GOAL_CPU_MS = 15.0
IDLE_SECONDS = 3.0  # the store alone, before each method: its idle CPU is not the checkouts' cost
_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue  # a worker that ended: its CPU is lost to the count, which makes the figure low
        total += (int(fields[11]) + int(fields[12])) / _TICKS
    return total


def paid_count(database_url: str, plugin: str) -> int:
    engine = create_engine(read_only_url(database_url))
    try:
        with engine.connect() as db:
            return db.execute(text("SELECT count(*) FROM payment WHERE plugin = :p AND status = 'paid'"),
                              {"p": plugin}).scalar()
    finally:
        engine.dispose()


@dataclass(frozen=True)
class Cost:
    method: str
    shoppers: int
    paid: int
    seconds: float
    cpu_seconds: float
    idle_cpu: float  # CPU seconds per second the store spends with no shopper (its loops, its workers' pings)

    @property
    def ms_per_checkout(self) -> float:
        """What the checkouts cost beyond what the store spends idle over the same time."""
        return max(self.cpu_seconds - self.idle_cpu * self.seconds, 0.0) * 1000 / max(self.paid, 1)

    def row(self, setup: str) -> str:
        met = "met" if self.paid == self.shoppers and self.ms_per_checkout <= GOAL_CPU_MS else "NOT met"
        return (f"| {setup} | {LABELS[self.method]} | {self.paid}/{self.shoppers} | {self.ms_per_checkout:.1f} ms "
                f"| {self.idle_cpu * 1000:.0f} ms/s | {self.paid / self.seconds:.1f} | {met} |")


async def measure(stack: Stack, method: str, count: int, timeout: float) -> Cost:
    store = stack.store
    pids = [store.process.pid, *descendants(store.process.pid)]
    plugin = method.partition(":")[0]
    already = paid_count(stack.database_url, plugin)
    journey_fn = JOURNEYS[method]
    browsers = [Browser(store.url) for _ in range(count)]
    idle_before, idle_started = cpu_seconds(pids), time.perf_counter()
    await asyncio.sleep(IDLE_SECONDS)
    idle = (cpu_seconds(pids) - idle_before) / (time.perf_counter() - idle_started)
    before, started = cpu_seconds(pids), time.perf_counter()

    async def shop(index: int, browser: Browser) -> None:
        await journey_fn(browser, Journey(method), store.sandbox_url, SKUS[index % len(SKUS)], True)

    await asyncio.wait_for(asyncio.gather(*(shop(i, b) for i, b in enumerate(browsers))), timeout)
    deadline = time.perf_counter() + timeout
    while paid_count(stack.database_url, plugin) - already < count and time.perf_counter() < deadline:
        await asyncio.sleep(0.2)  # the last webhooks and notifications are still on their way
    seconds, spent = time.perf_counter() - started, cpu_seconds(pids) - before
    for browser in browsers:
        await browser.http.aclose()
    return Cost(method, count, paid_count(stack.database_url, plugin) - already, seconds, spent, idle)


def run_setup(setup: str, count: int, timeout: float) -> list[Cost]:
    with tempfile.TemporaryDirectory() as workdir:
        stack = Stack(Path(workdir), sqlite=setup == "sqlite")
        stack.start()
        try:
            warm = asyncio.run(measure(stack, "banktransfer:banktransfer", 4, timeout))  # imports, pools, caches
            assert warm.paid == 4, "the warm-up checkouts did not complete"
            return [asyncio.run(measure(stack, method, count, timeout)) for method in METHODS]
        finally:
            stack.stop()


async def _no_thinking() -> None:
    """Shoppers here click at once: checkouts/s is what the store sustains, not how people read."""


def main() -> None:
    shoppers._think = _no_thinking
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=40, help="shoppers per payment method")
    parser.add_argument("--setups", default="sqlite,postgres", help="sqlite (1 worker), postgres (2 workers + Redis)")
    parser.add_argument("--timeout", type=float, default=240.0, help="seconds per method at most")
    parser.add_argument("--summary", default="", help="add the headline figures to this file (bench/summary.py)")
    args = parser.parse_args()
    names = {"sqlite": "1 worker, SQLite", "postgres": "2 workers, PostgreSQL + Redis"}
    results = {setup: run_setup(setup, args.orders, args.timeout) for setup in args.setups.split(",")}
    print(f"{args.orders} shoppers per method at once, each paying through the sandbox; store CPU from the first "
          f"cart until every payment is paid in the store, less its idle CPU; {os.cpu_count()} cores shared with the shoppers, the "
          "sandboxes and the database")
    print()
    print(f"| store | method | paid | store CPU per checkout | store idle | checkouts/s | goal ≤ {GOAL_CPU_MS:g} ms |")
    print("|---|---|---|---|---|---|---|")
    for setup, costs in results.items():
        for cost in costs:
            print(cost.row(names[setup]))
        each = ", ".join(f"{LABELS[cost.method]} {cost.ms_per_checkout:.0f}" for cost in costs)
        record(args.summary, f"store CPU per checkout, {names[setup]}", f"{each} ms", f"≤ {GOAL_CPU_MS:g} ms each",
               all(cost.paid == cost.shoppers and cost.ms_per_checkout <= GOAL_CPU_MS for cost in costs))


if __name__ == "__main__":
    main()

"""Soak: faults lose nothing. N shoppers check out at once with every payment method (bank
transfer, secupay by card and by prepayment, SEQR, SeQura) against the store as it runs in
production: two workers on PostgreSQL + Redis (or one on SQLite), the sandboxes in a process of
their own as the real providers would be. While they shop, the sandboxes' control endpoints
switch their scenarios: callbacks lost, repeated, late and reordered, then provider APIs slow
and answering 5xx; then back to normal so that the run can converge. With --kill the store (its
parent and every worker) is killed with SIGKILL mid-run and started again on the same database,
while the sandbox process carries on; shoppers whose requests fail meanwhile retry them as a
person reloads a page (bounded).

Then the bench waits (bounded) for the store's reconciler to converge and checks, in the
store's database (read-only queries) and in each sandbox's state (its JSON control endpoints):

  lost      money at the provider (credited, paid, committed, confirmed) the store has not as paid
  doubled   a payment moved into paid more than once, or an order holds two paid payments unflagged
  oversold  stock not conserved: per product, initial - current != units held by open orders
            and sold to paid ones; or a stock below zero
  stranded  a payment left in 'created' (or any state outside the ledger's), or pending in the
            store while the provider says it is over
  and one confirmation mail per paid order, none for the others; nothing paid in the store the
  provider does not have as paid.

Prints the run's timeline, what the shoppers saw, how late the bench's own loop and the sandbox
process were (on a shared machine they can set the figures too), a table per payment method and
a last line ``soak: N checkouts, lost L, doubled D, oversold O, stranded S``; exits 1 when an
invariant fails. With --workdir the servers' logs and soak-facts.json (the facts the verdict was
drawn from) are kept there.

    .venv/bin/python bench/soak.py [--orders 300] [--kill] [--sqlite] [--window S] [--timeout 600]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from shop.cli import seed, upgrade  # noqa: E402
from shop.settings import Settings  # noqa: E402
from shop.testing.server import ROOT, SANDBOXES_SERVING, SHOP, ServerProcess, reserved_port, served_url  # noqa: E402
from shop.testing.services import PostgresServer, RedisServer  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load import percentile  # noqa: E402
from shoppers import JOURNEYS, Browser, Journey  # noqa: E402

METHODS = ("banktransfer:banktransfer", "secupay:creditcard", "secupay:prepaid", "seqr:seqr", "sequra:i1")
LABELS = {"banktransfer:banktransfer": "bank transfer", "secupay:creditcard": "secupay card",
          "secupay:prepaid": "secupay prepayment", "seqr:seqr": "SEQR", "sequra:i1": "SeQura pay later"}
# What shoppers put in their carts. Three products run out (15 daypacks, 25 lamps, 3 posters):
# shoppers race for the last ones, and the store must not sell more than it has.
SKU_CHOICES = ("TEA-SENCHA", "TEA-SENCHA", "PEN-BLUE", "PEN-BLUE", "NOTEBOOK-A5", "MUG-ENAMEL", "PEN-CASE",
               "LAMP-DESK", "BACKPACK-20L", "POSTER-MAP")
# One shopper in ten of each method leaves at the payment step (from the second round of five
# on, so that short runs have them too): their orders stay open, holding stock.
ABANDONS_EVERY, ABANDON_ROUND = 10, 1
RETRY_FOR = 90.0  # seconds a shopper keeps reloading a page the store does not answer
JOURNEY_SECONDS = 180.0  # one shopper's whole visit at most
SETTLE_SECONDS = 3.0  # converged means converged for this long: a late callback may still move something
STORE_ENV = {
    # The reconciler reads a payment left pending 5 s without news, waking every 2 s: what a
    # lost callback or a killed store left behind is read back within seconds.
    "RECONCILE_EVERY_SECONDS": "2", "RECONCILE_AFTER_SECONDS": "5",
}
OPEN = {"created", "pending", "authorized"}
MONEY = {"paid", "refunded"}
STATES = {"created", "pending", "authorized", "paid", "failed", "cancelled", "expired", "refunded"}


# --------------------------------------------------------------------------- the scenarios


@dataclass(frozen=True)
class Phase:
    at: float  # when it starts, as a share of the shopping window
    name: str
    forms: dict[str, dict[str, str]]  # sandbox -> the form its control endpoint takes


CONTROL = {"banktransfer": "/sandbox/banktransfer/scenario", "secupay": "/sandbox/secupay/control/scenarios",
           "seqr": "/sandbox/seqr/control/scenarios", "sequra": "/sandbox/sequra/_control/scenario"}


def phase(at: float, name: str, *, webhook: str = "send", bank_api: str = "ok", push: str = "normal",
          secupay_api: str = "normal", notification: str = "deliver", soap: str = "normal", ipn: str = "normal",
          sequra_500: bool = False) -> Phase:
    """One setting of all four sandboxes. SEQR's and SeQura's forms reset every switch they do not
    name (a checkbox left out is off), so theirs are given whole."""
    seqr = {"notification": notification, "soap": soap, "notification_body": "form", "bank": "approve",
            "refunds": "allow", "check_row_sum": "on", "slow_seconds": "3", "late_seconds": "5"}
    sequra = {"decision": "auto", "delivery": ipn, **({"server_error": "on"} if sequra_500 else {})}
    return Phase(at, name, {"banktransfer": {"webhook": webhook, "read": bank_api},
                            "secupay": {"push": push, "api": secupay_api}, "seqr": seqr, "sequra": sequra})


PHASES = (
    phase(0.0, "normal"),
    phase(0.2, "callbacks lost", webhook="lost", push="lost", notification="lost", ipn="lost"),
    phase(0.325, "callbacks repeated", webhook="repeat", push="repeated", notification="repeated", ipn="repeated"),
    phase(0.45, "callbacks late or reordered, APIs slow", webhook="late", bank_api="slow", push="reordered",
          secupay_api="slow", notification="late", soap="slow", ipn="slow"),
    phase(0.575, "APIs answer 5xx", webhook="late", bank_api="error", push="late", secupay_api="error",
          soap="fault", sequra_500=True),
    phase(0.7, "normal"),
)
KILL_AT = 0.4


async def switch(control: Browser, scenario: Phase) -> None:
    for sandbox, form in scenario.forms.items():
        answer = await control.post(CONTROL[sandbox], data=form)
        assert answer.status_code in (200, 303), f"{sandbox} scenario: {answer.status_code} {answer.text[:200]}"


# --------------------------------------------------------------------------- the processes


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (Linux /proc): uvicorn's workers and multiprocessing's helper."""
    children: dict[int, list[int]] = defaultdict(list)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children[parent].append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def wait_for_http(url: str, seconds: float, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited ({process.returncode}):\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {seconds:.0f} s")


class Stack:
    """The soak's processes: PostgreSQL and Redis (or SQLite), the sandbox process, the store."""

    def __init__(self, workdir: Path, sqlite: bool) -> None:
        self.workdir = workdir
        self.sqlite = sqlite
        self.postgres = None if sqlite else PostgresServer()
        self.redis = None if sqlite else RedisServer()
        self.store: ServerProcess | None = None
        self.sandboxes: subprocess.Popen | None = None

    @property
    def description(self) -> str:
        if self.sqlite:
            return "one store process on SQLite"
        return f"{self.store.workers} store workers on PostgreSQL + Redis"

    def start(self) -> None:
        env = dict(STORE_ENV)
        if self.postgres is not None:
            env.update(DATABASE_URL=self.postgres.url, REDIS_URL=self.redis.url)
        # The store's port is chosen before it starts: the sandbox
        # process, started first so that it outlives the store's kills, calls only the shop's address.
        # The port stays bound (not listening) until the store starts, so that no other process
        # binding port 0 meanwhile is given it.
        reserved = reserved_port()
        self.store = ServerProcess(self.workdir, env, workers=1 if self.sqlite else 2, port=reserved.getsockname()[1])
        # The sandboxes start while the database servers start and the database is prepared:
        # each takes seconds on a busy machine. They bind any free port and say which.
        log = self.workdir / "sandboxes.log"
        self.sandboxes = subprocess.Popen([str(SHOP), "sandboxes", "--port", "0"], env=self.store.env, cwd=ROOT,
                                          stdout=log.open("a"), stderr=subprocess.STDOUT)
        if self.postgres is not None:
            self.postgres.start()
            self.redis.start()
        self.prepare()
        self.store.env["SANDBOX_URL"] = served_url(self.sandboxes, log, SANDBOXES_SERVING)
        wait_for_http(f"{self.store.env['SANDBOX_URL']}/health", 90, self.sandboxes, log)
        reserved.close()
        self.store.start("--no-sandboxes")

    def prepare(self) -> None:
        """``shop db upgrade`` and ``shop seed``, run here rather than as two more processes that
        would each import the store again (seconds each on a busy 2-core machine)."""
        settings = Settings.from_env(self.store.env)
        upgrade(settings)
        seed(settings)

    @property
    def database_url(self) -> str:
        return self.store.env["DATABASE_URL"]

    def kill_store(self) -> list[int]:
        """kill -9 the store: its parent first stopped (so that it cannot start a new worker),
        then it and everything below it. Returns the pids killed."""
        parent = self.store.process.pid
        os.kill(parent, signal.SIGSTOP)
        pids = [parent, *descendants(parent)]
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.store.process.wait()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(Path(f"/proc/{pid}").exists() and not _zombie(pid) for pid in pids):
            time.sleep(0.05)
        return pids

    def restart_store(self) -> None:
        self.store.start("--no-sandboxes")

    def stop(self) -> None:
        if self.store is not None and self.store.process is not None:
            stragglers = descendants(self.store.process.pid)
            self.store.stop()
            for pid in stragglers:
                if Path(f"/proc/{pid}").exists() and not _zombie(pid):
                    os.kill(pid, signal.SIGKILL)
        if self.sandboxes is not None and self.sandboxes.poll() is None:
            self.sandboxes.terminate()
            try:
                self.sandboxes.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.sandboxes.kill()
                self.sandboxes.wait()
        for server in (self.redis, self.postgres):
            if server is not None and server.process is not None:
                server.stop()


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return True


# --------------------------------------------------------------------------- the run


@dataclass
class Plan:
    method: str
    sku: str
    pays: bool
    start_at: float  # seconds after the start


@dataclass
class Run:
    journeys: list[Journey] = field(default_factory=list)
    retries: int = 0
    server_errors: int = 0
    loop_lag_ms: list[float] = field(default_factory=list)  # the bench's own event loop, late by
    sandbox_ms: list[float] = field(default_factory=list)  # the sandbox process answering /health
    timeline: list[tuple[float, str]] = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter)

    def mark(self, what: str) -> None:
        self.timeline.append((time.perf_counter() - self.started, what))


def plans(count: int, window: float, seed: int) -> list[Plan]:
    chance = random.Random(seed)
    return [Plan(METHODS[i % len(METHODS)], chance.choice(SKU_CHOICES),
                 (i // len(METHODS)) % ABANDONS_EVERY != ABANDON_ROUND, window * i / count) for i in range(count)]


async def shop(plan: Plan, run: Run, store_url: str, sandbox_url: str) -> None:
    await asyncio.sleep(max(0.0, plan.start_at - (time.perf_counter() - run.started)))
    journey = Journey(plan.method)
    run.journeys.append(journey)
    browser = Browser(store_url, retry_for=RETRY_FOR)
    try:
        await asyncio.wait_for(JOURNEYS[plan.method](browser, journey, sandbox_url, plan.sku, plan.pays),
                               JOURNEY_SECONDS)
    except TimeoutError:
        journey.outcome = f"gave up after {JOURNEY_SECONDS:.0f} s"
    except (httpx.HTTPError, AssertionError, AttributeError, KeyError, ValueError) as exc:
        journey.outcome = f"error: {type(exc).__name__}: {str(exc)[:80]}"
    finally:
        run.retries += browser.retries
        run.server_errors += browser.server_errors
        await browser.aclose()


async def conduct(run: Run, control: Browser, window: float) -> None:
    """Switch the sandboxes' scenarios as the shopping window goes on."""
    for scenario in PHASES:
        await asyncio.sleep(max(0.0, scenario.at * window - (time.perf_counter() - run.started)))
        asked = time.perf_counter()
        await switch(control, scenario)
        took = time.perf_counter() - asked
        run.mark(f"scenario: {scenario.name}" + (f" (the switch took {took:.1f} s)" if took > 0.5 else ""))


async def probe(run: Run, control: Browser) -> None:
    """Once a second: how late the bench's own loop wakes, and how fast the sandbox process
    answers. Either one slow means the machine, not only the store, set the figures."""
    while True:
        asked = time.perf_counter()
        await asyncio.sleep(1.0)
        woke = time.perf_counter()
        run.loop_lag_ms.append((woke - asked - 1.0) * 1000)
        try:
            await control.http.get("/health")
            run.sandbox_ms.append((time.perf_counter() - woke) * 1000)
        except httpx.HTTPError:
            run.sandbox_ms.append(float("inf"))


async def kill_and_restart(run: Run, stack: Stack, at: float) -> None:
    await asyncio.sleep(max(0.0, at - (time.perf_counter() - run.started)))
    pids = stack.kill_store()
    run.mark(f"kill -9 the store: {len(pids)} process{'es' if len(pids) > 1 else ''} "
             f"(pid{'s' if len(pids) > 1 else ''} {', '.join(map(str, pids))})")
    await asyncio.to_thread(stack.restart_store)
    run.mark("store answering again (same database; the sandbox process carried on)")


# --------------------------------------------------------------------------- what happened


@dataclass(frozen=True)
class AtProvider:
    method: str  # the table row it belongs to when no store payment names it
    state: str  # paid (money moved) | ended (without money) | open
    raw: str


async def provider_facts(control: Browser) -> dict[tuple[str, str], AtProvider]:
    """Each provider's own account of every payment, keyed (plugin, the id the store keeps)."""
    facts: dict[tuple[str, str], AtProvider] = {}
    bank = (await control.get("/sandbox/banktransfer/state.json")).json()
    for credit in bank["expected_credits"]:
        state = {"credited": "paid", "cancelled": "ended"}.get(credit["status"], "open")
        facts["banktransfer", credit["id"]] = AtProvider("banktransfer:banktransfer", state, credit["status"])
    secupay = (await control.get("/sandbox/secupay/control/state.json")).json()
    for stx in secupay["transactions"]:
        paid = stx["status"] in ("ok", "received", "shipped", "collection", "collected")
        state = "paid" if paid else "ended" if stx["status"] in ("failed", "cancelled") else "open"
        facts["secupay", stx["id"]] = AtProvider(f"secupay:{stx['payment_method'] or 'creditcard'}", state,
                                                 stx["status"])
    seqr = (await control.get("/sandbox/seqr/control/state.json")).json()
    for invoice in seqr["invoices"]:
        # A PAID the shop has not read yet is provisional: SEQR reverses it after its commit window.
        paid = invoice["status"] == "PAID" and invoice["committed"]
        state = "paid" if paid else "ended" if invoice["status"] in ("CANCELED", "FAILED", "EXPIRED") else "open"
        raw = invoice["status"] if invoice["committed"] or invoice["status"] != "PAID" else "PAID (uncommitted)"
        facts["seqr", invoice["reference"]] = AtProvider("seqr:seqr", state, raw)
    for order in (await control.get("/sandbox/sequra/_control/orders")).json():
        state = {"confirmed": "paid", "shipped": "paid", "cancelled": "ended", "rejected": "ended"}.get(
            order["state"], "open")
        facts["sequra", order["uuid"]] = AtProvider("sequra:i1", state, order["state"])
    return facts


def read_only_url(database_url: str) -> str:
    if database_url.startswith("sqlite:///"):
        return f"sqlite:///file:{database_url.removeprefix('sqlite:///')}?mode=ro&uri=true"
    return database_url


def store_facts(database_url: str) -> dict:
    """The store's own account, read straight from its database."""
    engine = create_engine(read_only_url(database_url))
    try:
        with engine.connect() as db:
            return {
                "payments": db.execute(text(
                    "SELECT id, order_id, plugin, option, status, reference, late_payment FROM payment")).all(),
                "orders": {row.id: row for row in db.execute(text(
                    'SELECT id, number, status, needs_attention, attention_reason, created_at FROM "order"'))},
                "lines": db.execute(text(
                    "SELECT order_id, product_id, quantity FROM orderline WHERE product_id IS NOT NULL")).all(),
                "stock": {row.id: (row.sku, row.stock)
                          for row in db.execute(text("SELECT id, sku, stock FROM product"))},
                "into_paid": Counter(dict(db.execute(text(
                    "SELECT payment_id, count(*) FROM paymentevent WHERE kind = 'transition' "
                    "AND operation LIKE '% -> paid' GROUP BY payment_id")).all())),
                "mails": Counter(dict(db.execute(text(
                    "SELECT order_id, count(*) FROM outboxmessage WHERE subject LIKE '%is confirmed' "
                    "GROUP BY order_id")).all())),
            }
    finally:
        engine.dispose()


@dataclass
class Row:
    checkouts: int = 0
    paid: int = 0
    ended: int = 0
    open: int = 0
    lost: int = 0
    doubled: int = 0
    stranded: int = 0


@dataclass
class Verdict:
    rows: dict[str, Row]
    oversold: int
    problems: list[str]
    unsettled: int  # lost + stranded + wrong mails + unfounded: what the reconciler may still mend

    def total(self, name: str) -> int:
        return sum(getattr(row, name) for row in self.rows.values())

    @property
    def failed(self) -> bool:
        return bool(self.problems)


def judge(store: dict, providers: dict[tuple[str, str], AtProvider], initial_stock: dict[int, int]) -> Verdict:
    rows = {method: Row() for method in METHODS}
    problems: list[str] = []
    unsettled = 0

    def row(method: str) -> Row:
        return rows.setdefault(method, Row())

    def problem(what: str) -> None:
        if len(problems) < 40:
            problems.append(what)

    claimed = set()
    for p in store["payments"]:
        method = f"{p.plugin}:{p.option}"
        r = row(method)
        r.checkouts += 1
        seen = providers.get((p.plugin, p.reference or ""))
        if seen is not None:
            claimed.add((p.plugin, p.reference))
        at = f"{p.plugin} says {seen.raw}" if seen else f"{p.plugin} has no {p.reference or 'reference'}"
        if p.status in MONEY:
            r.paid += 1
            if seen is None or seen.state != "paid":
                problem(f"unfounded: payment {p.id} is {p.status} in the store, {at}")
                unsettled += 1
        elif p.status not in STATES or p.status == "created":
            r.stranded += 1
            problem(f"stranded: payment {p.id} ({method}) left {p.status!r}; {at}")
            unsettled += 1
        elif seen is not None and seen.state == "paid":
            r.lost += 1
            problem(f"lost: payment {p.id} ({method}) is {p.status} in the store, {at}")
            unsettled += 1
        elif p.status in OPEN:
            if seen is not None and seen.state == "ended":
                r.stranded += 1
                problem(f"stranded: payment {p.id} ({method}) is {p.status} in the store, {at}")
                unsettled += 1
            else:
                r.open += 1
        else:
            r.ended += 1
        if store["into_paid"][p.id] > 1:
            r.doubled += 1
            problem(f"doubled: payment {p.id} ({method}) moved into paid {store['into_paid'][p.id]} times")
    for key, seen in providers.items():
        if seen.state == "paid" and key not in claimed:
            row(seen.method).lost += 1
            problem(f"lost: {key[0]} {key[1]} is {seen.raw} at the provider; no store payment names it")
            unsettled += 1

    holding: dict[int, list] = defaultdict(list)
    for p in store["payments"]:
        if p.status in MONEY | {"authorized"}:
            holding[p.order_id].append(p)
    for order_id, held in holding.items():
        if len(held) > 1 and not store["orders"][order_id].needs_attention:
            row(f"{held[-1].plugin}:{held[-1].option}").doubled += 1
            problem(f"doubled: order {order_id} holds {len(held)} paid payments and is not flagged")

    oversold = 0
    held_units: Counter = Counter()
    for line in store["lines"]:
        if store["orders"][line.order_id].status in ("awaiting_payment", "authorized", "paid"):
            held_units[line.product_id] += line.quantity
    for product_id, (sku, current) in store["stock"].items():
        taken = initial_stock[product_id] - current
        off = abs(taken - held_units[product_id]) + max(0, -current)
        if off:
            oversold += off
            problem(f"oversold: {sku} started with {initial_stock[product_id]}, has {current}, so {taken} went; "
                    f"open and paid orders hold {held_units[product_id]}")

    for order_id, order in store["orders"].items():
        wanted = 1 if order.status in MONEY else 0
        sent = store["mails"][order_id]
        if sent != wanted:
            problem(f"mail: order {order_id} is {order.status} and has {sent} confirmation mails, not {wanted}")
            unsettled += 1
    return Verdict(rows, oversold, problems, unsettled)


async def converge(run: Run, control: Browser, database_url: str, initial_stock: dict[int, int],
                   seconds: float) -> tuple[Verdict, dict, dict]:
    """Judge until nothing is left to mend for SETTLE_SECONDS, or the time is up. Returns the
    verdict and the facts it was drawn from (store, providers)."""
    deadline = time.perf_counter() + seconds
    calm_since = None
    while True:
        store, providers = store_facts(database_url), await provider_facts(control)
        verdict = judge(store, providers, initial_stock)
        now = time.perf_counter()
        if verdict.unsettled:
            calm_since = None
        elif calm_since is None:
            calm_since = now
        if (calm_since is not None and now - calm_since >= SETTLE_SECONDS) or now >= deadline:
            run.mark("converged" if verdict.unsettled == 0 else f"not converged after {seconds:.0f} s")
            return verdict, store, providers
        await asyncio.sleep(1.0)


def write_facts(path: Path, run: Run, store: dict, providers: dict) -> None:
    """Everything the verdict was drawn from, for reading a failed run afterwards."""
    def rows(items) -> list[dict]:
        return [dict(row._mapping) for row in items]

    path.write_text(json.dumps({
        "timeline": run.timeline,
        "shoppers": [dataclasses.asdict(journey) for journey in run.journeys],
        "payments": rows(store["payments"]), "orders": rows(store["orders"].values()), "lines": rows(store["lines"]),
        "stock": {sku: stock for sku, stock in store["stock"].values()},
        "providers": [{"plugin": plugin, "reference": reference, **dataclasses.asdict(seen)}
                      for (plugin, reference), seen in providers.items()],
    }, indent=1, default=str))


def report(stack: Stack, run: Run, verdict: Verdict, count: int, window: float, kill: bool) -> None:
    print(f"soak: {count} shoppers over {window:.0f} s, {stack.description}, sandboxes in their own process"
          + (", the store killed with SIGKILL mid-run" if kill else ""))
    for at, what in run.timeline:
        print(f"  t={at:6.1f} s  {what}")
    print("  shoppers:")
    for method in METHODS:
        outcomes = Counter(j.outcome for j in run.journeys if j.method == method)
        print(f"    {LABELS[method]:<20}{', '.join(f'{n} {o}' for o, n in outcomes.most_common())}")
    print(f"  requests sent again by the shoppers' browsers: {run.retries}; answers 5xx they saw: {run.server_errors}")
    print(f"  while they shopped: the bench's event loop late by p50 {percentile(run.loop_lag_ms, 50):.0f} ms, "
          f"max {max(run.loop_lag_ms, default=0):.0f} ms; the sandbox process answered /health in "
          f"p50 {percentile(run.sandbox_ms, 50):.0f} ms, max {max(run.sandbox_ms, default=0):.0f} ms")
    print()
    print(f"  {'method':<20}{'checkouts':>10}{'paid':>6}{'failed':>8}{'open':>6}{'lost':>6}{'doubled':>9}"
          f"{'stranded':>10}{'p50 ms':>9}{'p99 ms':>9}")
    for method, r in verdict.rows.items():
        latencies = [j.checkout_seconds * 1000 for j in run.journeys
                     if j.method == method and j.checkout_seconds is not None]
        print(f"  {LABELS.get(method, method):<20}{r.checkouts:>10}{r.paid:>6}{r.ended:>8}{r.open:>6}{r.lost:>6}"
              f"{r.doubled:>9}{r.stranded:>10}{percentile(latencies, 50):>9.0f}{percentile(latencies, 99):>9.0f}")
    print("  (failed: failed, cancelled or expired; open: waiting for a payer who left, or for a provider "
          "that will not call)")
    print(f"  oversold units: {verdict.oversold}")
    if verdict.problems:
        print("  PROBLEMS:\n    " + "\n    ".join(verdict.problems))
    print(f"soak: {verdict.total('checkouts')} checkouts, lost {verdict.total('lost')}, "
          f"doubled {verdict.total('doubled')}, oversold {verdict.oversold}, stranded {verdict.total('stranded')}")


async def soak(stack: Stack, count: int, window: float, kill: bool, seed: int, deadline: float,
               converge_seconds: float) -> int:
    store_url, sandbox_url = stack.store.url, stack.store.sandbox_url
    initial_stock = {pid: stock for pid, (_, stock) in store_facts(stack.database_url)["stock"].items()}
    run = Run()
    # The bench's hand on the providers' control pages: it must get through, busy machine or not.
    control = Browser(sandbox_url, retry_for=RETRY_FOR, timeout=120)
    try:
        background = [asyncio.create_task(conduct(run, control, window))]
        prober = asyncio.create_task(probe(run, control))
        if kill:
            background.append(asyncio.create_task(kill_and_restart(run, stack, KILL_AT * window)))
        shoppers = [asyncio.create_task(shop(plan, run, store_url, sandbox_url)) for plan in plans(count, window, seed)]
        # Whatever the shoppers do, the reconciler gets its time to converge before the deadline.
        shopping_until = deadline - min(converge_seconds, 30.0)
        _, pending = await asyncio.wait(shoppers + background, timeout=max(1.0, shopping_until - time.perf_counter()))
        for task in [*pending, prober]:
            task.cancel()
        for task in background:
            if task.done() and not task.cancelled() and task.exception():
                raise task.exception()
        run.mark(f"shoppers done ({len(pending)} stopped unfinished)" if pending else "shoppers done")
        await switch(control, PHASES[0])  # whatever happened, the providers behave from here on
        verdict, store, providers = await converge(run, control, stack.database_url, initial_stock,
                                                   min(converge_seconds, max(5.0, deadline - time.perf_counter())))
    finally:
        await control.aclose()
    write_facts(stack.workdir / "soak-facts.json", run, store, providers)
    report(stack, run, verdict, count, window, kill)
    return 1 if verdict.failed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=300, help="shoppers, one order each")
    parser.add_argument("--window", type=float, default=0.0,
                        help="seconds over which shoppers arrive (default: 0.4 s a shopper, at least 20 s)")
    parser.add_argument("--kill", action="store_true", help="kill -9 the store mid-run and start it again")
    parser.add_argument("--sqlite", action="store_true", help="one store process on SQLite, not two on PostgreSQL")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds for the whole run at most")
    parser.add_argument("--converge", type=float, default=120.0,
                        help="seconds to wait at most, after the shoppers, for the store to converge")
    parser.add_argument("--seed", type=int, default=1, help="for the shoppers' choices of product and of leaving")
    parser.add_argument("--workdir", type=Path,
                        help="keep the logs and soak-facts.json (what the verdict was drawn from) here")
    args = parser.parse_args()
    count = max(1, args.orders)
    window = args.window or max(20.0, count * 0.4)
    deadline = time.perf_counter() + args.timeout
    # Stopped from outside (a test's timeout): still stop the servers it started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with tempfile.TemporaryDirectory(prefix="cartwheel-soak-") as temporary:
        workdir = args.workdir or Path(temporary)
        workdir.mkdir(parents=True, exist_ok=True)
        if any(workdir.iterdir()):
            # The sandboxes keep their state on disk: an earlier run's transactions would be
            # judged against this run's fresh store (and SQLite's file would carry its orders).
            print(f"soak: --workdir {workdir} is not empty; give a new or empty folder", file=sys.stderr)
            return 2
        stack = Stack(workdir, args.sqlite)
        try:
            started = time.perf_counter()
            stack.start()
            print(f"soak: the store, its database and the sandboxes started in {time.perf_counter() - started:.0f} s",
                  flush=True)
            return asyncio.run(soak(stack, count, window, args.kill, args.seed, deadline, args.converge))
        finally:
            stack.stop()


if __name__ == "__main__":
    sys.exit(main())

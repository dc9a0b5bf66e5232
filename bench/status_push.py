"""Live status with 1,000 orders waiting on SEQR: the time from the notification POST to the
status message at each order page's websocket, and the server's memory, beside the 1 s poll
the websocket replaces. One uvicorn process on loopback; bounded in count and time.

    .venv/bin/python bench/status_push.py [--orders 1000] [--pay 200] [--rate 5] [--poll-orders 1000]

How: the bench checks out N SEQR orders over HTTP (sessions of 20 orders each, the most one
browser session remembers), opens one websocket per order page with that page's session
cookie, then pays --pay of the invoices in the SEQR sandbox's phone app (its HTTP form posts)
with the sandbox's notifications switched to "lost" and its commit window stretched, and then
POSTs each payment's notificationUrl itself (read from the sandbox's control page), paced at
--rate a second (the other pages keep waiting, their sockets open): t0 is just before that
POST, t1 when the socket receives the "paid" message. The sandbox runs in its own process
beside the store; its pages are kept out of the timed part all the same. The shop's handler calls getPaymentStatus on
the sandbox, applies it through the ledger and publishes it; the socket renders the panel.
The poll run does the same with N other orders whose pages GET /orders/<id>/status every
second (as static/status.js does when it cannot use a socket), t1 being the first poll that
answers paid. The reconciler is slowed down so that only the notifications move payments.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import json
import random
import re
import resource
import sqlite3
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import websockets

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from shop.testing.server import ServerProcess  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load import percentile  # noqa: E402
from shoppers import CSRF, SEQR_INVOICE, pay_seqr_invoice  # noqa: E402
from summary import record  # noqa: E402

from shop.testing.shopper import CUSTOMER  # noqa: E402

NOTIFICATION_ROW = re.compile(r"<td>(\d{17})</td>\s*<td><code>(https?://[^<]+/pay/seqr/cb/[^<]+)</code></td>")
ORDERS_PER_SESSION = 20  # shop.orders.MAX_REMEMBERED_ORDERS
SKU = "TEA-SENCHA"


@dataclass
class Waiting:
    """One order waiting on SEQR, as its browser knows it."""

    public_id: str
    session: Session
    reference: str = ""
    sent: float = 0.0  # perf_counter just before the notification POST
    answered: float = 0.0  # perf_counter when the shop answered the notification
    seen: float = 0.0  # perf_counter when the browser side learnt it is paid

    @property
    def latency_ms(self) -> float | None:
        return (self.seen - self.sent) * 1000 if self.seen and self.sent else None


@dataclass
class Session:
    client: httpx.AsyncClient
    orders: list[Waiting] = field(default_factory=list)

    @property
    def cookie(self) -> str:
        return self.client.cookies.get("cartwheel", "")


def rss_mb(pid: int) -> float:
    if not pid:
        return float("nan")
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class RssSampler:
    """The server's resident memory, sampled every 100 ms while a phase runs."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self._task = pid, 0.0, None

    async def _run(self) -> None:
        while True:
            self.peak = max(self.peak, rss_mb(self.pid))
            await asyncio.sleep(0.1)

    def __enter__(self) -> RssSampler:
        self.peak = rss_mb(self.pid)
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    def __exit__(self, *exc) -> None:
        self._task.cancel()


# --------------------------------------------------------------------------- orders


async def check_out_session(url: str, count: int) -> Session:
    """One browser session: a cart with one item, checked out with SEQR ``count`` times (each
    checkout of the same cart is a new order; the earlier ones keep waiting on their invoices)."""
    session = Session(httpx.AsyncClient(base_url=url, timeout=60))
    token = CSRF.search((await session.client.get("/")).text).group(1)
    added = await session.client.post("/cart/add", data={"sku": SKU, "quantity": "1", "csrf_token": token})
    assert added.status_code == 303, added.text[:300]
    for _ in range(count):
        response = await session.client.post("/checkout", data={**CUSTOMER, "method": "seqr:seqr",
                                                                 "csrf_token": token})
        assert response.status_code == 303, response.text[:300]
        session.orders.append(Waiting(response.headers["location"].removeprefix("/orders/"), session))
    for order in session.orders:  # the order page, as the browser lands on it
        page = await session.client.get(f"/orders/{order.public_id}")
        found = SEQR_INVOICE.search(page.text)
        order.reference = found.group(1) if found else ""  # "" when the invoice could not be sent
    return session


async def make_orders(url: str, count: int, concurrency: int = 4) -> list[Waiting]:
    gate = asyncio.Semaphore(concurrency)

    async def one(n: int) -> Session:
        async with gate:
            return await check_out_session(url, n)

    sizes = [min(ORDERS_PER_SESSION, count - i) for i in range(0, count, ORDERS_PER_SESSION)]
    sessions = await asyncio.gather(*(one(n) for n in sizes))
    orders = [order for session in sessions for order in session.orders]
    failed = [o for o in orders if not o.reference]
    if failed:
        print(f"  warning: {len(failed)} of {len(orders)} checkouts could not send their SEQR invoice")
    return orders


async def close_sessions(orders: list[Waiting]) -> None:
    for session in {id(o.session): o.session for o in orders}.values():
        await session.client.aclose()


# --------------------------------------------------------------------------- paying


async def set_notifications(control: httpx.AsyncClient, mode: str, commit_window_seconds: int = 20) -> None:
    form = {"soap": "normal", "notification": mode, "notification_body": "form", "bank": "approve",
            "refunds": "allow", "check_row_sum": "on", "commit_window_seconds": str(commit_window_seconds)}
    assert (await control.post("/sandbox/seqr/control/scenarios", data=form)).status_code == 303


async def pay_in_app(control: httpx.AsyncClient, orders: list[Waiting]) -> dict[str, str]:
    """Pay the invoices in the sandbox's phone app; returns each one's notificationUrl as the
    sandbox's control page lists it. Done before the timed notifications, not beside them:
    SEQR's app and SEQR's pages do not run on the shop's server."""

    async def pay(order: Waiting) -> None:
        paid = await pay_seqr_invoice(control, "/sandbox/seqr/app", order.reference)
        assert paid.status_code == 200 and "Paid" in paid.text, paid.text[:300]

    for start in range(0, len(orders), 25):
        await asyncio.gather(*(pay(o) for o in orders[start:start + 25]))
    page = (await control.get("/sandbox/seqr/")).text
    return {ref: html.unescape(u) for ref, u in NOTIFICATION_ROW.findall(page)}


async def pay_and_notify(control: httpx.AsyncClient, orders: list[Waiting], rate: float) -> None:
    """Pay every invoice, let the server settle, then POST each one's notificationUrl at
    ``rate`` a second (the bench runs with the sandbox's commit window stretched, so that
    paying first does not make SEQR reverse the payments still waiting for their turn)."""
    urls = await pay_in_app(control, orders)
    await asyncio.sleep(2)
    interval = 1 / rate
    posts = []
    next_at = time.perf_counter()
    for order in orders:
        delay = next_at - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        next_at += interval
        posts.append(asyncio.create_task(notify(control, order, urls[order.reference])))
    refused = [status for status in await asyncio.gather(*posts) if status != 200]
    if refused:
        print(f"  warning: {len(refused)} notifications were not answered 200: {sorted(set(map(str, refused)))}")


async def notify(client: httpx.AsyncClient, order: Waiting, url: str) -> int | str:
    order.sent = time.perf_counter()
    try:
        response = await client.post(url, content=f"invoiceReference={order.reference}".encode(),
                                     headers={"content-type": "application/x-www-form-urlencoded"})
    except httpx.HTTPError as exc:  # an overloaded shop: SEQR would not hear back either
        return type(exc).__name__
    order.answered = time.perf_counter()
    return response.status_code


async def wait_until_seen(orders: list[Waiting], seconds: float) -> None:
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline and not all(o.seen for o in orders):
        await asyncio.sleep(0.05)


# --------------------------------------------------------------------------- the two channels

SHOWN = "pending:awaiting_payment"  # the status an order page waiting on SEQR shows


async def run_sockets(url: str, pid: int, count: int, pay: int, rate: float, control: httpx.AsyncClient) -> dict:
    orders = await make_orders(url, count)
    rss_before = rss_mb(pid)
    ws_url = url.replace("http://", "ws://")
    opened = asyncio.Semaphore(50)  # handshakes in flight at once
    ready = 0
    all_open = asyncio.Event()

    async def watch(order: Waiting) -> None:
        nonlocal ready
        async with opened:
            # As the page does: it names the status it shows, and the store sends a panel only when
            # that changes. The handshake ends once the socket is subscribed.
            socket = await websockets.connect(f"{ws_url}/orders/{order.public_id}/ws?shown={SHOWN}",
                                              open_timeout=30,
                                              additional_headers={"Cookie": f"cartwheel={order.session.cookie}"},
                                              max_size=2**20, ping_interval=None)
        ready += 1
        if ready == len(orders):
            all_open.set()
        try:
            async for raw in socket:
                if json.loads(raw)["status"].startswith("paid"):
                    order.seen = time.perf_counter()
                    return
        finally:
            await socket.close()

    watchers = [asyncio.create_task(watch(o)) for o in orders]
    await asyncio.wait_for(all_open.wait(), 120)
    await asyncio.sleep(1)
    rss_open = rss_mb(pid)
    with RssSampler(pid) as sampler:
        started = time.perf_counter()
        paid = random.sample([o for o in orders if o.reference], min(pay, len(orders)))
        await pay_and_notify(control, paid, rate)
        await wait_until_seen(paid, 60)
        took = time.perf_counter() - started
    for task in watchers:
        task.cancel()
    await asyncio.gather(*watchers, return_exceptions=True)
    await close_sessions(orders)
    return {"orders": orders, "paid": paid, "rss_before": rss_before, "rss_idle": rss_open, "rss_peak": sampler.peak,
            "seconds": took, "requests": 0}


async def run_polling(url: str, pid: int, count: int, pay: int, rate: float, control: httpx.AsyncClient) -> dict:
    orders = await make_orders(url, count)
    rss_before = rss_mb(pid)
    polls = 0
    poll_ms: list[float] = []
    stop = asyncio.Event()

    async def poll(order: Waiting) -> None:
        nonlocal polls
        await asyncio.sleep(random.random())  # browsers do not tick together
        while not stop.is_set():
            tick = time.perf_counter()
            try:
                response = await order.session.client.get(f"/orders/{order.public_id}/status")
            except httpx.HTTPError:
                response = None
            polls += 1
            poll_ms.append((time.perf_counter() - tick) * 1000)
            if response is not None and response.headers.get("x-status", "").startswith("paid"):
                order.seen = time.perf_counter()
                return
            await asyncio.sleep(max(0.0, 1.0 - (time.perf_counter() - tick)))

    pollers = [asyncio.create_task(poll(o)) for o in orders]
    await asyncio.sleep(3)  # all pages polling
    rss_idle = rss_mb(pid)
    with RssSampler(pid) as sampler:
        started = time.perf_counter()
        polls_before = polls
        paid = random.sample([o for o in orders if o.reference], min(pay, len(orders)))
        await pay_and_notify(control, paid, rate)
        await wait_until_seen(paid, 60)
        took = time.perf_counter() - started
    stop.set()
    await asyncio.gather(*pollers, return_exceptions=True)
    await close_sessions(orders)
    return {"orders": orders, "paid": paid, "rss_before": rss_before, "rss_idle": rss_idle, "rss_peak": sampler.peak,
            "seconds": took, "requests": polls - polls_before, "poll_ms": poll_ms}


def report(name: str, result: dict) -> None:
    latencies = [o.latency_ms for o in result["paid"] if o.latency_ms is not None]
    missing = len(result["paid"]) - len(latencies)
    line = (f"{name:<22} p50 {percentile(latencies, 50):7.1f} ms   p99 {percentile(latencies, 99):7.1f} ms   "
            f"max {max(latencies, default=float('nan')):7.1f} ms   ({len(latencies)} seen, {missing} missed)")
    print(line)
    answered = [(o.answered - o.sent) * 1000 for o in result["paid"] if o.answered]
    print(f"{'':<22} the notification POST itself was answered in p50 {percentile(answered, 50):.1f} ms, "
          f"p99 {percentile(answered, 99):.1f} ms")
    extra = ""
    if result["requests"]:
        extra = (f"   status requests {result['requests'] / result['seconds']:.0f}/s, "
                 f"p99 {percentile(result['poll_ms'], 99):.1f} ms each")
    print(f"{'':<22} server RSS: {result['rss_before']:.0f} MB with the orders made, "
          f"{result['rss_idle']:.0f} MB with {len(result['orders'])} pages waiting, "
          f"{result['rss_peak']:.0f} MB peak while paying{extra}")


GOAL_PUSH_P99_MS = 50.0
GOAL_RSS_MB = 200.0


def summarize(path: str, result: dict, rate: float) -> None:
    latencies = [o.latency_ms for o in result["paid"] if o.latency_ms is not None]
    p99, missed = percentile(latencies, 99), len(result["paid"]) - len(latencies)
    record(path, f"status push: notification to socket, {len(result['orders'])} pages open, {rate:g}/s",
           f"p99 {p99:.1f} ms, {missed} missed", f"p99 ≤ {GOAL_PUSH_P99_MS:g} ms", p99 <= GOAL_PUSH_P99_MS and not missed)
    rss = max(result["rss_idle"], result["rss_peak"])
    record(path, f"status push: server memory, {len(result['orders'])} pages open", f"{rss:.0f} MB",
           f"< {GOAL_RSS_MB:g} MB", rss < GOAL_RSS_MB)


async def run(url: str, pid: int, orders: int, poll_orders: int, pay: int, rate: float, poll_pay: int,
              sandbox_url: str, summary: str = "") -> None:
    async with httpx.AsyncClient(base_url=sandbox_url, timeout=60, limits=httpx.Limits(max_connections=64)) as control:
        await set_notifications(control, "lost", commit_window_seconds=600)  # the bench POSTs them itself, timed
        started = time.perf_counter()
        sockets = await run_sockets(url, pid, orders, pay, rate, control)
        print(f"{orders} orders waiting on SEQR, one websocket each; {pay} of them paid, their notifications "
              f"POSTed at {rate:g}/s; one uvicorn process, SQLite, loopback")
        report("websocket push", sockets)
        summarize(summary, sockets, rate)
        if poll_orders:
            polled = await run_polling(url, pid, poll_orders, poll_pay, rate, control)
            print(f"{poll_orders} other orders waiting, each page polling every second; {poll_pay} of them paid "
                  f"at {rate:g}/s")
            report("1 s poll", polled)
        await set_notifications(control, "deliver")
    print(f"{time.perf_counter() - started:.0f} s in all")
    print(f"goal: websocket p99 <= {GOAL_PUSH_P99_MS:g} ms, server RSS < {GOAL_RSS_MB:g} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1000)
    # One process cannot answer 1,000 pages polling every second (see the README): the poll run
    # is smaller by default, and its figures are for the pages it could serve.
    parser.add_argument("--poll-orders", type=int, default=100, help="orders for the poll run (0: skip it)")
    parser.add_argument("--poll-pay", type=int, default=25, help="how many of those are paid")
    parser.add_argument("--pay", type=int, default=200, help="how many of the waiting orders are paid")
    parser.add_argument("--rate", type=float, default=5.0, help="notifications a second")
    parser.add_argument("--keep-log", default="", help="copy the server's log here")
    parser.add_argument("--url", default="", help="bench a store already running here (its stock must suffice)")
    parser.add_argument("--pid", type=int, default=0, help="that store's process id, for its memory")
    parser.add_argument("--sandbox-url", default="", help="where that store's sandboxes are served (SANDBOX_URL)")
    parser.add_argument("--summary", default="", help="add the headline figures to this file (bench/summary.py)")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 8192)), hard))  # the server inherits it
    if args.url:
        asyncio.run(asyncio.wait_for(run(args.url.rstrip("/"), args.pid, args.orders, args.poll_orders, args.pay,
                                         args.rate, args.poll_pay, args.sandbox_url or args.url, args.summary), 900))
        return
    with tempfile.TemporaryDirectory() as workdir:
        store = ServerProcess(Path(workdir), {
            "RECONCILE_EVERY_SECONDS": "3600", "SEQR_READ_BACK_AFTER_SECONDS": "3600",
            "SEQR_PAYMENT_TIMEOUT_SECONDS": "3600", "RECONCILE_AFTER_SECONDS": "3600"})
        store.prepare()
        with sqlite3.connect(Path(workdir) / "shop.db") as db:  # enough on the shelf for every order
            db.execute("UPDATE product SET stock = 1000000 WHERE sku = ?", (SKU,))
        store.start()
        try:
            asyncio.run(asyncio.wait_for(run(store.url, store.process.pid, args.orders, args.poll_orders,
                                             args.pay, args.rate, args.poll_pay, store.sandbox_url, args.summary),
                                         900))
        finally:
            store.stop()
            if args.keep_log:
                Path(args.keep_log).write_text(store.log())


if __name__ == "__main__":
    main()

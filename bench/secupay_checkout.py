"""secupay Smart Checkout under load: N shoppers at once fill a cart and check out with secupay;
the shop takes an OAuth token (shared by all of them) and creates a Smart Transaction each; every
shopper's browser follows the redirect to the sandbox's hosted page, posts its forms there as a
browser would (card, or prepayment), and follows the link back to the shop's return URL, where
the shop reads the transaction back. Meanwhile the sandbox pushes every status change to the
shop's url_push, which reads it back again. Prepayment shoppers find the bank details on the
order page; the bench then books their transfers on the sandbox's control page, and only the
push tells the shop, which the order pages see by polling /orders/<id>/status as status.js does.

Prints checkouts per second, p50/p99 of each step and of the whole checkout, the token fetches
(against one per expiry window: the token lives --token-lifetime s and the shop drops it
SECUPAY_TOKEN_MARGIN s early), the pushes and their answers; then checks, in the store's own
database and in the sandbox's state, that no payment was lost and none doubled.

    .venv/bin/python bench/secupay_checkout.py [--orders 200] [--prepaid-share 0.25] [--timeout 180]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from shop.testing.server import ServerProcess  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load import percentile  # noqa: E402
from shoppers import (  # noqa: E402
    CUSTOMER_DE,
    SECUPAY_STX,
    Browser,
    back_to_the_shop,
    receive_secupay_transfer,
    secupay_hosted_page,
)

SKUS = ("PEN-BLUE", "TEA-SENCHA", "NOTEBOOK-A5", "MUG-ENAMEL")  # enough stock for 200 orders between them
STEPS = ("create", "hosted page", "pay", "return", "checkout")
TOKEN_LIFETIME = 20  # seconds the sandbox's tokens live during the bench
TOKEN_MARGIN = 5  # the shop renews this many seconds before expiry: a new token every 15 s at most


class Shopper:
    """One shopper's browser: a cookie jar, the shop's pages and secupay's hosted pages."""

    def __init__(self, url: str, index: int, method: str) -> None:
        self.browser = Browser(url)
        self.sku = SKUS[index % len(SKUS)]
        self.method = method  # creditcard | prepaid
        self.timings = self.browser.timings
        self.outcome = "not started"
        self.order_path = ""
        self.stx_id = ""

    async def check_out(self) -> None:
        """Cart, checkout (token + create at secupay), hosted page, pay, return to the shop."""
        started = time.perf_counter()
        try:
            added = await self.browser.add_to_cart(self.sku)
            assert added.status_code == 303, f"cart: {added.status_code}"
            placed = await self.browser.check_out(f"secupay:{self.method}", CUSTOMER_DE, step="create")
            link = placed.headers.get("location", "")
            assert placed.status_code == 303 and "/sandbox/secupay/checkout?" in link, \
                f"checkout: {placed.status_code} {link or placed.text[:200]}"
            self.stx_id = SECUPAY_STX.search(link).group(1)
            back = await secupay_hosted_page(self.browser, link, self.method)
            self.order_path = await back_to_the_shop(self.browser, back)
            order = await self.browser.get(self.order_path, step="return")
            if self.method == "creditcard":
                self.outcome = "paid" if "Paid — thank you!" in order.text else "not paid on return"
            else:
                shown = 'class="instructions"' in order.text and "<svg" in order.text and "TA " in order.text
                self.outcome = "waiting for transfer" if shown else "no bank details on return"
        except (httpx.HTTPError, AssertionError, AttributeError, KeyError) as exc:
            self.outcome = f"error: {type(exc).__name__}: {exc}"[:200]
        self.timings["checkout"] = time.perf_counter() - started

    async def watch_until_paid(self, deadline: float) -> None:
        """The order page's fallback poll, once a second, until the push has made it paid."""
        started = time.perf_counter()
        while time.perf_counter() < deadline:
            status = (await self.browser.get(f"{self.order_path}/status")).headers.get("x-status", "")
            if status.startswith("paid"):
                self.outcome = "paid"
                self.timings["transfer to paid"] = time.perf_counter() - started
                return
            await asyncio.sleep(1.0)
        self.outcome = "transfer not seen"

    async def aclose(self) -> None:
        await self.browser.aclose()


def store_facts(db: Path) -> dict:
    """Read the store's database directly: orders, payments and their moves into paid."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        orders = Counter(status for (status,) in conn.execute('SELECT status FROM "order"'))
        payments = conn.execute("SELECT id, order_id, plugin, status, reference FROM payment").fetchall()
        into_paid = Counter(pid for (pid,) in conn.execute(
            "SELECT payment_id FROM paymentevent WHERE kind = 'transition' AND operation LIKE '% -> paid'"))
        callbacks = Counter(op.split(" (")[0] for (op,) in conn.execute(
            "SELECT operation FROM paymentevent WHERE kind = 'callback'"))
        duplicates = conn.execute("SELECT count(*) FROM paymentevent WHERE kind = 'ignored' "
                                  "AND operation LIKE 'duplicate:%'").fetchone()[0]
    return {"orders": orders, "payments": payments, "into_paid": into_paid, "callbacks": callbacks,
            "duplicates": duplicates}


async def bounded(work, seconds: float, what: str) -> None:
    """Run ``work`` for at most ``seconds``; what did not finish is reported as such below."""
    try:
        await asyncio.wait_for(work, seconds)
    except TimeoutError:
        print(f"  ({what} stopped after {seconds:.0f} s: the unfinished ones count as problems)")


async def sandbox_state(control: httpx.AsyncClient) -> dict:
    return (await control.get("/sandbox/secupay/control/state.json")).json()


def cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU time of the store process so far (Linux), or None."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, TypeError):
        return None


async def bench(url: str, db: Path, count: int, prepaid_share: float, timeout: float,
                server_pid: int | None = None, sandbox_url: str = "") -> int:
    deadline = time.perf_counter() + timeout
    prepaid_every = round(1 / prepaid_share) if prepaid_share > 0 else 0
    shoppers = [Shopper(url, i, "prepaid" if prepaid_every and i % prepaid_every == prepaid_every - 1 else "creditcard")
                for i in range(count)]
    control = httpx.AsyncClient(base_url=sandbox_url or url, timeout=60)  # the sandbox process
    await control.post("/sandbox/secupay/control/scenarios", data={"token_lifetime": str(TOKEN_LIFETIME)})
    fetches_before = (await sandbox_state(control))["token_fetches"]
    cpu_before = cpu_seconds(server_pid)

    started = time.perf_counter()
    await bounded(asyncio.gather(*(s.check_out() for s in shoppers)), timeout, "checkouts")
    checkout_wall = time.perf_counter() - started

    # The transfers arrive at secupay: the merchant's bank books them; secupay pushes; the pages poll.
    waiting = [s for s in shoppers if s.outcome == "waiting for transfer"]
    transfer_started = time.perf_counter()
    for shopper in waiting:
        booked = await receive_secupay_transfer(control, "", shopper.stx_id)
        assert booked == 303, booked
    await bounded(asyncio.gather(*(s.watch_until_paid(deadline) for s in waiting)),
                  max(1.0, deadline - time.perf_counter()) + 5, "transfers")
    transfer_wall = time.perf_counter() - transfer_started
    total_wall = time.perf_counter() - started

    # Let the last pushes land (each is answered before secupay's retry schedule would matter).
    settle_until = time.perf_counter() + 15
    while time.perf_counter() < settle_until:
        state = await sandbox_state(control)
        if all(p["state"] in ("delivered", "given up", "lost") for p in state["pushes"]):
            break
        await asyncio.sleep(0.25)
    await control.aclose()
    cpu_after = cpu_seconds(server_pid)
    for shopper in shoppers:
        await shopper.aclose()

    facts = store_facts(db)
    mine = {s.stx_id for s in shoppers if s.stx_id}
    at_secupay = {t["id"]: t for t in state["transactions"] if t["id"] in mine}
    pushes = [p for p in state["pushes"] if p["stx_id"] in mine]
    push_answers = Counter(a for p in pushes for a in p["attempts"])
    outcomes = Counter(s.outcome for s in shoppers)
    token_fetches = state["token_fetches"] - fetches_before
    window = TOKEN_LIFETIME - TOKEN_MARGIN
    token_goal = 1 + math.floor(total_wall / window)
    cards = [s for s in shoppers if s.method == "creditcard"]
    paid_payments = [p for p in facts["payments"] if p[3] == "paid"]

    print(f"secupay Smart Checkout bench: {count} concurrent shoppers ({len(cards)} by card, "
          f"{count - len(cards)} by prepayment), one store process, SQLite, sandbox on loopback")
    print(f"  checkouts (cart .. order page)   {checkout_wall:6.2f} s   "
          f"{count / checkout_wall:6.1f} checkouts per second")
    if waiting:
        print(f"  prepayments: book {len(waiting)} transfers -> push -> paid seen by poll   {transfer_wall:6.2f} s")
    if cpu_before is not None and cpu_after is not None:
        print(f"  store process CPU              {(cpu_after - cpu_before) / count * 1000:5.0f} ms per checkout "
              "(its pages, the sandbox it serves, the provider calls and pushes to itself)")
    for step in STEPS:
        values = [s.timings[step] * 1000 for s in shoppers if step in s.timings]
        print(f"  {step:<30} p50 {percentile(values, 50):7.0f} ms   p99 {percentile(values, 99):7.0f} ms"
              f"   max {max(values, default=float('nan')):7.0f} ms")
    seen = [s.timings["transfer to paid"] * 1000 for s in waiting if "transfer to paid" in s.timings]
    if seen:
        print(f"  {'transfer booked .. page paid':<30} p50 {percentile(seen, 50):7.0f} ms   "
              f"p99 {percentile(seen, 99):7.0f} ms   (1 s poll)")
    print(f"  token fetches                  {token_fetches:5d}   goal <= {token_goal}: one per {window} s window "
          f"(token lives {TOKEN_LIFETIME} s, renewed {TOKEN_MARGIN} s early) in {total_wall:.1f} s")
    print(f"  pushes                         {len(pushes):5d}   answers {dict(push_answers)}, "
          f"states {dict(Counter(p['state'] for p in pushes))}")
    print(f"  store callbacks                {dict(facts['callbacks'])}")
    print(f"  read-backs applied twice       {facts['duplicates']:5d}   (return and push saw the same fact: "
          "deduplicated by the ledger)")
    print(f"  shopper outcomes               {dict(outcomes)}")
    print(f"  store: orders {dict(facts['orders'])}, payments {dict(Counter(p[3] for p in facts['payments']))}")
    print(f"  secupay: STX {dict(Counter(t['status'] for t in at_secupay.values()))}")

    problems = []
    if outcomes.get("paid", 0) != count:
        problems.append(f"{count - outcomes.get('paid', 0)} shoppers did not see their order paid")
    secupay_paid = {t["id"] for t in at_secupay.values() if t["status"] == "ok" and t["pci"]}
    if len(at_secupay) != count or len(secupay_paid) != count:
        problems.append(f"secupay has {len(secupay_paid)} paid of {len(at_secupay)} transactions, expected {count}")
    per_order = Counter(p[1] for p in paid_payments)
    doubled_orders = {order: n for order, n in per_order.items() if n != 1}
    if doubled_orders:
        problems.append(f"orders paid by more than one payment: {doubled_orders}")
    doubled_moves = {pid: n for pid, n in facts["into_paid"].items() if n != 1}
    if doubled_moves:
        problems.append(f"payments moved into paid more than once: {doubled_moves}")
    references = Counter(p[4] for p in facts["payments"] if p[2] == "secupay")
    if any(n != 1 for n in references.values()):
        problems.append("a Smart Transaction belongs to more than one payment")
    lost = secupay_paid - {p[4] for p in paid_payments}
    if lost:
        problems.append(f"{len(lost)} transactions paid at secupay are not paid in the store: {sorted(lost)[:5]}")
    if len(paid_payments) != count or facts["orders"].get("paid", 0) != count:
        problems.append(f"store has {len(paid_payments)} paid payments and {facts['orders'].get('paid', 0)} "
                        f"paid orders, expected {count}")
    undelivered = [p for p in pushes if p["state"] != "delivered"]
    if undelivered:
        problems.append(f"{len(undelivered)} pushes not delivered: {undelivered[:3]}")
    if problems:
        print("  PROBLEMS:\n    " + "\n    ".join(problems))
        return 1
    print(f"  lost payments                      0   ({count} paid at secupay, each paid in the store)")
    print("  doubled payments                   0   (one paid payment per order, one move into paid each, "
          "one payment per STX)")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--prepaid-share", type=float, default=0.25, help="share paying by prepayment (0..1)")
    parser.add_argument("--timeout", type=float, default=180.0, help="seconds for the whole run at most")
    parser.add_argument("--url", help="a running store (with --db; SECUPAY_TOKEN_MARGIN=5) instead of starting one")
    parser.add_argument("--db", type=Path)
    parser.add_argument("--sandbox-url", default="", help="where that store's sandboxes are served (SANDBOX_URL)")
    args = parser.parse_args()
    count = max(1, min(args.orders, 200))  # the seeded stock of SKUS holds 200 orders of one item each
    share = min(max(args.prepaid_share, 0.0), 1.0)
    if args.url:
        return asyncio.run(bench(args.url, args.db, count, share, args.timeout, sandbox_url=args.sandbox_url))
    with tempfile.TemporaryDirectory() as workdir:
        # One store process beside the sandbox process. The reconciler is slowed down so that
        # only returns and pushes move payments.
        server = ServerProcess(Path(workdir), {"ORDER_EXPIRY_SECONDS": "3600", "RECONCILE_EVERY_SECONDS": "3600",
                                               "SECUPAY_TOKEN_MARGIN": str(TOKEN_MARGIN)})
        server.prepare()
        server.start()
        try:
            return asyncio.run(bench(server.url, Path(workdir) / "shop.db", count, share, args.timeout,
                                     server.process.pid, server.sandbox_url))
        finally:
            server.stop()


if __name__ == "__main__":
    sys.exit(main())

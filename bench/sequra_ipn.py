"""SeQura under load: N shoppers at once check out with "pay later", fill in the identification
form by AJAX as the snippet's script does, and SeQura's sandbox sends each IPN to the shop, which
checks the cart, PUTs the confirmation and registers the order reference before it answers.

Measures confirmations per second and the IPN latency (from the sandbox sending the IPN to the
shop's reply, as the sandbox timed it), then checks that every order was confirmed exactly once:
in the store's database and in the sandbox's own read-back.

    .venv/bin/python bench/sequra_ipn.py [--orders 200] [--timeout 180]
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from urllib.parse import parse_qs

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from shop.testing.server import ServerProcess  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load import percentile  # noqa: E402
from shoppers import CUSTOMER_ES, Browser, SequraForm  # noqa: E402

SKUS = ("PEN-BLUE", "TEA-SENCHA", "NOTEBOOK-A5", "MUG-ENAMEL")  # enough stock for 200 orders between them


class Shopper:
    """One shopper's browser: a cookie jar, the shop's pages, and the SeQura form's AJAX calls."""

    def __init__(self, url: str, index: int) -> None:
        self.browser = Browser(url)
        self.sku = SKUS[index % len(SKUS)]
        self.timings: dict[str, float] = {}
        self.outcome = "not started"
        self.uuid: str | None = None  # SeQura's order, once the checkout solicited it
        self.form: SequraForm | None = None

    async def check_out(self) -> SequraForm:
        """Cart, checkout (the shop solicits the SeQura order), the order page with the snippet."""
        added = await self.browser.add_to_cart(self.sku)
        assert added.status_code == 303, added.status_code
        placed = await self.browser.check_out("sequra:i1", CUSTOMER_ES)
        assert placed.status_code == 303 and placed.headers["location"].startswith("/orders/"), placed.text[:300]
        page = await self.browser.get(placed.headers["location"])
        form = SequraForm.on(self.browser, page.text)
        assert form, "the order page has no SeQura form snippet"
        return form

    async def prepare(self) -> None:
        """Phase 1: cart, checkout (the shop solicits the order and fetches form_v2), identification."""
        started = time.perf_counter()
        try:
            self.form = await self.check_out()
            self.uuid = self.form.api.rsplit("/", 2)[-2]
            self.timings["checkout"] = time.perf_counter() - started
            await self.form.identify()
            self.outcome = "identified"
        except (httpx.HTTPError, AssertionError, KeyError, ValueError) as exc:
            self.outcome = f"error: {type(exc).__name__}: {exc}"[:200]

    async def confirm(self, deadline: float) -> None:
        """Phase 2: the one-time code; SeQura approves and sends the IPN; the form polls until the
        shop has answered it (once a second, as the script does)."""
        if self.outcome != "identified":
            return
        started = time.perf_counter()
        try:
            self.outcome = await self.form.confirm(deadline)
        except (httpx.HTTPError, KeyError, ValueError) as exc:
            self.outcome = f"error: {type(exc).__name__}: {exc}"[:200]
        self.timings["form"] = time.perf_counter() - started

    async def aclose(self) -> None:
        await self.browser.aclose()


def store_facts(db: Path) -> dict:
    """Read the store's database directly: orders, payments and their transitions into paid."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        orders = Counter(status for (status,) in conn.execute("SELECT status FROM \"order\""))
        payments = Counter(status for (status,) in conn.execute("SELECT status FROM payment"))
        into_paid = Counter(pid for (pid,) in conn.execute(
            "SELECT payment_id FROM paymentevent WHERE kind = 'transition' AND operation LIKE '% -> paid'"))
        references = dict(conn.execute("SELECT id, reference FROM payment"))
    return {"orders": orders, "payments": payments, "into_paid": into_paid, "references": references}


async def bench(url: str, db: Path, count: int, timeout: float, sandbox_url: str = "") -> int:
    shoppers = [Shopper(url, i) for i in range(count)]
    deadline = time.perf_counter() + timeout
    started = time.perf_counter()
    await asyncio.wait_for(asyncio.gather(*(s.prepare() for s in shoppers)), timeout)
    prepared = time.perf_counter() - started
    second = time.perf_counter()
    await asyncio.wait_for(asyncio.gather(*(s.confirm(deadline) for s in shoppers)), timeout + 5)
    confirming = time.perf_counter() - second
    async with httpx.AsyncClient(base_url=sandbox_url or url, timeout=30) as control:  # the sandbox process
        sandbox_orders = (await control.get("/sandbox/sequra/_control/orders")).json()
        deliveries = (await control.get("/sandbox/sequra/_control/deliveries")).json()
    for shopper in shoppers:
        await shopper.aclose()

    outcomes = Counter(s.outcome for s in shoppers)
    confirmed_forms = outcomes.get("finish", 0)
    ipns = [d for d in deliveries if "sq_state=" in d["body"]]
    ipn_ms = [d.get("us", d["ms"] * 1000) / 1000 for d in ipns if d["status"] == 200]
    ipns_per_order = Counter(parse_qs(d["body"]).get("order_ref", [""])[0] for d in ipns)
    facts = store_facts(db)
    mine = {s.uuid for s in shoppers if s.uuid}
    at_sequra = Counter(o["state"] for o in sandbox_orders if o["uuid"] in mine)
    confirms_at_sequra = Counter(o["uuid"] for o in sandbox_orders if o["uuid"] in mine
                                 for line in o["log"] if line == "confirmed by PUT")
    paid_in_store = facts["payments"].get("paid", 0)

    print(f"SeQura IPN bench: {count} concurrent shoppers, pay later (i1), one store process, SQLite")
    print(f"  phase 1: {count} checkouts + identification   {prepared:6.2f} s")
    print(f"  phase 2: {count} OTPs -> IPN -> confirm -> form finished   {confirming:6.2f} s")
    answered = [d for d in ipns if d["status"] == 200]
    ipn_window = (max((d["sent_at"] + d["us"] / 1e6 for d in answered), default=0)
                  - min((d["sent_at"] for d in answered), default=0))
    print(f"  orders confirmed per second    {paid_in_store / confirming:8.1f}   in phase 2, as the forms saw it "
          f"({paid_in_store} paid in {confirming:.1f} s)")
    if ipn_window > 0:
        print(f"  confirmations per second       {len(answered) / ipn_window:8.1f}   while IPNs were arriving "
              f"({len(answered)} in {ipn_window:.1f} s)")
    print(f"  checkout (solicit + form_v2)   p50 {percentile([s.timings.get('checkout', 0) for s in shoppers], 50) * 1000:7.0f} ms"
          f"   p99 {percentile([s.timings.get('checkout', 0) for s in shoppers], 99) * 1000:7.0f} ms")
    print(f"  form (OTP .. finish, 1 s poll) p50 {percentile([s.timings.get('form', 0) for s in shoppers], 50) * 1000:7.0f} ms"
          f"   p99 {percentile([s.timings.get('form', 0) for s in shoppers], 99) * 1000:7.0f} ms")
    print(f"  IPN latency (sandbox timed)    p50 {percentile(ipn_ms, 50):7.1f} ms   p99 {percentile(ipn_ms, 99):7.1f} ms"
          f"   max {max(ipn_ms, default=float('nan')):7.1f} ms   ({len(ipns)} IPNs sent)")
    print(f"  form outcomes                  {dict(outcomes)}")
    print(f"  IPN replies                    {dict(Counter(d['status'] for d in ipns))}")
    print(f"  store: orders {dict(facts['orders'])}, payments {dict(facts['payments'])}")
    print(f"  sandbox: order states {dict(at_sequra)}")

    problems = []
    if confirmed_forms != count:
        problems.append(f"{count - confirmed_forms} shoppers did not see their order confirmed")
    doubled_store = {pid: n for pid, n in facts["into_paid"].items() if n != 1}
    if doubled_store:
        problems.append(f"payments moved into paid more than once: {doubled_store}")
    if paid_in_store != count or facts["orders"].get("paid", 0) != count:
        problems.append(f"store has {paid_in_store} paid payments and {facts['orders'].get('paid', 0)} paid orders")
    if at_sequra.get("confirmed", 0) != count:
        problems.append(f"SeQura has {at_sequra.get('confirmed', 0)} confirmed orders, expected {count}")
    doubled_sequra = {u: n for u, n in confirms_at_sequra.items() if n != 1}
    if doubled_sequra or len(confirms_at_sequra) != count:
        problems.append(f"SeQura confirmed {len(confirms_at_sequra)} orders, some twice: {doubled_sequra}")
    if any(n != 1 for n in ipns_per_order.values()) or len(ipns_per_order) != count:
        problems.append("some orders got no IPN or more than one")
    references = set(facts["references"].values())
    if not mine <= references:
        problems.append(f"{len(mine - references)} SeQura orders are unknown to the store")
    print("  lost confirmations             0" if not problems else "  PROBLEMS:\n    " + "\n    ".join(problems))
    if not problems:
        print("  doubled confirmations          0 (store: one move into paid each; SeQura: one confirm PUT each)")
    return 1 if problems else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--timeout", type=float, default=180.0, help="seconds for the whole run at most")
    parser.add_argument("--url", help="an already running store (with --db) instead of starting one")
    parser.add_argument("--db", type=Path)
    parser.add_argument("--sandbox-url", default="", help="where that store's sandboxes are served (SANDBOX_URL)")
    args = parser.parse_args()
    count = max(1, min(args.orders, 200))  # the seeded stock of SKUS holds 200 orders of one item each
    if args.url:
        return asyncio.run(bench(args.url, args.db, count, args.timeout, args.sandbox_url))
    with tempfile.TemporaryDirectory() as workdir:
        # One store process (SQLite) beside the sandbox process.
        server = ServerProcess(Path(workdir), {"ORDER_EXPIRY_SECONDS": "3600"})
        server.prepare()
        server.start()
        try:
            return asyncio.run(bench(server.url, Path(workdir) / "shop.db", count, args.timeout, server.sandbox_url))
        finally:
            server.stop()


if __name__ == "__main__":
    sys.exit(main())

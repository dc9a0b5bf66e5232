"""Throughput and latency of the store's catalog and cart pages beside a bare Starlette + Jinja2
page, each served by one uvicorn process on loopback, loaded by wrk.

    .venv/bin/python bench/pages.py [--seconds 5] [--connections 16] [--runs 3]

Each page gets a warm-up and then ``--runs`` runs; the table shows medians with their range. The
client's own CPU is printed beside each figure: wrk must stay well under one core, or the figure
measures the client.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from summary import record  # noqa: E402
from wrk import Figures, run_wrk  # noqa: E402

from shop.testing.server import ROOT, ServerProcess, free_port  # noqa: E402

GOAL_RATIO = 0.40
GOAL_P99_MS = 10.0


def start_bare() -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "uvicorn", "bare_app:app", "--port", str(port),
                                "--log-level", "warning", "--no-access-log"],
                               cwd=Path(__file__).parent, env={**os.environ, "PYTHONPATH": str(ROOT)})
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            httpx.get(url + "/health", timeout=1)
            return process, url
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError("the bare app did not start")


def cart_cookie(url: str) -> str:
    """A session holding two products, as a shopper's browser would send it with every request."""
    with httpx.Client(base_url=url, timeout=10) as client:
        page = client.get("/")
        token = re.search(r'name="csrf-token" content="([^"]+)"', page.text).group(1)
        for sku in ("PEN-BLUE", "MUG-ENAMEL"):
            client.post("/cart/add", data={"sku": sku, "quantity": "1", "csrf_token": token})
        client.get("/cart")  # where the browser is sent: it shows and so clears the "Added" message
        return "; ".join(f"{name}={value}" for name, value in client.cookies.items())


def measure(name: str, url: str, pid: int, args, headers: dict[str, str] | None = None) -> Figures:
    run_wrk(url, seconds=1, connections=args.connections, server_pid=pid, headers=headers)  # warm-up
    runs = [run_wrk(url, seconds=args.seconds, connections=args.connections, server_pid=pid, headers=headers)
            for _ in range(args.runs)]
    return Figures(name, runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--summary", default="", help="add the headline figures to this file (bench/summary.py)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        store = ServerProcess(Path(workdir), {"RECONCILE_EVERY_SECONDS": "3600", "ACCESS_LOG": "0"})
        store.prepare()
        store.start()
        bare, bare_url = start_bare()
        try:
            cookie = {"Cookie": cart_cookie(store.url)}
            # `shop serve` with one worker answers in its own process: its CPU is the store's.
            bare_figures = measure("bare Starlette + Jinja2 page", bare_url + "/", bare.pid, args)
            catalog = measure("store catalog `/`", store.url + "/", store.process.pid, args, cookie)
            cart = measure("store cart `/cart` (two products, session, CSRF, CSP)", store.url + "/cart",
                           store.process.pid, args, cookie)
        finally:
            bare.terminate()
            store.stop()
    print(f"wrk, 1 thread, {args.connections} connections, {args.runs} runs of {args.seconds:g} s after a 1 s "
          f"warm-up; one uvicorn process per server; loopback; {os.cpu_count()} cores shared by client and server")
    print()
    print("| page | requests/s median (range) | p50 | p99 median (range) | server CPU per request | wrk CPU (cores) "
          "| errors |")
    print("|---|---|---|---|---|---|---|")
    for figures in (bare_figures, catalog, cart):
        print(figures.row())
    print()
    for figures in (catalog, cart):
        ratio = figures.median("rate") / bare_figures.median("rate")
        p99 = figures.median("p99_ms")
        met = ratio >= GOAL_RATIO and p99 < GOAL_P99_MS
        print(f"{figures.name}: {ratio:.2f} of bare (goal ≥ {GOAL_RATIO:.2f}), p99 {p99:.1f} ms "
              f"(goal < {GOAL_P99_MS:g} ms): {'met' if met else 'NOT met'}")
        record(args.summary, f"{figures.name.split(' (')[0]}: rate of bare's, p99 at {args.connections} connections",
               f"{ratio:.2f}, {p99:.1f} ms", f"≥ {GOAL_RATIO:.2f}, < {GOAL_P99_MS:g} ms", met)
    headroom = bare_figures.median("rate") / max(catalog.median("rate"), cart.median("rate"))
    print(f"client headroom: the same wrk drove the bare page {headroom:.1f}x faster than the fastest store page, "
          f"using {bare_figures.median('client_cpu'):.2f} cores there; the store figures are the server's")


if __name__ == "__main__":
    main()

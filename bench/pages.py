"""Throughput and latency of the store's catalog and cart pages beside a bare Starlette + Jinja2
page, each served by one uvicorn process on loopback, measured in one run.

    .venv/bin/python bench/pages.py [--seconds 5] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load import hammer  # noqa: E402

from shop.testing.server import ROOT, ServerProcess, free_port  # noqa: E402


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


async def clients_with_cart(url: str, count: int) -> list[httpx.AsyncClient]:
    """Clients that each hold a session with two products in the cart, as a shopper would."""
    clients = []
    for _ in range(count):
        client = httpx.AsyncClient(base_url=url, timeout=10)
        page = await client.get("/")
        token = re.search(r'name="csrf-token" content="([^"]+)"', page.text).group(1)
        for sku in ("PEN-BLUE", "MUG-ENAMEL"):
            await client.post("/cart/add", data={"sku": sku, "quantity": "1", "csrf_token": token})
        clients.append(client)
    return clients


async def run(seconds: float, concurrency: int, store_url: str, bare_url: str) -> None:
    bare_clients = [httpx.AsyncClient(base_url=bare_url, timeout=10) for _ in range(concurrency)]
    store_clients = await clients_with_cart(store_url, concurrency)
    for clients, path in ((bare_clients, "/"), (store_clients, "/")):  # warm-up
        await hammer("warm-up", clients, path, 1.0)
    bare = await hammer("bare Starlette + Jinja2 page", bare_clients, "/", seconds)
    catalog = await hammer("store catalog page /", store_clients, "/", seconds)
    cart = await hammer("store cart page /cart", store_clients, "/cart", seconds)
    for client in bare_clients + store_clients:
        await client.aclose()
    print(f"{concurrency} concurrent clients, {seconds:g} s each, one uvicorn process per server, loopback")
    for result in (bare, catalog, cart):
        print(result.line())
    print(f"catalog / bare throughput: {catalog.rate / bare.rate:.2f}   (goal: at least 0.50)")
    print(f"cart / bare throughput:    {cart.rate / bare.rate:.2f}   (goal: at least 0.50)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        store = ServerProcess(Path(workdir), {"RECONCILE_EVERY_SECONDS": "3600"})
        store.prepare()
        store.start()
        bare, bare_url = start_bare()
        try:
            asyncio.run(run(args.seconds, args.concurrency, store.url, bare_url))
        finally:
            bare.terminate()
            store.stop()


if __name__ == "__main__":
    main()

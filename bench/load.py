"""A small, bounded HTTP load generator for the benches: N concurrent clients for T seconds."""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass

import httpx


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile by rank (nearest rank, no interpolation); NaN when there are no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


@dataclass(frozen=True)
class Result:
    name: str
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float]

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def percentile(self, p: float) -> float:
        return percentile(self.latencies_ms, p)

    def line(self) -> str:
        return (f"{self.name:<28} {self.rate:8.0f} req/s   p50 {self.percentile(50):6.1f} ms   "
                f"p99 {self.percentile(99):6.1f} ms   ({self.requests} requests, {self.errors} errors)")


async def hammer(name: str, clients: list[httpx.AsyncClient], path: str, seconds: float,
                 max_requests: int = 200_000) -> Result:
    """Each client requests ``path`` in a loop until the time or the request budget runs out."""
    latencies: list[float] = []
    errors = 0
    budget = [max_requests]
    deadline = time.perf_counter() + seconds

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal errors
        while time.perf_counter() < deadline and budget[0] > 0:
            budget[0] -= 1
            started = time.perf_counter()
            try:
                response = await client.get(path)
                ok = response.status_code == 200
            except httpx.HTTPError:
                ok = False
            if ok:
                latencies.append((time.perf_counter() - started) * 1000)
            else:
                errors += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker(c) for c in clients))
    return Result(name, len(latencies), errors, time.perf_counter() - started, latencies)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")

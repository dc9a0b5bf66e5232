"""Run wrk against one URL and read back its figures, with the CPU the client and the server spent.

wrk (Debian's package) is the load generator because a Python client tops out near 1,000
requests/s on this machine: below that, a page benchmark measures the client, not the server.
"""

from __future__ import annotations

import os
import re
import resource
import shutil
import statistics
import subprocess
from dataclasses import dataclass
from pathlib import Path

_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


@dataclass(frozen=True)
class WrkRun:
    rate: float  # requests per second
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int  # socket errors plus non-2xx/3xx answers
    client_cpu: float  # wrk's CPU seconds per wall second (1.0 = one core)
    server_cpu_ms_per_request: float


@dataclass(frozen=True)
class Figures:
    """Several runs of one page: medians, with the range a reader needs to judge them."""

    name: str
    runs: list[WrkRun]

    def median(self, field: str) -> float:
        return statistics.median(getattr(run, field) for run in self.runs)

    def span(self, field: str, fmt: str) -> str:
        values = [getattr(run, field) for run in self.runs]
        return f"{format(min(values), fmt)}-{format(max(values), fmt)}"

    def row(self) -> str:
        return (f"| {self.name} | {self.median('rate'):,.0f} ({self.span('rate', ',.0f')}) "
                f"| {self.median('p50_ms'):.1f} ms | {self.median('p99_ms'):.1f} ms ({self.span('p99_ms', '.1f')}) "
                f"| {self.median('server_cpu_ms_per_request'):.2f} ms | {self.median('client_cpu'):.2f} "
                f"| {sum(run.errors for run in self.runs)} |")


def wrk_binary() -> str:
    found = shutil.which("wrk")
    if not found:
        raise SystemExit("wrk is not installed: `make bench` installs it (Debian package wrk)")
    return found


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _latency_ms(text: str, percent: str) -> float:
    match = re.search(rf"^\s*{percent}%\s+([\d.]+)(us|ms|s)\s*$", text, re.MULTILINE)
    if not match:
        raise RuntimeError(f"wrk printed no {percent}% latency:\n{text}")
    return float(match.group(1)) * _UNITS_MS[match.group(2)]


def run_wrk(url: str, *, seconds: float, connections: int, server_pid: int,
            headers: dict[str, str] | None = None, threads: int = 1) -> WrkRun:
    """One wrk run; ``server_pid`` is the process whose CPU is counted as the server's."""
    command = [wrk_binary(), f"-t{threads}", f"-c{connections}", f"-d{seconds:g}s", "--latency", "--timeout", "5s"]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    server_before = _cpu_seconds(server_pid)
    client_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    output = subprocess.run(command + [url], capture_output=True, text=True, check=True,
                            timeout=seconds + 30).stdout
    client_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    server_spent = _cpu_seconds(server_pid) - server_before
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", output))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors += int(non_2xx.group(1)) if non_2xx else 0
    client_spent = (client_after.ru_utime + client_after.ru_stime) - (client_before.ru_utime + client_before.ru_stime)
    return WrkRun(
        rate=float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        p50_ms=_latency_ms(output, "50"),
        p99_ms=_latency_ms(output, "99"),
        requests=requests,
        errors=errors,
        client_cpu=client_spent / seconds,
        server_cpu_ms_per_request=server_spent * 1000 / max(requests, 1),
    )

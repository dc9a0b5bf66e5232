"""The soak bench, short: 40 shoppers on two workers over PostgreSQL + Redis, the sandboxes'
faults switched mid-run and the store killed with SIGKILL and started again. Nothing may be
lost, doubled, oversold or stranded once the reconciler has converged."""

import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

BENCH = Path(__file__).resolve().parents[1] / "bench" / "soak.py"
LAST_LINE = re.compile(r"^soak: (\d+) checkouts, lost (\d+), doubled (\d+), oversold (\d+), stranded (\d+)$")
RUN_SECONDS = 240  # the bench's own --timeout; the test waits a little longer for its clean-up


def test_faults_lose_nothing(tmp_path):
    process = subprocess.Popen(
        [sys.executable, str(BENCH), "--orders", "40", "--kill", "--timeout", str(RUN_SECONDS), "--converge", "60",
         "--workdir", str(tmp_path)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        output, _ = process.communicate(timeout=RUN_SECONDS + 60)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGTERM)  # the bench stops the servers it started
        output, _ = process.communicate(timeout=60)
        pytest.fail(f"the soak overran its time:\n{output[-5000:]}")
    lines = output.strip().splitlines()
    found = LAST_LINE.match(lines[-1]) if lines else None
    assert found, output[-5000:]
    checkouts, lost, doubled, oversold, stranded = map(int, found.groups())
    assert checkouts >= 20, output[-5000:]  # the shoppers did get orders placed, whatever the faults
    assert (lost, doubled, oversold, stranded) == (0, 0, 0, 0), output[-5000:]
    assert process.returncode == 0, output[-5000:]

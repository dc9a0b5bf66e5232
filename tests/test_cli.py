"""The `shop` command as a user runs it."""

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from shop.testing.server import ONE_SANDBOX_SERVING, served_url

SHOP = str(Path(sys.executable).parent / "shop")


def run(*args, env=None, timeout=60):
    return subprocess.run([SHOP, *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


def test_a_malformed_setting_stops_start_up_with_one_line(tmp_path):
    result = run("serve", env={"DATABASE_URL": f"sqlite:///{tmp_path}/x.db", "PORT": "eighty"})
    assert result.returncode == 2
    assert result.stderr.strip() == "shop: setting error: PORT: expected int, got 'eighty'"


def test_db_upgrade_and_seed_are_idempotent(tmp_path):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path}/shop.db", "SECRET_KEY": "cli-test-secret-0123456789"}
    for _ in range(2):
        assert run("db", "upgrade", env=env).returncode == 0
    assert "8 new products" in run("seed", env=env).stdout
    assert "0 new products" in run("seed", env=env).stdout


def test_one_sandbox_served_alone(tmp_path):
    log_path = tmp_path / "sandbox.log"
    with log_path.open("w") as log:
        process = subprocess.Popen([SHOP, "sandbox", "banktransfer", "--port", "0"], cwd=tmp_path,
                                   stdout=log, stderr=subprocess.STDOUT,
                                   env={**os.environ, "SECRET_KEY": "cli-test-secret-0123456789"})
    try:
        url = served_url(process, log_path, ONE_SANDBOX_SERVING)
        for _ in range(100):
            try:
                page = httpx.get(f"{url}/", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        assert page.status_code == 200 and "Sandbox Bank" in page.text
        api = httpx.get(f"{url}/v1/expected-credits/none", timeout=2)
        assert api.status_code == 401  # the provider's API, with its own auth
    finally:
        process.terminate()
        process.wait(timeout=10)

"""The sandboxes as one process of their own: one state for every store worker, kept across restarts."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from starlette.routing import Mount

from shop.sandbox_host import SAVE_EVERY_SECONDS, SandboxStateFile, create_sandbox_host
from shop.settings import Settings
from shop.testing.server import SANDBOXES_SERVING, ServerProcess, served_url

SHOP = str(Path(sys.executable).parent / "shop")
BANK_KEY = {"authorization": "Bearer sandbox-api-key"}
CREDIT = {"amount": 1450, "currency": "EUR", "iban": "DE02120300000000202051",
          "notify_url": "http://127.0.0.1:9/cb"}


class Sandboxes:
    """``shop sandboxes --port 0`` as a user runs it: any free port, read back from what it prints."""

    def __init__(self, state_dir: Path) -> None:
        self.url = ""
        self.env = {**os.environ, "SECRET_KEY": "sandbox-test-secret-0123456789", "SANDBOX_STATE_DIR": str(state_dir)}
        self.log_path = state_dir.parent / "sandboxes.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> "Sandboxes":
        self.log_path.unlink(missing_ok=True)
        with self.log_path.open("w") as log:
            self.process = subprocess.Popen([SHOP, "sandboxes", "--port", "0"], env=self.env, stdout=log,
                                            stderr=subprocess.STDOUT)
        self.url = served_url(self.process, self.log_path, SANDBOXES_SERVING)
        for _ in range(200):
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.05)
        raise RuntimeError("the sandboxes did not start")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(timeout=10)

    def expect_credit(self, reference: str) -> str:
        answer = httpx.post(f"{self.url}/sandbox/banktransfer/v1/expected-credits", headers=BANK_KEY,
                            json={**CREDIT, "reference": reference}, timeout=5)
        assert answer.status_code == 201, answer.text
        return answer.json()["id"]

    def credit_status(self, credit_id: str) -> int:
        return httpx.get(f"{self.url}/sandbox/banktransfer/v1/expected-credits/{credit_id}", headers=BANK_KEY,
                         timeout=5).status_code


@pytest.fixture
def sandboxes(tmp_path):
    process = Sandboxes(tmp_path / "state").start()
    yield process
    process.stop()


def test_every_sandbox_is_served_by_the_one_process(sandboxes):
    index = httpx.get(f"{sandboxes.url}/", timeout=5).text
    for plugin_id in ("banktransfer", "secupay", "seqr", "sequra"):
        assert f"/sandbox/{plugin_id}/" in index
        assert httpx.get(f"{sandboxes.url}/sandbox/{plugin_id}/", timeout=5).status_code == 200


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["stopped", "killed"])
def test_a_restarted_sandbox_still_knows_its_transactions(sandboxes, sig):
    credit = sandboxes.expect_credit("CW-RESTART-1")
    if sig == signal.SIGKILL:
        time.sleep(SAVE_EVERY_SECONDS * 3)  # killed, it keeps what it saved before the kill
    sandboxes.stop(sig)
    sandboxes.start()
    assert sandboxes.credit_status(credit) == 200
    # ...and it goes on numbering after what it remembers: no reference or id is handed out twice.
    assert sandboxes.expect_credit("CW-RESTART-2") != credit


def test_each_sandbox_state_round_trips_through_its_file(tmp_path):
    """Every plugin's sandbox names what it keeps, and all of it can be written and read back."""
    settings = Settings.from_env({"SECRET_KEY": "sandbox-test-secret-0123456789",
                                  "SANDBOX_STATE_DIR": str(tmp_path)})
    app = create_sandbox_host(settings)
    mounted = {route.path.rsplit("/", 1)[-1]: route.app for route in app.routes if isinstance(route, Mount)}
    assert set(mounted) == {"banktransfer", "secupay", "seqr", "sequra"}
    for plugin_id, sandbox in mounted.items():
        state = sandbox.state.sandbox
        assert type(state).PERSISTED, f"{plugin_id}: its state names nothing to keep"
        file = SandboxStateFile(state, tmp_path / f"{plugin_id}.pickle")
        assert file.save_if_changed()
        assert not file.save_if_changed()  # unchanged: not written again
        fresh = create_sandbox_host(settings)
        twin = next(r.app for r in fresh.routes if isinstance(r, Mount) and r.path.endswith(plugin_id)).state.sandbox
        assert SandboxStateFile(twin, file.path).load()


@pytest.mark.slow
def test_two_store_workers_talk_to_one_provider(tmp_path):
    """A bank transfer created through one worker is found through the other: the sandbox
    is one process, not a copy in each worker."""
    server = ServerProcess(tmp_path, workers=2)
    server.prepare()
    server.start()
    try:
        seen = set()
        for number in range(12):
            credit = httpx.post(f"{server.sandbox_url}/sandbox/banktransfer/v1/expected-credits", headers=BANK_KEY,
                                json={**CREDIT, "reference": f"CW-WORKERS-{number}"}, timeout=5).json()["id"]
            seen.add(credit)
            # The store's redirect from its own origin lands on the same sandbox, whichever worker answers.
            page = httpx.get(f"{server.url}/sandbox/banktransfer/", follow_redirects=True, timeout=5)
            assert page.status_code == 200 and credit in page.text
        assert len(seen) == 12
    finally:
        server.stop()

"""A real store process for end-to-end tests: uvicorn on a free loopback port, a fresh database."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
SHOP = Path(sys.executable).parent / "shop"
START_SECONDS = 90  # a loaded CI machine starting workers, the sandbox process and PostgreSQL


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServerProcess:
    """``shop db upgrade``, ``shop seed`` and ``shop serve`` as a user would run them."""

    def __init__(self, workdir: Path, env: dict[str, str] | None = None, workers: int = 1,
                 port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.workers = workers
        self.log_path = workdir / f"server-{self.port}.log"
        self.env = {**os.environ, "DATABASE_URL": f"sqlite:///{workdir}/shop.db",
                    "SECRET_KEY": "e2e-secret-key-0123456789abcdef", "ADMIN_PASSWORD": "demo-admin",
                    "HOST": "127.0.0.1", "PORT": str(self.port), "SANDBOX_URL": f"http://127.0.0.1:{free_port()}",
                    "SANDBOX_STATE_DIR": str(workdir / "sandboxes"),
                    # The test harness reads the sandboxes' state back (SeQura's orders, secupay's state.json).
                    "SANDBOX_TEST_READBACKS": "1", **(env or {})}
        # The sandbox process `shop serve` starts beside the store (or one served elsewhere).
        self.sandbox_url = self.env["SANDBOX_URL"]
        self.process: subprocess.Popen | None = None

    def prepare(self) -> None:
        for args in (["db", "upgrade"], ["seed"]):
            subprocess.run([str(SHOP), *args], env=self.env, cwd=ROOT, check=True, capture_output=True, timeout=120)

    def sandbox(self, path: str) -> str:
        """The address of a sandbox page: ``server.sandbox("seqr/")``."""
        return f"{self.sandbox_url}/sandbox/{path}"

    def start(self, *extra_args: str) -> ServerProcess:
        log = self.log_path.open("a")
        self.process = subprocess.Popen([str(SHOP), "serve", "--workers", str(self.workers), *extra_args],
                                        env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited:\n{self.log_path.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the server did not start in {START_SECONDS} s:\n{self.log_path.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""


def start_two_stores(first_dir: Path, second_dir: Path, env: dict[str, str]) -> list[ServerProcess]:
    """Two store processes on one database (``env`` names it): the second uses the first's
    sandbox process, as two hosts of one shop talk to one provider."""
    first = ServerProcess(first_dir, env)
    first.prepare()
    second = ServerProcess(second_dir, {**env, "SANDBOX_URL": first.sandbox_url})
    return [first.start(), second.start("--no-sandboxes")]

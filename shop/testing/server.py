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
SANDBOXES_STARTED = "Sandboxes ("  # the first line of `shop sandboxes`
START_SECONDS = 90  # a loaded CI machine starting workers, the sandbox process and PostgreSQL
START_ATTEMPTS = 3  # new ports each time another process took one first
PORT_TAKEN = "address already in use"
DEMO_ADMIN_PASSWORD = "demo-admin"


def free_port() -> int:
    """A port free now. Another process may take it before the server binds it: ServerProcess.start
    notices, and tries again on new ports."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PortTaken(RuntimeError):
    """Another process bound the port between free_port() and the server's bind."""


class ServerProcess:
    """``shop db upgrade``, ``shop seed`` and ``shop serve`` as a user would run them."""

    def __init__(self, workdir: Path, env: dict[str, str] | None = None, workers: int = 1,
                 port: int | None = None) -> None:
        self.workers = workers
        self.env = {**os.environ, "DATABASE_URL": f"sqlite:///{workdir}/shop.db",
                    "SECRET_KEY": "e2e-secret-key-0123456789abcdef", "ADMIN_PASSWORD": DEMO_ADMIN_PASSWORD,
                    "HOST": "127.0.0.1", "SANDBOX_STATE_DIR": str(workdir / "sandboxes"),
                    # The test harness reads the sandboxes' state back (SeQura's orders, secupay's state.json).
                    "SANDBOX_TEST_READBACKS": "1", "ACCESS_LOG": "1", **(env or {})}
        # Ports this object chose may be moved when taken; ones the caller named may not.
        self._ports_movable = port is None
        self._own_sandbox_port = "SANDBOX_URL" not in (env or {})
        self._use_ports(port or free_port())
        self.log_path = workdir / f"server-{self.port}.log"
        self.process: subprocess.Popen | None = None

    def _use_ports(self, port: int) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{self.port}"
        self.env["PORT"] = str(self.port)
        if self._own_sandbox_port:
            self.env["SANDBOX_URL"] = f"http://127.0.0.1:{free_port()}"
        # The sandbox process `shop serve` starts beside the store (or one served elsewhere).
        self.sandbox_url = self.env["SANDBOX_URL"]

    def prepare(self) -> None:
        for args in (["db", "upgrade"], ["seed"]):
            done = subprocess.run([str(SHOP), *args], env=self.env, cwd=ROOT, capture_output=True, text=True,
                                  timeout=120)
            if done.returncode != 0:
                raise RuntimeError(f"`shop {' '.join(args)}` failed ({done.returncode}):\n"
                                   f"--- stdout\n{done.stdout[-3000:]}\n--- stderr\n{done.stderr[-3000:]}")

    def sandbox(self, path: str) -> str:
        """The address of a sandbox page: ``server.sandbox("seqr/")``."""
        return f"{self.sandbox_url}/sandbox/{path}"

    def start(self, *extra_args: str) -> ServerProcess:
        for attempt in range(1, START_ATTEMPTS + 1):
            try:
                return self._start_once(extra_args)
            except PortTaken:
                if not self._ports_movable or attempt == START_ATTEMPTS:
                    raise
                self._use_ports(free_port())
        raise AssertionError("unreachable")

    def _start_once(self, extra_args: tuple[str, ...]) -> ServerProcess:
        with self.log_path.open("a") as log:
            log.write(f"--- shop serve on {self.url}, sandboxes at {self.sandbox_url}\n")
            log.flush()
            attempt_starts_at = log.tell()
            self.process = subprocess.Popen([str(SHOP), "serve", "--workers", str(self.workers), *extra_args],
                                            env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        # Another store on a port taken under us would answer /health too: ready means that this
        # process says it is running on our ports (and the sandbox process on its own, if it
        # started one: a store whose plugins are all live starts none).
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            output = self._log_since(attempt_starts_at)
            running_lines = [f"running on {self.url}"]
            if SANDBOXES_STARTED in output:
                running_lines.append(f"running on {self.sandbox_url}")
            if PORT_TAKEN in output.lower():
                self.stop()
                raise PortTaken(f"a port was taken before the server bound it:\n{output[-2000:]}")
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited:\n{output[-3000:]}")
            if all(line in output for line in running_lines) and self._answers():
                return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the server did not start in {START_SECONDS} s:\n{self.log()[-3000:]}")

    def _answers(self) -> bool:
        try:
            return httpx.get(f"{self.url}/health", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def log(self) -> str:
        return self._log_since(0)

    def _log_since(self, offset: int) -> str:
        if not self.log_path.exists():
            return ""
        with self.log_path.open("rb") as log:
            log.seek(offset)
            return log.read().decode(errors="replace")


def start_two_stores(first_dir: Path, second_dir: Path, env: dict[str, str]) -> list[ServerProcess]:
    """Two store processes on one database (``env`` names it): the second uses the first's
    sandbox process, as two hosts of one shop talk to one provider."""
    first = ServerProcess(first_dir, env)
    first.prepare()
    first.start()  # first: its sandbox port is only settled once it runs
    second = ServerProcess(second_dir, {**env, "SANDBOX_URL": first.sandbox_url})
    return [first, second.start("--no-sandboxes")]

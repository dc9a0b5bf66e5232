"""A real store process for end-to-end tests: uvicorn on a free loopback port, a fresh database."""

from __future__ import annotations

import atexit
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
SHOP = Path(sys.executable).parent / "shop"
START_SECONDS = 90  # a loaded CI machine starting workers, the sandbox process and PostgreSQL
DEMO_ADMIN_PASSWORD = "demo-admin"
# What `shop serve` prints once its sockets are bound (and its sandbox process answers).
STORE_SERVING = re.compile(r"^Cartwheel is serving at (\S+)/$", re.MULTILINE)
SANDBOXES_SERVING = re.compile(r"^Sandboxes \(.*\) are serving at (\S+)/$", re.MULTILINE)
ONE_SANDBOX_SERVING = re.compile(r"^The .* sandbox is serving at (\S+)/$", re.MULTILINE)


# `db upgrade` and `seed` give every fresh SQLite store the same file: they run once per test
# process, for its first store, and later stores start from a copy (two seconds saved per store).
_seeded_template: Path | None = None


def free_port() -> int:
    """A port free now, for an address where nothing must answer. Never for a server to bind
    later (another process may take it first): servers bind port 0 and say which port they got."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def reserved_port() -> socket.socket:
    """A port bound, not listening, until the caller closes it just before its server binds it:
    no process binding port 0 meanwhile is handed it. For a server whose port must be known
    before it starts (a provider started first must know the shop's address)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    return sock


def served_url(process: subprocess.Popen, log_path: Path, pattern: re.Pattern, seconds: float = START_SECONDS) -> str:
    """The address a `shop` process prints once it listens: it bound port 0, only it knows the port."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        output = log_path.read_text(errors="replace") if log_path.exists() else ""
        found = pattern.search(output)
        if found:
            return found.group(1)
        if process.poll() is not None:
            raise RuntimeError(f"it exited ({process.returncode}):\n{output[-3000:]}")
        time.sleep(0.05)
    raise RuntimeError(f"it did not say where it listens in {seconds} s")


class ServerProcess:
    """``shop db upgrade``, ``shop seed`` and ``shop serve`` as a user would run them. The store
    (and its sandbox process) bind port 0, any free port, and ``start()`` reads the ports back
    from what `shop serve` prints: parallel runs never collide."""

    def __init__(self, workdir: Path, env: dict[str, str] | None = None, workers: int = 1,
                 port: int | None = None) -> None:
        self.workers = workers
        self.env = {**os.environ, "DATABASE_URL": f"sqlite:///{workdir}/shop.db",
                    "SECRET_KEY": "e2e-secret-key-0123456789abcdef", "ADMIN_PASSWORD": DEMO_ADMIN_PASSWORD,
                    "HOST": "127.0.0.1", "PORT": str(port or 0), "SANDBOX_STATE_DIR": str(workdir / "sandboxes"),
                    # The test harness reads the sandboxes' state back (SeQura's orders, secupay's state.json).
                    "SANDBOX_TEST_READBACKS": "1", "ACCESS_LOG": "1", **(env or {})}
        if "SANDBOX_URL" not in (env or {}):
            self.env.pop("SANDBOX_URL", None)  # its own sandbox process, on a free port too
        # Several stores may share a workdir: each its own log.
        handle, name = tempfile.mkstemp(prefix="server-", suffix=".log", dir=workdir)
        os.close(handle)
        self.log_path = Path(name)
        self.url = self.sandbox_url = ""  # known once started
        self.port = 0
        self.process: subprocess.Popen | None = None

    def prepare(self) -> None:
        """``shop db upgrade`` and ``shop seed``: their output goes to the store's log too, and in the
        error when one fails. A store on its own fresh SQLite file starts from a copy of the first
        such store's, made by the same two commands."""
        global _seeded_template
        database = self._own_sqlite_file()
        if database is not None and _seeded_template is not None and not database.exists():
            shutil.copyfile(_seeded_template, database)
            with self.log_path.open("a") as log:
                log.write(f"--- shop db upgrade, shop seed: copied from {_seeded_template}\n")
            return
        for args in (["db", "upgrade"], ["seed"]):
            self._run_shop(*args)
        if database is not None and _seeded_template is None:
            folder = tempfile.mkdtemp(prefix="seeded-store-")
            atexit.register(shutil.rmtree, folder, ignore_errors=True)
            _seeded_template = Path(folder) / "shop.db"
            shutil.copyfile(database, _seeded_template)

    def _own_sqlite_file(self) -> Path | None:
        """The store's SQLite file (None on PostgreSQL)."""
        url = self.env["DATABASE_URL"]
        return Path(url.removeprefix("sqlite:///")) if url.startswith("sqlite:///") else None

    def _run_shop(self, *args: str) -> None:
        done = subprocess.run([str(SHOP), *args], env=self.env, cwd=ROOT, capture_output=True, text=True,
                              timeout=120)
        with self.log_path.open("a") as log:
            log.write(f"--- shop {' '.join(args)} ({done.returncode})\n{done.stdout}{done.stderr}")
        if done.returncode != 0:
            raise RuntimeError(f"`shop {' '.join(args)}` failed ({done.returncode}):\n"
                               f"--- stdout\n{done.stdout[-3000:]}\n--- stderr\n{done.stderr[-3000:]}")

    def sandbox(self, path: str) -> str:
        """The address of a sandbox page: ``server.sandbox("seqr/")``."""
        return f"{self.sandbox_url}/sandbox/{path}"

    def start(self, *extra_args: str) -> ServerProcess:
        with self.log_path.open("a") as log:
            log.write(f"--- shop serve {' '.join(extra_args)}\n")
            log.flush()
            starts_at = log.tell()
            self.process = subprocess.Popen([str(SHOP), "serve", "--workers", str(self.workers), *extra_args],
                                            env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            output = self._log_since(starts_at)
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited:\n{output[-3000:]}")
            serving = STORE_SERVING.search(output)
            # Its sandbox process, when it started one, printed its address first.
            if serving and self._answers(serving.group(1)):
                self.url = serving.group(1)
                self.port = int(self.url.rsplit(":", 1)[1])
                sandboxes = SANDBOXES_SERVING.search(output)
                self.sandbox_url = sandboxes.group(1) if sandboxes else self.env.get("SANDBOX_URL", "")
                # Restarted, it comes back where its clients know it, as a real store would.
                self.env["PORT"] = str(self.port)
                if self.sandbox_url:
                    self.env["SANDBOX_URL"] = self.sandbox_url
                return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the server did not start in {START_SECONDS} s:\n{self.log()[-3000:]}")

    @staticmethod
    def _answers(url: str) -> bool:
        try:
            return httpx.get(f"{url}/health", timeout=5).status_code == 200  # a loaded machine is slow
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
    first.start()  # first: its sandbox port is known once it runs
    second = ServerProcess(second_dir, {**env, "SANDBOX_URL": first.sandbox_url})
    return [first, second.start("--no-sandboxes")]

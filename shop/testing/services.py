"""Real PostgreSQL and Redis servers for tests, started on free loopback ports and thrown away."""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from shop.testing.server import free_port


def _find(program: str) -> str | None:
    found = shutil.which(program)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{program}"))
    return candidates[-1] if candidates else None


def _wait_for_port(port: int, seconds: float, process: subprocess.Popen, name: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"{name} did not listen on {port} within {seconds} s")


class PostgresServer:
    """initdb + postgres in a temporary folder. PostgreSQL refuses to run as root, so as root it
    runs as the 'postgres' user that Debian's package creates."""

    def __init__(self) -> None:
        self.initdb, self.postgres = _find("initdb"), _find("postgres")
        if not (self.initdb and self.postgres):
            raise RuntimeError("PostgreSQL is not installed (Debian package 'postgresql'; `make test` installs it)")
        # Under /tmp itself: the 'postgres' user must be able to reach it.
        self.dir = Path(tempfile.mkdtemp(prefix="cartwheel-pg-")) / "data"
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        self._as = []
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            self.dir.parent.chmod(0o755)
            self._as = ["runuser", "-u", "postgres", "--"]
            self._owner = (user.pw_uid, user.pw_gid)
        self.url = f"postgresql+psycopg://cartwheel@127.0.0.1:{self.port}/cartwheel"

    def start(self) -> PostgresServer:
        self.dir.mkdir()
        if self._as:
            os.chown(self.dir, *self._owner)
        subprocess.run([*self._as, self.initdb, "-D", str(self.dir), "-U", "cartwheel", "--auth=trust",
                        "-E", "UTF8", "--no-sync"], check=True, capture_output=True, timeout=120)
        self.process = subprocess.Popen(
            [*self._as, self.postgres, "-D", str(self.dir), "-p", str(self.port), "-h", "127.0.0.1",
             "-k", str(self.dir), "-c", "fsync=off", "-c", "max_connections=100"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait_for_port(self.port, 30, self.process, "postgres")
        subprocess.run([*self._as, _find("createdb") or "createdb", "-h", "127.0.0.1", "-p", str(self.port),
                        "-U", "cartwheel", "cartwheel"], check=True, capture_output=True, timeout=60)
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)
        shutil.rmtree(self.dir.parent, ignore_errors=True)


class RedisServer:
    def __init__(self) -> None:
        self.binary = shutil.which("redis-server")
        if not self.binary:
            raise RuntimeError("redis-server is not installed (Debian package 'redis-server'; `make test` installs it)")
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> RedisServer:
        self.process = subprocess.Popen([self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                         "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait_for_port(self.port, 15, self.process, "redis-server")
        return self

    def stop(self) -> None:
        """Stop it; ``start()`` brings it back on the same port, empty."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)  # a paused server would not act on SIGTERM
            self.process.terminate()
            self.process.wait(timeout=15)

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """Hung, as a server under a stalled disk or a frozen VM is: connections stay open, nothing answers."""
        self.process.send_signal(signal.SIGSTOP)
        try:
            yield
        finally:
            self.process.send_signal(signal.SIGCONT)

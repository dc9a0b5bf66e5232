"""Real PostgreSQL and Redis servers for tests, started on free loopback ports and thrown away."""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
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


PORT_TAKEN = "Address already in use"
START_ATTEMPTS = 3  # new ports each time another process took one first


class PortTaken(RuntimeError):
    """Another process bound the port between free_port() and the server's bind."""


def _wait_until_ready(log: Path, offset: int, ready: str, seconds: float, process: subprocess.Popen,
                      name: str) -> None:
    """Wait for the server to say, in its own log, that it listens: a connection to the port could
    reach another process that took it first."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        output = _read_from(log, offset)
        if ready in output:
            return
        if process.poll() is not None:
            if PORT_TAKEN in output:
                raise PortTaken(f"{name}: its port was taken first")
            raise RuntimeError(f"{name} exited with {process.returncode}:\n{output[-2000:]}")
        time.sleep(0.05)
    raise RuntimeError(f"{name} did not say it was ready within {seconds} s:\n{_read_from(log, offset)[-2000:]}")


def _read_from(log: Path, offset: int) -> str:
    if not log.exists():
        return ""
    with log.open("rb") as file:
        file.seek(offset)
        return file.read().decode(errors="replace")


class _Ports:
    """A server's port, chosen free before it starts. It moves when another process took it
    first, but only until someone has read the server's URL: a URL handed out must stay true."""

    def __init__(self) -> None:
        self.port = free_port()
        self.handed_out = False

    def start(self, start_once) -> None:
        for attempt in range(1, START_ATTEMPTS + 1):
            try:
                return start_once()
            except PortTaken:
                if self.handed_out or attempt == START_ATTEMPTS:
                    raise
                self.port = free_port()


class PostgresServer:
    """initdb + postgres in a temporary folder. PostgreSQL refuses to run as root, so as root it
    runs as the 'postgres' user that Debian's package creates (switched to by subprocess itself:
    `runuser` would hold every stop two seconds before it passed the signal on)."""

    def __init__(self) -> None:
        self.initdb, self.postgres = _find("initdb"), _find("postgres")
        if not (self.initdb and self.postgres):
            raise RuntimeError("PostgreSQL is not installed (Debian package 'postgresql'; `make test` installs it)")
        # Under /tmp itself: the 'postgres' user must be able to reach it.
        self.dir = Path(tempfile.mkdtemp(prefix="cartwheel-pg-")) / "data"
        self.log_path = self.dir.parent / "postgres.log"
        self._ports = _Ports()
        self.process: subprocess.Popen | None = None
        self._as: dict = {}  # subprocess's user switch, as root
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            self.dir.parent.chmod(0o755)
            self._as = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": [],
                        "env": {**os.environ, "HOME": user.pw_dir, "USER": "postgres", "LOGNAME": "postgres"}}

    @property
    def port(self) -> int:
        self._ports.handed_out = True
        return self._ports.port

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://cartwheel@127.0.0.1:{self.port}/cartwheel"

    def start(self) -> PostgresServer:
        self.dir.mkdir()
        if self._as:
            os.chown(self.dir, self._as["user"], self._as["group"])
        subprocess.run([self.initdb, "-D", str(self.dir), "-U", "cartwheel", "--auth=trust",
                        "-E", "UTF8", "--no-sync"], check=True, capture_output=True, timeout=120, **self._as)
        self._ports.start(self._start_postgres)
        subprocess.run([_find("createdb") or "createdb", "-h", "127.0.0.1", "-p", str(self.port),
                        "-U", "cartwheel", "cartwheel"], check=True, capture_output=True, timeout=60, **self._as)
        return self

    def _start_postgres(self) -> None:
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [self.postgres, "-D", str(self.dir), "-p", str(self._ports.port), "-h", "127.0.0.1",
                 "-k", str(self.dir), "-c", "fsync=off", "-c", "max_connections=100"],
                stdout=log, stderr=subprocess.STDOUT, **self._as)
        _wait_until_ready(self.log_path, offset, "ready to accept connections", 30, self.process, "postgres")

    def stop(self) -> None:
        """PostgreSQL's fast shutdown (SIGINT): open connections are closed, as when a server goes
        down; the default smart one would wait for every pooled connection to leave."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            self.process.wait(timeout=30)
        shutil.rmtree(self.dir.parent, ignore_errors=True)


class RedisServer:
    def __init__(self) -> None:
        self.binary = shutil.which("redis-server")
        if not self.binary:
            raise RuntimeError("redis-server is not installed (Debian package 'redis-server'; `make test` installs it)")
        self._ports = _Ports()
        self.log_path = Path(tempfile.mkdtemp(prefix="cartwheel-redis-")) / "redis.log"
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        self._ports.handed_out = True
        return f"redis://127.0.0.1:{self._ports.port}/0"

    def start(self) -> RedisServer:
        self._ports.start(self._start_redis)
        return self

    def _start_redis(self) -> None:
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen([self.binary, "--port", str(self._ports.port), "--bind", "127.0.0.1",
                                             "--save", "", "--appendonly", "no"], stdout=log, stderr=subprocess.STDOUT)
        _wait_until_ready(self.log_path, offset, "Ready to accept connections", 15, self.process, "redis-server")

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

"""The servers tests start never take another process's port for their own: `shop serve` binds
port 0 and says which port it got; a test Redis whose port was taken first moves, unless its URL
was already handed out."""

import os
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from shop.testing.server import ServerProcess
from shop.testing.services import PortTaken, RedisServer

SHOP = str(Path(sys.executable).parent / "shop")


def occupy(port: int) -> socket.socket:
    """Another process's server, listening on ``port`` first."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen()
    return sock


@pytest.mark.slow
def test_a_test_redis_moves_when_its_port_was_taken_before_anyone_knew_it():
    redis = RedisServer()
    taken = occupy(redis._ports.port)
    try:
        redis.start()
        assert f":{taken.getsockname()[1]}/" not in redis.url
        assert redis.process.poll() is None
    finally:
        redis.stop()
        taken.close()


@pytest.mark.slow
def test_a_test_redis_whose_url_was_handed_out_does_not_move():
    redis = RedisServer()
    url = redis.url  # a store was told this address
    taken = occupy(int(url.rsplit(":", 1)[1].split("/")[0]))
    try:
        with pytest.raises(PortTaken):
            redis.start()
        assert redis.url == url
    finally:
        redis.stop()
        taken.close()


def test_serve_on_a_taken_port_says_so_in_one_line(tmp_path):
    taken = occupy(0)
    port = taken.getsockname()[1]
    try:
        done = subprocess.run([SHOP, "serve"], capture_output=True, text=True, timeout=60,
                              env={**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path}/x.db", "PORT": str(port),
                                   "SANDBOX_URL": "http://127.0.0.1:9"})
    finally:
        taken.close()
    assert done.returncode == 2
    assert done.stderr.startswith(f"shop: setting error: PORT: cannot listen on 127.0.0.1:{port}")


def test_two_stores_on_port_0_get_their_own_ports_and_sandboxes(tmp_path):
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
    stores = [ServerProcess(tmp_path / name) for name in ("a", "b")]
    try:
        for store in stores:
            store.prepare()
            store.start()
        assert len({store.port for store in stores}) == 2
        assert len({store.sandbox_url for store in stores}) == 2
        for store in stores:
            # The store's own redirect leads to the sandbox process it started, at the port it read back.
            page = httpx.get(f"{store.url}/sandbox/banktransfer/", timeout=10)
            assert page.status_code in (302, 303, 307) and page.headers["location"].startswith(store.sandbox_url)
    finally:
        for store in stores:
            store.stop()

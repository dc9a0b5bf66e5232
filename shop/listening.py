"""Listening sockets bound before anything serves them.

`shop serve` binds the store's socket and the sandbox process's socket itself, then hands them to
uvicorn and to the sandbox process. Port 0 lets the system pick a free port: the address is known
(and printed) before any worker or sandbox starts, and no other process can take the port in
between, as it could when a test picked a "free" port and let the server bind it later."""

from __future__ import annotations

import socket
import sys

from shop.settings import SettingsError

BACKLOG = 2048  # uvicorn's default


def listen_on(setting: str, host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (port 0: any free port); ``setting`` names what a
    taken port is blamed on."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise SettingsError(f"{setting}: cannot listen on {host}:{port} ({exc.strerror})") from exc
    sock.listen(BACKLOG)
    return sock


def http_url(sock: socket.socket) -> str:
    """The address a socket was bound to, as the URL clients use."""
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def serve_socket(config, sock: socket.socket) -> None:
    """``uvicorn.run`` on a socket bound already: its workers share it."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    try:
        if config.workers > 1:
            Multiprocess(config, sockets=[sock]).run()
            return
        server = uvicorn.Server(config)
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        return
    if not server.started:
        sys.exit(3)  # uvicorn's STARTUP_FAILURE: the app's lifespan refused to start

"""The `shop` command: serve, db upgrade, seed, sandbox NAME.

Each command imports what it needs when it runs, so that `shop seed` does not load a web server."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import secrets
import sys
from pathlib import Path
from urllib.parse import urlsplit

from shop import scaffold
from shop.settings import DEMO_ADMIN_PASSWORD, Settings, SettingsError, check_admin_password

SECRET_FILE = Path("var/secret_key")


def persistent_secret() -> str:
    """A SECRET_KEY kept in var/ so that sessions and payment links survive a restart of the demo."""
    if SECRET_FILE.is_file():
        return SECRET_FILE.read_text().strip()
    SECRET_FILE.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(32)
    SECRET_FILE.write_text(key)
    SECRET_FILE.chmod(0o600)
    return key


def load_settings(**overrides) -> Settings:
    settings = Settings.from_env(**overrides)
    if not settings.env.get("SECRET_KEY"):
        settings = Settings.from_env(**overrides, secret_key=persistent_secret())
    return settings


def upgrade(settings: Settings) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    config.set_main_option("sqlalchemy.url", settings.database_url.replace("%", "%%"))
    config.attributes["configure_logger"] = False
    if settings.is_sqlite:
        Path(settings.database_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(config, "head")


def seed(settings: Settings) -> int:
    from shop.db import make_engine, session
    from shop.seed import seed as seed_catalog

    engine = make_engine(settings.database_url)
    with session(engine) as db:
        added = seed_catalog(db)
    engine.dispose()
    return added


WORKER_HEALTHCHECK_SECONDS = 30


def serve(settings: Settings, workers: int, with_sandboxes: bool = True) -> None:
    import uvicorn

    from shop.listening import http_url, listen_on, serve_socket
    from shop.sandbox_host import sandbox_modes

    modes = sandbox_modes(settings)
    live = [plugin_id for plugin_id, in_sandbox in modes.items() if not in_sandbox]
    check_admin_password(settings, live)
    # No plugin points at its sandbox (a production store): no sandbox process, nothing of them served.
    start_them = with_sandboxes and any(modes.values())
    # Both sockets are bound before anything starts (port 0: a free one), so the workers and the
    # sandbox process are told the addresses really served.
    store_socket = listen_on("PORT", settings.host, settings.port)
    sandbox_socket = listen_on("SANDBOX_URL", *sandbox_address(settings)) if start_them else None
    settings = dataclasses.replace(settings, port=store_socket.getsockname()[1])
    # A SANDBOX_URL set with a real port is kept as written (its host name, say); a default or port 0 is filled in.
    if sandbox_socket is not None and (not settings.sandbox_url or sandbox_address(settings)[1] == 0):
        settings = dataclasses.replace(settings, sandbox_url=http_url(sandbox_socket))
    os.environ["PORT"] = str(settings.port)
    if sandbox_socket is not None:
        os.environ["SANDBOX_URL"] = settings.sandbox_url
    base = settings.base_url
    sandboxes = start_sandboxes(settings, sandbox_socket) if sandbox_socket is not None else None
    try:
        if workers == 1:
            # This process is the worker: its app is built while the sandbox process starts, on
            # the other core (uvicorn then finds the module imported).
            import shop.asgi  # noqa: F401
        if sandboxes is not None:
            wait_for_sandboxes(settings, sandboxes)
    except BaseException:
        if sandboxes is not None:
            stop_process(sandboxes)
        raise
    print(f"Cartwheel is serving at {base}/", flush=True)
    # Printed only when it is the demo's, which anyone may know; a set one never goes to a log.
    shown = DEMO_ADMIN_PASSWORD if settings.admin_password == DEMO_ADMIN_PASSWORD else "as set in ADMIN_PASSWORD"
    print(f"  back office: {base}/admin/  (password: {shown})", flush=True)
    print(f"  demo guide:  {base}/demo", flush=True)
    if sandboxes is not None:
        print(f"  sandboxes:   {settings.sandbox_base_url}/", flush=True)
    if live:
        print(f"  live:        {', '.join(live)} (their real providers)", flush=True)
    # Order pages hold a websocket each while they wait: per-message deflate keeps a zlib context
    # per socket (about 45 KB each, for a few small status messages), so it is off.
    config = uvicorn.Config("shop.asgi:app", workers=workers, log_level="info",
                            log_config=access_log_without_tokens(), access_log=settings.access_log,
                            # Behind a proxy, the shopper's address (rate limits, SeQura's customer.ip_number)
                            # and scheme come from its headers; only a proxy named in FORWARDED_ALLOW_IPS is
                            # believed.
                            proxy_headers=bool(settings.forwarded_allow_ips),
                            forwarded_allow_ips=settings.forwarded_allow_ips or None,
                            ws="websockets-sansio", ws_ping_interval=20, ws_per_message_deflate=False,
                            # A worker answers the supervisor's ping only once its imports are done: on a
                            # loaded machine that takes more than uvicorn's 5 s, and it was killed as hung.
                            timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS)
    try:
        serve_socket(config, store_socket)
    finally:
        if sandboxes is not None:
            stop_process(sandboxes)


def access_log_without_tokens() -> dict:
    """uvicorn's logging set-up, its access lines filtered for payment tokens (a callback or return
    URL is a key to its payment). A config, not a filter added here: each worker applies it itself."""
    import copy

    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["payment_tokens"] = {"()": "shop.payments.recorder.AccessLogTokenFilter"}
    config["handlers"]["access"]["filters"] = ["payment_tokens"]
    return config


SANDBOX_START_SECONDS = 60  # a busy machine starting the sandboxes' plugins and zeep's WSDL


def sandbox_address(settings: Settings) -> tuple[str, int]:
    """Where the sandbox process listens: SANDBOX_URL's host and port, by default the port after
    the store's, or any free port when the store's is 0 too."""
    if not settings.sandbox_url and settings.port == 0:
        return settings.host, 0
    address = urlsplit(settings.sandbox_base_url)
    return address.hostname, address.port or 80


def start_sandboxes(settings: Settings, sock):
    """``shop sandboxes`` as a child process serving ``sock``; the store waits for it
    (``wait_for_sandboxes``) before it serves, so that its first provider call finds it. It dies
    with this process (Linux's parent-death signal) so that a killed store never leaves a sandbox
    holding its port; its state is on disk."""
    import signal
    import subprocess

    def die_with_parent() -> None:
        if sys.platform.startswith("linux"):
            import ctypes

            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG

    # Same environment, so the same settings (SANDBOX_URL says where its socket is bound).
    process = subprocess.Popen([sys.executable, "-m", "shop.cli", "sandboxes", "--fd", str(sock.fileno())],
                               pass_fds=[sock.fileno()], preexec_fn=die_with_parent)
    sock.close()  # the child serves it; it is freed when the child exits
    return process


def wait_for_sandboxes(settings: Settings, process) -> None:
    import time

    import httpx

    deadline = time.monotonic() + SANDBOX_START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SettingsError(f"SANDBOX_URL: the sandbox process exited ({process.returncode})")
        try:
            if httpx.get(f"{settings.sandbox_base_url}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    stop_process(process)
    raise SettingsError(f"SANDBOX_URL: the sandboxes did not answer at {settings.sandbox_base_url} in time")


def stop_process(process) -> None:
    import subprocess

    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def sandboxes(settings: Settings, port: int | None, fd: int | None = None) -> None:
    """Every sandbox the plugins use, in this one process, under /sandbox/<plugin>/: on the socket
    `shop serve` bound for it (``fd``), or on one bound here (``--port``, else SANDBOX_URL's; 0: any free)."""
    import socket

    import uvicorn

    from shop.listening import http_url, listen_on, serve_socket
    from shop.sandbox_host import create_sandbox_host

    if fd is not None:
        sock = socket.socket(fileno=fd)  # `shop serve` bound it, and set SANDBOX_URL to its address
    elif port is not None:
        sock = listen_on("--port", settings.host, port)
        settings = dataclasses.replace(settings, sandbox_url=http_url(sock))
    else:
        host, wanted = sandbox_address(settings)
        sock = listen_on("SANDBOX_URL", host, wanted)
        if wanted == 0:  # the sandboxes link to themselves (hosted pages, QR codes): where they really are
            settings = dataclasses.replace(settings, sandbox_url=http_url(sock))
    app = create_sandbox_host(settings)
    names = ", ".join(app.state.mounted) or "none (every plugin points at its real provider)"
    print(f"Sandboxes ({names}) are serving at {settings.sandbox_base_url}/", flush=True)
    serve_socket(uvicorn.Config(app, log_level="info"), sock)


def sandbox(settings: Settings, name: str, port: int) -> None:
    """One provider's sandbox served alone, for pointing a plugin (or anything) at it."""
    import httpx
    import uvicorn

    from shop.listening import http_url, listen_on, serve_socket
    from shop.payments.contract import PluginRuntime
    from shop.payments.registry import discover
    from shop.sandbox_host import drop_test_readbacks
    from shop.settings import load_plugin_settings

    classes = discover([name])
    sock = listen_on("--port", settings.host, port)
    sandbox_url = http_url(sock)
    client = httpx.AsyncClient(timeout=settings.provider_timeout_seconds)
    runtime = PluginRuntime(http=client, public_url=settings.callback_base_url, sandbox_url=sandbox_url,
                            sandbox_http=client)
    plugin_cls = classes[name]
    plugin = plugin_cls(load_plugin_settings(plugin_cls.settings_model, name, settings.env, sandbox_url), runtime)
    app = plugin.sandbox()
    if app is None:
        raise SettingsError(f"{name}: this plugin has no sandbox")
    if not settings.sandbox_test_readbacks:
        drop_test_readbacks(app)
    print(f"The {plugin.name} sandbox is serving at {sandbox_url}/", flush=True)
    serve_socket(uvicorn.Config(app, log_level="info"), sock)


def _new_plugin(name: str) -> int:
    try:
        path = scaffold.new_plugin(name, scaffold.project_root(Path.cwd()))
    except scaffold.ScaffoldError as exc:
        print(f"shop new-plugin: {exc}", file=sys.stderr)
        return 2
    print(scaffold.NEXT_STEPS.format(path=path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path,
                                     name=name))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="shop", description="Cartwheel, the demo shop with pluggable checkout.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve_cmd = commands.add_parser("serve", help="serve the store and every sandbox")
    serve_cmd.add_argument("--host")
    serve_cmd.add_argument("--port", type=int)
    serve_cmd.add_argument("--workers", type=int, default=1)
    serve_cmd.add_argument("--no-sandboxes", action="store_true",
                           help="do not start the sandbox process (it is served elsewhere, at SANDBOX_URL)")
    db_cmd = commands.add_parser("db", help="database tasks")
    db_cmd.add_argument("action", choices=["upgrade"])
    commands.add_parser("seed", help="add the demo catalog (idempotent)")
    sandboxes_cmd = commands.add_parser("sandboxes", help="serve every sandbox in one process (at SANDBOX_URL)")
    sandboxes_cmd.add_argument("--port", type=int, help="0: any free port (the one bound is printed)")
    sandboxes_cmd.add_argument("--fd", type=int, help=argparse.SUPPRESS)  # the socket `shop serve` bound
    sandbox_cmd = commands.add_parser("sandbox", help="serve one provider's sandbox alone")
    sandbox_cmd.add_argument("name")
    sandbox_cmd.add_argument("--port", type=int, default=9000, help="0: any free port (the one bound is printed)")
    new_plugin_cmd = commands.add_parser("new-plugin", help="create plugins/NAME/ from the plugin template")
    new_plugin_cmd.add_argument("name", help="the plugin's id, a lower-case slug (e.g. acmepay)")
    args = parser.parse_args(argv)
    if args.command == "new-plugin":  # works on the project's files: no settings, no database
        return _new_plugin(args.name)

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)  # one line per migration is enough
    # The recorder logs each provider call once, redacted (shop.providers); httpx's own line
    # repeated it with the full URL, query string included.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        overrides = {}
        if getattr(args, "host", None):
            overrides["host"] = args.host
        if getattr(args, "port", None) is not None and args.command == "serve":
            overrides["port"] = args.port
        settings = load_settings(**overrides)
        if args.command == "serve":
            # The workers import shop.asgi and read the same environment; pass what the flags set.
            os.environ.update({"HOST": settings.host, "PORT": str(settings.port), "SECRET_KEY": settings.secret_key})
            serve(settings, args.workers, with_sandboxes=not args.no_sandboxes)
        elif args.command == "db":
            upgrade(settings)
            print("database is up to date")
        elif args.command == "seed":
            print(f"seeded the demo catalog ({seed(settings)} new products)")
        elif args.command == "sandboxes":
            sandboxes(settings, args.port, args.fd)
        elif args.command == "sandbox":
            sandbox(settings, args.name, args.port)
    except SettingsError as exc:
        print(f"shop: setting error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

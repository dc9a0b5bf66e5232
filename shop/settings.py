"""Every setting of the store, read from the environment (a .env file is read too).

A missing or malformed setting stops start-up with one line that names it."""

from __future__ import annotations

import dataclasses
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from urllib.parse import urlsplit

DEMO_ADMIN_PASSWORD = "demo-admin"
PRODUCTION_ADMIN_PASSWORD_LENGTH = 12


class SettingsError(Exception):
    """A setting is missing or malformed; the message is one line naming it."""


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines; '#' comments and blank lines skipped; optional quotes stripped."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise SettingsError(f"{path}:{number}: expected KEY=VALUE")
        values[key.strip().removeprefix("export ").strip()] = value.strip().strip("'\"")
    return values


def environment(env_file: Path | None = Path(".env")) -> dict[str, str]:
    """The process environment over the .env file: a real variable always wins."""
    merged = read_env_file(env_file) if env_file else {}
    merged.update(os.environ)
    return merged


def parse_value(name: str, raw: str, kind: type) -> object:
    """Turn one environment string into the field's type, or raise a one-line SettingsError."""
    try:
        if kind is bool:
            lowered = raw.strip().lower()
            if lowered in {"1", "true", "yes", "on"}:
                return True
            if lowered in {"0", "false", "no", "off", ""}:
                return False
            raise ValueError(raw)
        if kind is int:
            return int(raw)
        if kind is float:
            return float(raw)
        if kind is Decimal:
            return Decimal(raw)
        return raw
    except (ValueError, InvalidOperation):
        raise SettingsError(f"{name}: expected {kind.__name__}, got {raw!r}") from None


def _check_url(name: str, value: str, schemes: tuple[str, ...] = ("http", "https")) -> str:
    parts = urlsplit(value)
    # A unix socket (unix:///run/redis.sock) has a path where other URLs have a host.
    where = parts.path if parts.scheme == "unix" else parts.netloc
    if parts.scheme not in schemes or not where:
        raise SettingsError(f"{name}: expected a {'/'.join(schemes)} URL, got {value!r}")
    return value.rstrip("/")


@dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite:///var/cartwheel.db"
    secret_key: str = ""
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str = ""  # the base URL providers call back and browsers use; defaults to served address
    admin_password: str = DEMO_ADMIN_PASSWORD
    admin_idle_minutes: int = 30  # a back-office session unused this long must log in again
    redis_url: str = ""
    # Addresses of the reverse proxies whose X-Forwarded-For/-Proto are believed (uvicorn's
    # forwarded_allow_ips: comma-separated IPs or networks, or "*"); empty: none, the peer is the client.
    forwarded_allow_ips: str = ""
    currency: str = "EUR"
    shipping_fee_cents: int = 495
    free_shipping_from_cents: int = 5000
    # Unpaid orders release their stock after this long; pending payments are re-read after
    # reconcile_after_seconds, by a loop that wakes every reconcile_every_seconds.
    order_expiry_seconds: int = 3 * 24 * 3600
    reconcile_after_seconds: int = 60
    reconcile_every_seconds: int = 15
    # A payment still "created" this long after it was written never heard back from its
    # provider's start (the shop stopped in between): the reconciler settles it. Well above
    # provider_timeout_seconds, so that a start still under way is never taken for one.
    reconcile_created_after_seconds: int = 60
    provider_timeout_seconds: float = 10.0
    # An order page whose websocket is open still re-reads its status this often: the bus may lose a message.
    status_check_seconds: float = 10.0
    smtp_url: str = ""
    # The sandboxes are served by their own process (one provider, one state, whatever the number
    # of store workers), by default on the port after the store's; their state is kept on disk.
    sandbox_url: str = ""
    sandbox_state_dir: str = "var/sandboxes"
    # The sandboxes' read-backs for tests (SeQura's order list with the payer's personal data, and
    # the like) answer only when the test harness sets this; never on a store someone can reach.
    sandbox_test_readbacks: bool = False
    debug: bool = False
    # uvicorn's line per request: off unless asked for. The store logs what happens to orders and
    # payments itself; a line per page view costs about a twentieth of a page's CPU and says little.
    access_log: bool = False
    # The raw environment, kept for the plugins' own settings (SEQR_*, SEQURA_*...).
    env: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)

    @property
    def base_url(self) -> str:
        """Where this process is reachable: its own sandboxes are called here."""
        return f"http://{self.host}:{self.port}"

    @property
    def sandbox_base_url(self) -> str:
        """Where the sandbox process serves every sandbox, each under /sandbox/<plugin>."""
        return self.sandbox_url or f"http://{self.host}:{self.port + 1}"

    def sandbox_url_for(self, plugin_id: str) -> str:
        return f"{self.sandbox_base_url}/sandbox/{plugin_id}"

    @property
    def callback_base_url(self) -> str:
        return self.public_url or self.base_url

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        env = dict(environment() if env is None else env)
        values: dict[str, object] = {}
        for f in dataclasses.fields(cls):
            if f.name == "env":
                continue
            name = f.name.upper()
            if name in env and env[name] != "":
                values[f.name] = parse_value(name, env[name], _field_type(f))
        values.update(overrides)
        settings = cls(**values, env=env)  # type: ignore[arg-type]
        return settings.validated()

    def validated(self) -> Settings:
        changes: dict[str, object] = {}
        if not self.database_url.startswith(("sqlite", "postgresql")):
            raise SettingsError(f"DATABASE_URL: expected sqlite:/// or postgresql:// URL, got {self.database_url!r}")
        if self.public_url:
            changes["public_url"] = _check_url("PUBLIC_URL", self.public_url)
        if self.redis_url:
            _check_url("REDIS_URL", self.redis_url, ("redis", "rediss", "unix"))
        if self.sandbox_url:
            changes["sandbox_url"] = _check_url("SANDBOX_URL", self.sandbox_url)
        if self.smtp_url:
            _check_url("SMTP_URL", self.smtp_url, ("smtp", "smtps"))
        if not self.secret_key:
            # A random key per start keeps a demo safe; sessions simply do not survive a restart.
            changes["secret_key"] = secrets.token_urlsafe(32)
        elif len(self.secret_key) < 16:
            raise SettingsError("SECRET_KEY: must be at least 16 characters")
        if len(self.admin_password) < 8:
            raise SettingsError("ADMIN_PASSWORD: must be at least 8 characters")
        if self.admin_idle_minutes <= 0:
            raise SettingsError(f"ADMIN_IDLE_MINUTES: expected more than 0, got {self.admin_idle_minutes}")
        if self.status_check_seconds <= 0:
            raise SettingsError(f"STATUS_CHECK_SECONDS: expected more than 0, got {self.status_check_seconds}")
        if not 0 <= self.port < 65536:  # 0: `shop serve` listens on any free port, and prints it
            raise SettingsError(f"PORT: expected 0-65535, got {self.port}")
        return dataclasses.replace(self, **changes) if changes else self


def check_admin_password(settings: Settings, live_plugins: list[str]) -> None:
    """With a plugin at its real provider, the back office holds real orders and refunds real money:
    the demo password, printed on every start of a demo, or a short one, will not do."""
    if not live_plugins:
        return
    password = settings.admin_password
    if password == DEMO_ADMIN_PASSWORD or len(password) < PRODUCTION_ADMIN_PASSWORD_LENGTH:
        raise SettingsError(f"ADMIN_PASSWORD: {', '.join(live_plugins)} talk to real providers; set a password of "
                            f"at least {PRODUCTION_ADMIN_PASSWORD_LENGTH} characters other than the demo one")


def _field_type(f: dataclasses.Field) -> type:
    # Annotations are strings under `from __future__ import annotations`.
    names = {"str": str, "int": int, "float": float, "bool": bool, "Decimal": Decimal}
    return names.get(str(f.type), str) if isinstance(f.type, str) else f.type


def load_plugin_settings(model: type, plugin_id: str, env: Mapping[str, str], sandbox_url: str) -> object:
    """A plugin's settings dataclass from <ID>_<FIELD> variables; "{sandbox_url}" in a default
    string becomes the address of the plugin's own sandbox."""
    values: dict[str, object] = {}
    for f in dataclasses.fields(model):
        name = f"{plugin_id}_{f.name}".upper()
        if env.get(name, "") != "":
            values[f.name] = parse_value(name, env[name], _field_type(f))
        elif isinstance(f.default, str) and "{sandbox_url}" in f.default:
            values[f.name] = f.default.replace("{sandbox_url}", sandbox_url)
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise SettingsError(f"{name}: required")
    return model(**values)

"""The store the journeys talk to: one this run starts, or one already running that a merchant
names with ``--base-url`` (staging, say). Credentials come from the environment, so that a
password is neither written in a step nor shown on a command line."""

from __future__ import annotations

import os
from dataclasses import dataclass

import httpx

from shop.testing.server import DEMO_ADMIN_PASSWORD

_sandbox_url = ""  # empty: through the store's own /sandbox/ redirect


def use_sandbox_url(url: str) -> None:
    """Where the store's sandboxes are served, when they are not behind its /sandbox/ redirect."""
    global _sandbox_url
    _sandbox_url = url.rstrip("/")


def sandbox_page(path: str) -> str:
    """The address of a sandbox page, ``sandbox_page("seqr/")``, for ``page.goto``."""
    return f"{_sandbox_url}/sandbox/{path}"


def admin_password() -> str:
    """The back office's password: E2E_ADMIN_PASSWORD, or the demo's."""
    return os.environ.get("E2E_ADMIN_PASSWORD") or DEMO_ADMIN_PASSWORD


@dataclass(frozen=True)
class RunningStore:
    """A store started elsewhere. Its sandboxes are reached at ``sandbox_url``, by default through
    the store's own /sandbox/<plugin>/ redirect."""

    url: str
    sandbox_url: str

    def sandbox(self, path: str) -> str:
        return f"{self.sandbox_url}/sandbox/{path}"

    def log(self) -> str:
        return ""  # its log is wherever its owner keeps it

    def check(self) -> None:
        """Fail now, and say why, when nothing that looks like the store answers at ``url``."""
        try:
            response = httpx.get(f"{self.url}/health", timeout=10)
        except httpx.HTTPError as exc:
            raise StoreNotAnswering(f"nothing answers at {self.url} ({type(exc).__name__}: {exc})") from exc
        if response.status_code != 200:
            raise StoreNotAnswering(f"{self.url}/health answered {response.status_code}, not 200: is it the store?")


class StoreNotAnswering(RuntimeError):
    pass

"""An in-process shopper for tests: the store app with its sandboxes, driven through httpx."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
from sqlmodel import SQLModel

from shop.app import create_app
from shop.db import session as db_session
from shop.seed import seed
from shop.settings import Settings

BASE_URL = "http://127.0.0.1:8000"
CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')

CUSTOMER = {
    "email": "ada@example.com", "phone": "+34 600 123 456", "date_of_birth": "1980-01-10",
    "given_names": "Ada", "surname": "Lovelace", "line1": "Calle Mayor 1", "line2": "", "company": "",
    "postal_code": "28013", "city": "Madrid", "country_code": "ES", "invoice_same": "on",
}


def make_settings(tmp_path: Path, **overrides) -> Settings:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path}/shop.db", "SECRET_KEY": "test-secret-key-0123456789",
           "RECONCILE_EVERY_SECONDS": "3600", **{k: str(v) for k, v in overrides.items()}}
    return Settings.from_env(env)


@contextlib.asynccontextmanager
async def running_app(settings: Settings, plugin_ids: list[str] | None = None) -> AsyncIterator:
    """The app with fresh tables and the demo catalog, its lifespan running, providers in-process."""
    app = create_app(settings, plugin_ids=plugin_ids, in_process=True, run_background=False)
    SQLModel.metadata.create_all(app.state.engine)
    with db_session(app.state.engine) as session:
        seed(session)
    async with app.router.lifespan_context(app):
        yield app


class Shopper:
    """A browser-like client: keeps cookies, reads CSRF tokens, fills the forms."""

    def __init__(self, app) -> None:
        self.app = app
        self.http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL,
                                      follow_redirects=False)
        self.token = ""

    async def aclose(self) -> None:
        await self.http.aclose()

    async def get(self, url: str, **kwargs) -> httpx.Response:
        response = await self.http.get(url, **kwargs)
        if found := CSRF.search(response.text):
            self.token = found.group(1)
        return response

    async def post(self, url: str, data: dict | None = None, *, csrf: bool = True, **kwargs) -> httpx.Response:
        if csrf and not self.token:
            await self.get("/")
        payload = dict(data or {})
        if csrf:
            payload.setdefault("csrf_token", self.token)
        return await self.http.post(url, data=payload, **kwargs)

    async def add(self, sku: str, quantity: int = 1) -> httpx.Response:
        return await self.post("/cart/add", {"sku": sku, "quantity": str(quantity)})

    async def checkout(self, method: str, **changes) -> httpx.Response:
        await self.get("/checkout")
        return await self.post("/checkout", {**CUSTOMER, "method": method, **changes})

    async def order_id_from(self, response: httpx.Response) -> str:
        location = response.headers["location"]
        assert location.startswith("/orders/"), location
        return location.removeprefix("/orders/")

    async def login_admin(self, password: str = "demo-admin") -> None:
        await self.get("/admin/login")
        response = await self.post("/admin/login", {"password": password, "next": "/admin/"})
        assert response.status_code == 303, response.text

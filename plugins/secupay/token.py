"""The OAuth client_credentials token: fetched once, shared, renewed shortly before it runs out."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import httpx

from shop.payments.contract import ProviderError, ProviderUnavailable


class TokenCache:
    """Holds one access token for many concurrent calls.

    Concurrent callers wait on one lock so that an empty or expired cache leads to exactly one
    token request. The token itself never appears in reprs, messages or exceptions."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        token_url: str,
        client_id: str,
        client_secret: str,
        *,
        margin: float = 30,
        timeout: float = 20.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._http = http
        self._url = token_url
        self._client_id = client_id
        self._client_secret = client_secret
        self._margin = margin
        self._timeout = timeout
        self._clock = clock
        self._lock = asyncio.Lock()
        self._token: str | None = None
        self._expires_at = 0.0
        self.fetches = 0  # how many token requests were made (benchmarks count them)

    def __repr__(self) -> str:
        return f"<TokenCache {self._url} {'held' if self._token else 'empty'}>"

    def _valid(self) -> str | None:
        if self._token and self._clock() < self._expires_at:
            return self._token
        return None

    async def get(self) -> str:
        token = self._valid()
        if token:
            return token
        async with self._lock:
            token = self._valid()  # another caller may have fetched it while we waited
            if token:
                return token
            return await self._fetch()

    def drop(self, token: str) -> None:
        """Forget ``token`` after the API refused it; a newer token is kept."""
        if self._token == token:
            self._token = None
            self._expires_at = 0.0

    async def _fetch(self) -> str:
        body = {
            "grant_type": "client_credentials",
            "client_id": self._client_id,
            "client_secret": self._client_secret,
        }
        self.fetches += 1
        started = self._clock()
        try:
            response = await self._http.post(
                self._url, json=body, headers={"Accept": "application/json"}, timeout=self._timeout
            )
        except httpx.TimeoutException as exc:
            raise ProviderUnavailable("secupay did not answer the login in time") from exc
        except httpx.TransportError as exc:
            raise ProviderUnavailable("secupay could not be reached for the login") from exc
        if response.status_code >= 500:
            raise ProviderUnavailable(
                f"secupay's login failed with HTTP {response.status_code}", status=response.status_code
            )
        try:
            data = response.json()
        except ValueError:
            data = None
        if response.status_code != 200 or not isinstance(data, dict) or not data.get("access_token"):
            error = data.get("error") if isinstance(data, dict) else None
            description = data.get("error_description") if isinstance(data, dict) else None
            words = description or error or f"HTTP {response.status_code}"
            raise ProviderError(
                f"secupay refused the shop's login ({words}); check the client id and secret",
                status=response.status_code,
                code=error,
            )
        try:
            lifetime = float(data.get("expires_in", 1200))
        except (TypeError, ValueError):
            lifetime = 1200.0
        self._token = str(data["access_token"])
        # Measured from before the request: the server's clock started no later than that.
        # A short-lived token (tests) keeps most of its life rather than none of it.
        self._expires_at = started + lifetime - min(self._margin, lifetime / 10)
        return self._token

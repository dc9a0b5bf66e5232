"""The provider's API as the plugin uses it: create a payment, read it back, cancel, refund.

Fill this in for the real provider: the paths, the fields, its error format. Every call goes
through ``runtime.http``, which the core records in the event log (bodies redacted)."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import httpx

from shop.money import Money
from shop.payments.contract import ProviderError, ProviderUnavailable

SIGNATURE_HEADER = "x-templatepay-signature"


def sign(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_valid(secret: str, body: bytes, signature: str) -> bool:
    return hmac.compare_digest(sign(secret, body), signature or "")


class TemplatepayClient:
    def __init__(self, http: httpx.AsyncClient, base_url: str, api_key: str, timeout: float) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")
        self.headers = {"Authorization": f"Bearer {api_key}", "Accept": "application/json"}
        self.timeout = timeout

    async def _call(self, method: str, path: str, json: dict | None = None) -> dict[str, Any]:
        try:
            response = await self.http.request(method, f"{self.base_url}{path}", json=json, headers=self.headers,
                                               timeout=self.timeout)
        except httpx.TransportError as exc:
            raise ProviderUnavailable(f"Templatepay did not answer ({type(exc).__name__})") from exc
        if response.status_code >= 500:
            raise ProviderUnavailable(f"Templatepay answered {response.status_code}", status=response.status_code)
        try:
            body = response.json()
        except ValueError:
            raise ProviderUnavailable(f"Templatepay answered {response.status_code} without JSON") from None
        if response.status_code >= 400 or not isinstance(body, dict):
            error = body.get("error", {}) if isinstance(body, dict) else {}
            raise ProviderError(error.get("message", f"Templatepay refused ({response.status_code})"),
                                status=response.status_code, code=error.get("code"))
        return body

    async def create_payment(self, *, amount: Money, reference: str, return_url: str, notify_url: str) -> dict:
        return await self._call("POST", "/payments", {
            "amount": amount.minor, "currency": amount.currency, "reference": reference,
            "return_url": return_url, "notify_url": notify_url})

    async def payment(self, payment_id: str) -> dict:
        return await self._call("GET", f"/payments/{payment_id}")

    async def cancel(self, payment_id: str) -> dict:
        return await self._call("POST", f"/payments/{payment_id}/cancel")

    async def refund(self, payment_id: str, amount: Money) -> dict:
        return await self._call("POST", f"/payments/{payment_id}/refunds",
                                {"amount": amount.minor, "currency": amount.currency})

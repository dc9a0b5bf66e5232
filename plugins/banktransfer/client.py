"""A client for the bank's payment-request API: expected credits and their webhook signature."""

from __future__ import annotations

import hashlib
import hmac

import httpx

from shop.money import Money
from shop.payments.answers import Answer, parse
from shop.payments.contract import ProviderError, ProviderUnavailable


class ExpectedCredit(Answer):
    """The bank's answer about one expected credit: the fields the shop reads."""

    id: str
    status: str
    received: int = 0  # cents credited so far
    currency: str | None = None


def sign(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_valid(secret: str, body: bytes, signature: str) -> bool:
    return hmac.compare_digest(sign(secret, body), signature or "")


class BankClient:
    def __init__(self, http: httpx.AsyncClient, base_url: str, api_key: str) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")
        self.headers = {"Authorization": f"Bearer {api_key}", "Accept": "application/json"}

    async def _call(self, method: str, path: str, json: dict | None = None) -> dict:
        try:
            response = await self.http.request(method, f"{self.base_url}{path}", json=json, headers=self.headers)
        except httpx.TransportError as exc:
            raise ProviderUnavailable(f"the bank did not answer ({type(exc).__name__})") from exc
        if response.status_code >= 500:
            raise ProviderUnavailable(f"the bank answered {response.status_code}", status=response.status_code)
        try:
            body = response.json()
        except ValueError:
            raise ProviderUnavailable(f"the bank answered {response.status_code} without JSON") from None
        if response.status_code >= 400:
            error = body.get("error", {}) if isinstance(body, dict) else {}
            raise ProviderError(error.get("message", f"the bank refused ({response.status_code})"),
                                status=response.status_code, code=error.get("code"))
        return body

    async def expect_credit(self, *, reference: str, amount: Money, notify_url: str, iban: str) -> ExpectedCredit:
        return self._credit(await self._call("POST", "/expected-credits", {
            "reference": reference, "amount": amount.minor, "currency": amount.currency,
            "iban": iban, "notify_url": notify_url}), "the new expected credit")

    async def expected_credit(self, credit_id: str) -> ExpectedCredit:
        return self._credit(await self._call("GET", f"/expected-credits/{credit_id}"), "an expected credit")

    async def cancel(self, credit_id: str) -> ExpectedCredit:
        return self._credit(await self._call("POST", f"/expected-credits/{credit_id}/cancel"), "a cancel")

    @staticmethod
    def _credit(body: dict, what: str) -> ExpectedCredit:
        return parse(ExpectedCredit, body, provider="The bank", what=what)

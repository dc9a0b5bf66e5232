"""An async client for the secuconnect API: Smart Transactions and Payment Transactions.

No web framework in here. Business errors become ``SecupayError`` (a ProviderError with a
plain-words message); timeouts, connection errors and 5xx become ProviderUnavailable."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import httpx

from shop.payments.contract import ProviderError, ProviderUnavailable

from .token import TokenCache

USER_AGENT = "Cartwheel-secupay/0.1"

# TestChangedPaymentStatus lives under the payment product of the method.
TEST_PRODUCTS = {
    "creditcard": "SecupayCreditcards",
    "debit": "SecupayDebits",
    "prepaid": "SecupayPrepays",
    "invoice": "SecupayInvoices",
    "sofort": "SecupaySofort",
}

_FIELD_DETAIL = re.compile(r"^([A-Za-z_][\w.\[\]]*): (.+)$")


class SecupayError(ProviderError):
    """The secuconnect error body, kept whole for the timeline."""

    def __init__(self, message: str, *, status: int | None, body: Mapping[str, Any]):
        details = str(body.get("error_details") or "")
        match = _FIELD_DETAIL.match(details)
        code = body.get("code")
        super().__init__(
            message,
            status=status,
            code=str(code) if code is not None else body.get("error"),
            fields={match.group(1): match.group(2)} if match else None,
        )
        self.error = str(body.get("error") or "")
        self.details = details
        self.user_text = str(body.get("error_user") or "")
        self.support_id = str(body.get("supportId") or "")


def _token_refused(response: httpx.Response, body: Any) -> bool:
    # Documented: 403 with code 2003; the SDKs also renew on 401.
    if response.status_code == 401:
        return True
    if response.status_code == 403 and isinstance(body, dict):
        return str(body.get("code")) == "2003"
    return False


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


class SecupayClient:
    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        base_url: str,
        client_id: str,
        client_secret: str,
        token_url: str = "",
        timeout: float = 20.0,
        token_margin: float = 30,
        tokens: TokenCache | None = None,
    ) -> None:
        base = base_url.rstrip("/")
        self._http = http
        self._api = f"{base}/api/v2"
        self._timeout = timeout
        self.tokens = tokens or TokenCache(
            http, token_url or f"{base}/oauth/token", client_id, client_secret,
            margin=token_margin, timeout=timeout,
        )

    # ------------------------------------------------------------------ transport

    async def _call(self, method: str, path: str, *, json: Any = None,
                    params: Mapping[str, Any] | None = None) -> Any:
        for attempt in (1, 2):
            token = await self.tokens.get()
            headers = {
                "Authorization": f"Bearer {token}",
                "Accept": "application/json",
                "User-Agent": USER_AGENT,
            }
            if json is not None:
                headers["Content-Type"] = "application/json"
            try:
                response = await self._http.request(
                    method, f"{self._api}/{path}", json=json, params=params, headers=headers,
                    timeout=self._timeout,
                )
            except httpx.TimeoutException as exc:
                raise ProviderUnavailable("secupay did not answer in time") from exc
            except httpx.TransportError as exc:
                raise ProviderUnavailable("secupay could not be reached") from exc
            body = _json(response)
            if attempt == 1 and _token_refused(response, body):
                self.tokens.drop(token)  # the server forgot it or it ran out early: once more
                continue
            return self._result(response, body)
        raise AssertionError("unreachable")

    @staticmethod
    def _result(response: httpx.Response, body: Any) -> Any:
        status = response.status_code
        if 200 <= status < 300:
            if body is None:
                raise ProviderUnavailable(f"secupay answered HTTP {status} without JSON", status=status)
            return body
        error_body = isinstance(body, dict) and body.get("status") == "error"
        if status >= 500:
            details = f": {body.get('error_details')}" if error_body and body.get("error_details") else ""
            raise ProviderUnavailable(f"secupay had an internal error (HTTP {status}){details}", status=status)
        if not error_body:
            text = response.text.strip()[:200] or "no details"
            raise ProviderError(f"secupay refused the request (HTTP {status}): {text}", status=status)
        raise SecupayError(_plain_words(status, body), status=status, body=body)

    # ------------------------------------------------------------------ Smart Transactions

    async def create_smart_transaction(self, body: Mapping[str, Any]) -> dict:
        # Not idempotent: never retried after a timeout (the caller may look it up by merchantRef).
        return await self._call("POST", "Smart/Transactions", json=body)

    async def get_smart_transaction(self, stx_id: str) -> dict:
        return await self._call("GET", f"Smart/Transactions/{stx_id}")

    async def update_smart_transaction(self, stx_id: str, body: Mapping[str, Any]) -> dict:
        """Replace the whole Smart Transaction; only allowed until the payment was executed."""
        return await self._call("PUT", f"Smart/Transactions/{stx_id}", json=body)

    async def list_smart_transactions(self, *, q: str | None = None, count: int | None = None,
                                      offset: int | None = None, sort: str | None = None) -> dict:
        params = {k: v for k, v in (("q", q), ("count", count), ("offset", offset), ("sort", sort))
                  if v is not None}
        return await self._call("GET", "Smart/Transactions", params=params)

    async def prepare_smart_transaction(self, stx_id: str, method: str,
                                        body: Mapping[str, Any] | None = None) -> dict:
        """Authorise without the hosted page (custom checkout); card and PayPal answer an iframe_url."""
        return await self._call("POST", f"Smart/Transactions/{stx_id}/prepare/{method}", json=dict(body or {}))

    async def start_smart_transaction(self, stx_id: str, method: str | None = None,
                                      body: Mapping[str, Any] | None = None) -> dict:
        """Execute ("start") a payment: capture an approved one, or begin prepaid/invoice."""
        path = f"Smart/Transactions/{stx_id}/start" + (f"/{method}" if method else "")
        return await self._call("POST", path, json=dict(body or {}))

    async def cancel_smart_transaction(self, stx_id: str) -> dict:
        return await self._call("POST", f"Smart/Transactions/{stx_id}/cancel", json={})

    async def abort_smart_transaction(self, stx_id: str) -> dict:
        return await self._call("POST", f"Smart/Transactions/{stx_id}/abort", json={})

    async def set_delivery(self, stx_id: str, delivery_options: Mapping[str, Any]) -> dict:
        return await self._call("POST", f"Smart/Transactions/{stx_id}/setDelivery",
                                json={"delivery_options": dict(delivery_options)})

    # ------------------------------------------------------------------ Payment Transactions

    async def get_payment_transaction(self, pci_id: str) -> dict:
        return await self._call("GET", f"Payment/Transactions/{pci_id}")

    async def check_status(self, pci_id: str) -> dict:
        return await self._call("GET", f"Payment/Transactions/{pci_id}/checkStatus")

    async def cancel_payment_transaction(self, pci_id: str, *, reduce_amount_by: int | None = None,
                                         reason: str | None = None) -> list[dict]:
        """Cancel (before execution) or refund (after it); without an amount: everything left.

        Answers the original and, when a refund was made, the refund transaction."""
        body: dict[str, Any] = {}
        if reduce_amount_by is not None:
            body["reduce_amount_by"] = reduce_amount_by
        if reason:
            body["reason"] = clean_reason(reason)
        answer = await self._call("POST", f"Payment/Transactions/{pci_id}/cancel", json=body)
        if isinstance(answer, dict):  # tolerate a single object where a list is documented
            answer = [answer]
        if not isinstance(answer, list):
            raise ProviderError("secupay answered the refund with something that is not a list")
        return [item for item in answer if isinstance(item, dict)]

    async def capture(self, pci_id: str, *, amount: int | None = None,
                      shipping_information: Mapping[str, Any] | None = None) -> dict:
        body: dict[str, Any] = {}
        if amount is not None:
            body["amount"] = amount
        if shipping_information:
            body["shipping_information"] = dict(shipping_information)
        return await self._call("POST", f"Payment/Transactions/{pci_id}/capture", json=body)

    async def set_shipping_information(self, pci_id: str, info: Mapping[str, Any]) -> dict:
        return await self._call("PUT", f"Payment/Transactions/{pci_id}/ShippingInformation", json=dict(info))

    async def get_payment_instructions(self, pci_id: str) -> dict:
        return await self._call("POST", f"Payment/Transactions/{pci_id}/getPaymentInstructions", json={})

    async def test_changed_payment_status(self, method: str, pci_id: str, new_status_id: int) -> Any:
        """Test system only: force a payment status (used to simulate a transfer arriving)."""
        product = TEST_PRODUCTS.get(method)
        if product is None:
            raise ProviderError(f"secupay has no test status switch for {method}")
        return await self._call("POST", f"Payment/{product}/{pci_id}/TestChangedPaymentStatus",
                                json={"new_status_id": new_status_id})


_REASON_FORBIDDEN = re.compile(r"[^A-Za-z0-9 .,+\-:?()/']")


def clean_reason(reason: str) -> str:
    """The reason lands in a bank-transfer purpose: secuconnect allows few characters."""
    return _REASON_FORBIDDEN.sub(" ", reason)[:100].strip()


def _plain_words(status: int, body: Mapping[str, Any]) -> str:
    details = str(body.get("error_details") or "").strip()
    name = str(body.get("error") or "")
    if name == "ProductNotFoundException":
        lead = "secupay does not know this transaction"
    elif name == "ProductNotAllowedException":
        lead = "secupay does not allow this"
    elif name == "ProductFormatException":
        lead = "secupay found a mistake in the payment data"
    else:
        lead = f"secupay refused the request (HTTP {status})"
    text = f"{lead}: {details}" if details else lead
    if body.get("supportId"):
        text += f" (support id {body['supportId']})"
    return text

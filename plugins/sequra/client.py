"""SeQura Order API client (httpx, async). No web framework here.

Every call sends Basic auth and ``Sequra-Merchant-Id``. The order URL SeQura returns in
``Location`` is kept whole and used as given for the form, the PUTs and form deliveries."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import httpx

from shop.money import Money
from shop.payments.answers import parse
from shop.payments.contract import ProviderError, ProviderUnavailable

from .answers import CreditAgreements, PaymentMethods

# SeQura payload paths -> the checkout form's field names, so that the checkout shows an error
# next to its field: delivery address fields bare, invoice ones prefixed ``invoice_``.
_PREFIX = {"customer": "", "delivery_address": "", "invoice_address": "invoice_"}
_FIELD_NAMES = {"surnames": "surname", "address_line_1": "line1", "address_line_2": "line2",
                "mobile_phone": "phone", "phone": "phone"}
_CUSTOMER_FIELDS = {"email", "given_names", "surname", "phone", "date_of_birth"}
_ADDRESS_FIELDS = {"given_names", "surname", "company", "line1", "line2", "postal_code", "city", "country_code",
                   "phone"}
_PATH = re.compile(r"\b(customer|delivery_address|invoice_address)\.([a-z_0-9]+)")


def error_messages(body: Any) -> list[str]:
    """``{"errors": [...]}`` entries are strings, or objects with a ``title`` in newer APIs."""
    if not isinstance(body, Mapping):
        return []
    errors = body.get("errors")
    if isinstance(errors, str):
        errors = [errors]
    if not isinstance(errors, list):
        return []
    out = []
    for entry in errors:
        if isinstance(entry, Mapping):
            entry = entry.get("title") or entry.get("detail") or entry.get("message") or ""
        if entry:
            out.append(str(entry))
    return out


def field_errors(messages: list[str]) -> dict[str, str]:
    """The shop form fields that the messages name, with their message."""
    fields: dict[str, str] = {}
    for message in messages:
        match = _PATH.search(message)
        if not match:
            continue
        section, name = match.group(1), _FIELD_NAMES.get(match.group(2), match.group(2))
        known = _CUSTOMER_FIELDS if section == "customer" else _ADDRESS_FIELDS
        if name in known:
            fields.setdefault(f"{_PREFIX[section]}{name}", _plain(message))
    return fields


def _plain(message: str) -> str:
    """SeQura's "Invalid data: customer.email is not ..." reads better next to its field
    without the payload path: "SeQura says this is not ..."."""
    match = _PATH.search(message)
    rest = message[match.end():].strip() if match else message
    if not rest:
        return message
    if rest.endswith("is not allowed for this merchant") and match and match.group(2) == "country_code":
        return "SeQura is not available for addresses in this country: please choose another way to pay."
    return f"SeQura says this {rest}" if rest.startswith(("is ", "must ", "has ")) else f"SeQura says: {rest}"


def _json(response: httpx.Response) -> Any:
    """The body as JSON; a body that is not JSON at all is a shape error like any other."""
    try:
        return response.json()
    except ValueError:
        return response.text


class SequraClient:
    def __init__(self, http: httpx.AsyncClient, *, base_url: str, account_key: str, secret: str,
                 merchant_ref: str, timeout: float = 15.0, connect_timeout: float = 5.0,
                 user_agent: str = "Cartwheel seQura plugin") -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")
        self.merchant_ref = merchant_ref
        self.auth = httpx.BasicAuth(account_key, secret)
        self.timeout = httpx.Timeout(timeout, connect=connect_timeout)
        self.user_agent = user_agent

    # ------------------------------------------------------------------ plumbing

    def _headers(self, accept: str = "application/json", merchant_ref: str | None = None) -> dict[str, str]:
        return {"Accept": accept, "Sequra-Merchant-Id": merchant_ref or self.merchant_ref,
                "User-Agent": self.user_agent}

    async def _call(self, method: str, url: str, *, accept: str = "application/json",
                    merchant_ref: str | None = None, **kwargs: Any) -> httpx.Response:
        try:
            response = await self.http.request(method, url, auth=self.auth, timeout=self.timeout,
                                               headers=self._headers(accept, merchant_ref),
                                               follow_redirects=False, **kwargs)
        except httpx.TimeoutException as exc:
            raise ProviderUnavailable("SeQura did not answer in time", code="timeout") from exc
        except httpx.TransportError as exc:
            raise ProviderUnavailable("SeQura cannot be reached", code="connection") from exc
        if response.is_success:
            return response
        raise self._error(response)

    @staticmethod
    def _error(response: httpx.Response) -> ProviderError:
        status = response.status_code
        try:
            messages = error_messages(response.json())
        except ValueError:
            messages = []  # 401 is plain text, 404 on the form is HTML
        text = "; ".join(messages)
        if status >= 500:
            return ProviderUnavailable(f"SeQura is unavailable ({status})", status=status, code="server")
        if status == 409:
            fields = field_errors(messages)
            unplaced = [m for m in messages if not field_errors([m])]
            if fields and not unplaced:  # each one is shown next to its field: say so in plain words
                text = "SeQura did not accept some of the details marked below."
            return ProviderError(text or "SeQura refused the order data", status=409, code="conflict",
                                 fields=fields)
        if status == 401:
            return ProviderError("SeQura refused the account key or secret", status=401, code="auth")
        if status == 403:
            return ProviderError(text or "SeQura refused access to this merchant or order", status=403,
                                 code="forbidden")
        if status == 404:
            return ProviderError("SeQura does not know this order", status=404, code="not_found")
        return ProviderError(text or f"SeQura answered {status}", status=status, code="http")

    # ------------------------------------------------------------------ checkout

    async def start_solicitation(self, payload: Mapping[str, Any]) -> str:
        """POST /orders; returns the order URL from ``Location``, as given."""
        response = await self._call("POST", f"{self.base_url}/orders", json=payload)
        location = response.headers.get("location")
        if not location:
            raise ProviderError("SeQura accepted the order but sent no order URL", status=response.status_code,
                                code="no_location")
        return location

    async def identification_form(self, order_uri: str, product: str, campaign: str | None = None,
                                  ajax: bool = True) -> str:
        """GET {order_uri}/form_v2: the HTML snippet to put in the page as-is."""
        params = {"product": product, "ajax": "true" if ajax else "false"}
        if campaign:
            params["campaign"] = campaign
        response = await self._call("GET", f"{order_uri}/form_v2", params=params, accept="text/html")
        return response.text

    async def put_order(self, order_uri: str, payload: Mapping[str, Any]) -> None:
        """PUT {order_uri}: confirm, put on hold, or register the reference (full payload).

        SeQura leaves the 2xx body unspecified, so it is not read."""
        await self._call("PUT", order_uri, json=payload)

    async def patch_order(self, order_uri: str, payload: Mapping[str, Any]) -> None:
        await self._call("PATCH", order_uri, json=payload)

    async def send_form(self, order_uri: str, product: str, campaign: str | None = None) -> None:
        """POST {order_uri}/form_deliveries: the form link by SMS to the order's mobile."""
        body = {"channel": "sms", "product_code": product}
        if campaign:
            body["campaign"] = campaign
        await self._call("POST", f"{order_uri}/form_deliveries", json=body)

    # ------------------------------------------------------------------ offers

    async def order_payment_methods(self, order_uri: str) -> PaymentMethods:
        response = await self._call("GET", f"{order_uri}/payment_methods")
        return parse(PaymentMethods, _json(response), provider="SeQura", what="its payment methods")

    async def merchant_payment_methods(self, merchant_ref: str | None = None) -> PaymentMethods:
        ref = merchant_ref or self.merchant_ref
        url = f"{self.base_url}/merchants/{quote(ref, safe='')}/payment_methods"
        response = await self._call("GET", url, merchant_ref=ref)
        return parse(PaymentMethods, _json(response), provider="SeQura", what="its payment methods")

    async def credit_agreements(self, total: Money, *, locale: str = "es-ES", country: str = "ES",
                                merchant_ref: str | None = None) -> CreditAgreements:
        ref = merchant_ref or self.merchant_ref
        url = f"{self.base_url}/merchants/{quote(ref, safe='')}/credit_agreements"
        params = {"total_with_tax": str(total.minor), "currency": total.currency, "locale": locale,
                  "country": country}
        response = await self._call("GET", url, params=params, merchant_ref=ref)
        return parse(CreditAgreements, _json(response), provider="SeQura", what="its credit agreements")

    # ------------------------------------------------------------------ after the sale

    async def update_order(self, order_ref_1: str, payload: Mapping[str, Any],
                           merchant_ref: str | None = None) -> None:
        """Order Update API: shipped/unshipped carts for shipment, cancellation and refunds."""
        ref = merchant_ref or self.merchant_ref
        url = f"{self.base_url}/merchants/{quote(ref, safe='')}/orders/{quote(str(order_ref_1), safe='')}"
        await self._call("PUT", url, json=payload, merchant_ref=ref)

    async def delivery_report(self, report: Mapping[str, Any]) -> None:
        """POST /orders/delivery_reports: ``{"delivery_report": {...}}``, daily, even when empty."""
        await self._call("POST", f"{self.base_url}/orders/delivery_reports", json=report)

    async def credentials(self) -> list[dict[str, Any]]:
        """The merchants these credentials may act for."""
        data = (await self._call("GET", f"{self.base_url}/merchants/credentials")).json()
        return data if isinstance(data, list) else data.get("credentials", [])

"""Templatepay settings, each read from TEMPLATEPAY_<FIELD>. Defaults use the sandbox."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TemplatepaySettings:
    base_url: str = "{sandbox_url}/api"  # the provider's API; the live address comes with the contract
    api_key: str = "templatepay-sandbox-key"  # sent as a bearer token, never logged
    webhook_secret: str = "templatepay-sandbox-secret"  # signs the provider's notifications, never sent
    timeout: float = 10.0  # seconds for one API call

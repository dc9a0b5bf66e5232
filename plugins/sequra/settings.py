"""SeQura settings. Defaults point at the plugin's own sandbox with the demo account."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SequraSettings:
    base_url: str = "{sandbox_url}"  # live: https://live.sequrapi.com, SeQura's own: https://sandbox.sequrapi.com
    account_key: str = "cartwheel"  # Basic auth user ("account key")
    secret: str = "cartwheel-sandbox"  # Basic auth password ("account secret")
    merchant_ref: str = "dummy_automated_tests"  # not a credential: order.merchant.id and a header
    hmac_secret: str = ""  # signs the notification parameters, never sent; empty: the account secret
    isolated_till: bool = False  # a till no IPN can reach: the solicitation carries no callback URLs
    register_reference_on_confirm: bool = True  # False when an ERP sends order_ref_1 later
    timeout: float = 15.0  # seconds for one API call
    connect_timeout: float = 5.0
    platform_name: str = "Cartwheel"
    platform_version: str = "0.1.0"

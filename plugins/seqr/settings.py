"""SEQR settings, each read from SEQR_<FIELD> (e.g. SEQR_TERMINAL_ID). Defaults use the sandbox."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SeqrSettings:
    # SEQR's test server is https://extdev.seqr.com/soap/merchant/cashregister-2; production's
    # address comes with the merchant's startup kit.
    base_url: str = "{sandbox_url}/soap/merchant/cashregister-2"
    terminal_id: str = "public_test_shop_terminal"  # SEQR's published test terminal
    password: str = "12345678"
    # Reseller credentials: only for registering cash-register terminals and shop-wide reports.
    reseller_id: str = ""
    reseller_user_id: str = "9900"
    reseller_password: str = ""
    shop_name: str = "Cartwheel"  # the invoice title the payer sees: "<shop_name> order <number>"
    # Seconds an invoice stays payable; after that the core's reconciler reads it once more and
    # cancels it (cancelInvoice) if still unpaid.
    payment_timeout_seconds: int = 300
    http_timeout: float = 10.0  # seconds to wait for a SOAP answer before calling SEQR unavailable
    report_attempts: int = 6  # executeReport tries while SEQR answers REPORT_NOT_READY
    report_wait: float = 3.0  # seconds between those tries (SEQR advises about 3)
    webshop_id: str = "cartwheel"  # the shop's id at SEQR Instant Checkout

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
    # The currencies the terminal takes (SEQR answers another with 49 INVALID_INVOICE_DATA);
    # the published test terminals take EUR and SEK.
    currencies: str = "EUR,SEK"
    # Reseller credentials: only for registering cash-register terminals and shop-wide reports.
    reseller_id: str = ""
    reseller_user_id: str = "9900"
    reseller_password: str = ""
    shop_name: str = "Cartwheel"  # the invoice title the payer sees: "<shop_name> order <number>"
    # Seconds an invoice stays payable; after that the core's reconciler reads it once more and
    # cancels it (cancelInvoice) if still unpaid.
    payment_timeout_seconds: int = 300
    # The core's reconciler reads a pending payment that has gone this long without news.
    # SEQR reverses a PAID the shop has not read within 20 s, so a lost notification must be
    # read well inside that window: the reconciler wakes every read_back_after_seconds / 2,
    # so a PAID is read at most ~7.5 s after the payer confirmed.
    read_back_after_seconds: int = 5
    http_timeout: float = 10.0  # seconds to wait for a SOAP answer before calling SEQR unavailable
    report_attempts: int = 6  # executeReport tries while SEQR answers REPORT_NOT_READY
    report_wait: float = 3.0  # seconds between those tries (SEQR advises about 3)
    webshop_id: str = "cartwheel"  # the shop's id at SEQR Instant Checkout
    # SEQR's Instant Checkout widget, which draws a product's code (its guide names
    # http://cdn.seqr.com/seqr-services-dev/wss-dev/seqrQRCode-0.0.1.min.js for integration), and
    # its mode: "demo" while integrating; empty in production, as the guide says.
    instant_widget_url: str = "{sandbox_url}/seqrQRCode-0.0.1.min.js"
    instant_mode: str = "demo"
    # Instant Checkout purchase tokens are signed with this key (the shop's SECRET_KEY when empty)
    # and accepted for this long after the product page printed them (0: no limit).
    instant_checkout_secret: str = ""
    instant_token_max_age_seconds: int = 7 * 24 * 3600
    # An unpaid Instant Checkout order gives its stock back this long after it was placed; a
    # purchase code, and a caller's address, hold at most this many unpaid orders in an hour.
    instant_order_expiry_seconds: int = 600
    instant_unpaid_orders_per_hour: int = 3

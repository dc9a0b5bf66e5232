"""SeQura settings. Defaults point at the plugin's own sandbox with the demo account."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SequraSettings:
    base_url: str = "{sandbox_url}"  # live: https://live.sequrapi.com, SeQura's own: https://sandbox.sequrapi.com
    account_key: str = "cartwheel"  # Basic auth user ("account key")
    secret: str = "cartwheel-sandbox"  # Basic auth password ("account secret")
    merchant_ref: str = "dummy_automated_tests"  # not a credential: order.merchant.id and a header
    # The countries this merchant ref sells to (SeQura gives one ref per country and refuses an
    # address elsewhere with a 409); the checkout shows SeQura disabled for other addresses.
    countries: str = "ES"
    hmac_secret: str = ""  # signs the notification parameters, never sent; empty: the account secret
    isolated_till: bool = False  # a till no IPN can reach: the solicitation carries no callback URLs
    register_reference_on_confirm: bool = True  # False when an ERP sends order_ref_1 later
    timeout: float = 15.0  # seconds for one API call
    # A confirmation without an outcome this long: the shopper's page says the order is being
    # checked (an e-mail follows), the merchant's order is flagged, and where no IPN came at all
    # the shop starts asking SeQura itself (a confirm PUT: SeQura offers no read-back).
    checking_after_seconds: int = 60
    probe_for_seconds: int = 3600  # how long the shop keeps asking about an order no IPN told it of
    connect_timeout: float = 5.0
    # How long the checkout keeps SeQura's payment methods and credit agreements (seconds) rather
    # than asking on every view; 0: asked every time. SeQura checks the order when it is solicited.
    terms_lifetime: float = 60.0
    # Promotional teasers ("from 29,67 €/month"): where they show (any of product, cart, listing;
    # empty: nowhere), which product they promote, how long a computed teaser is kept (seconds)
    # and how long a teaser loading after the page may wait for SeQura.
    teaser_places: str = "product,cart,listing"
    teaser_product: str = "pp3"
    teaser_lifetime: float = 300.0
    teaser_wait: float = 2.0
    platform_name: str = "Cartwheel"
    platform_version: str = "0.1.0"

    @property
    def teaser_place_list(self) -> tuple[str, ...]:
        return tuple(p.strip() for p in self.teaser_places.split(",") if p.strip())

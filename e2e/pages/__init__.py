"""Page objects: the store's pages and each provider's hosted step, as a shopper or merchant uses
them. They take a Playwright ``Page`` and nothing of this test suite, so a merchant's own tests can
import them (``from e2e.pages.checkout import CheckoutPage``) and drive their store the same way.

One module per page: product, checkout, order (the order page and its payment panels),
secupay_hosted, seqr_app, sequra_form, online_banking, back_office."""

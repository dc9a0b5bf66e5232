"""Bank transfer (prepayment): the worked example of a Cartwheel checkout plugin.

The shopper gets transfer instructions and a GiroCode; the merchant's bank announces the
incoming credit (its payment-request API and webhook, played by ``sandbox/``), or the merchant
marks the transfer received by hand in the back office."""

"""Templatepay: a checkout plugin for Cartwheel (made by `shop new-plugin`)."""

"""The plugin base class under its older name; the contract itself is shop.payments.contract."""

from shop.payments.contract import PLAIN_REPLIES, CheckoutPlugin

PluginBase = CheckoutPlugin  # plugins written before the contract named every hook subclass this

__all__ = ["PLAIN_REPLIES", "CheckoutPlugin", "PluginBase"]

"""A merchant's bank, played on loopback: the payment-request API the plugin uses (expected
credits, read back and cancelled), its signed webhook, an online-banking page where a shopper
sends the transfer, and a control page with scenarios."""

from plugins.banktransfer.sandbox.app import create_sandbox

__all__ = ["create_sandbox"]

"""Checkout plugins, one folder per payment provider."""

"""Cartwheel: the store, and everything that is not about one payment provider."""

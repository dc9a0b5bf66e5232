"""The registry holds a plugin class to what the base class cannot default: its identity, a
start(), a fetch() when it says it can read back, and exactly the after-sales methods its
capabilities declare (the base's own only raise)."""

from __future__ import annotations

import pytest

from shop.money import Money
from shop.payments.contract import Capability, CheckoutPlugin, Observation, PaymentStatus, RefundSeen
from shop.payments.registry import PluginError, check_declaration


class Minimal(CheckoutPlugin):
    id = "minimal"
    name = "Minimal"
    settings_model = dict

    async def start(self, payment, ctx):
        raise NotImplementedError

    async def fetch(self, payment, claim=None):
        return Observation(PaymentStatus.PENDING, "open", "k")


def test_a_minimal_plugin_passes_with_every_other_hook_defaulted():
    check_declaration(Minimal, "minimal")
    plugin = Minimal(None, None)
    assert not plugin.settles_confirmations and plugin.read_back_after_seconds == 0
    assert plugin.admin_links == () and plugin.demo_flows == () and plugin.sandbox() is None


def test_a_capability_and_its_method_go_together():
    class Refunds(Minimal):
        capabilities = frozenset({Capability.REFUND})

        async def refund(self, payment, amount: Money, reason: str) -> RefundSeen:
            return RefundSeen("r", amount)

    check_declaration(Refunds)

    class Declared(Minimal):
        capabilities = frozenset({Capability.CAPTURE})

    with pytest.raises(PluginError, match="capture declared but has no capture"):
        check_declaration(Declared)

    class Undeclared(Minimal):
        async def cancel(self, payment):
            raise NotImplementedError

    with pytest.raises(PluginError, match="cancel not declared but has a cancel"):
        check_declaration(Undeclared)


def test_what_the_base_cannot_default_is_required():
    class NoStart(CheckoutPlugin):
        id, name, settings_model, has_read_back = "nostart", "No start", dict, False

    with pytest.raises(PluginError, match="no start"):
        check_declaration(NoStart)

    class NoFetch(Minimal):
        fetch = CheckoutPlugin.fetch

    with pytest.raises(PluginError, match="no fetch"):
        check_declaration(NoFetch)

    class NoName(Minimal):
        pass

    del Minimal.name
    try:
        with pytest.raises(PluginError, match="missing class attribute 'name'"):
            check_declaration(NoName)
    finally:
        Minimal.name = "Minimal"
    with pytest.raises(PluginError, match="not a subclass"):
        check_declaration(object)
    with pytest.raises(PluginError, match="differs from its entry-point name"):
        check_declaration(Minimal, "other")

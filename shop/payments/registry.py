"""Plugin discovery through the ``shop.checkout`` entry-point group, and their set-up."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from importlib.metadata import entry_points

from shop.payments.contract import Capability, CheckoutPlugin, OrderSnapshot, PaymentOption, PluginRuntime
from shop.settings import SettingsError, load_plugin_settings

GROUP = "shop.checkout"
log = logging.getLogger(__name__)


class PluginError(Exception):
    pass


def discover(only: Iterable[str] | None = None) -> dict[str, type]:
    """Plugin classes by id, in entry-point name order."""
    wanted = set(only) if only is not None else None
    found: dict[str, type] = {}
    for ep in sorted(entry_points(group=GROUP), key=lambda e: e.name):
        if wanted is not None and ep.name not in wanted:
            continue
        cls = ep.load()
        check_declaration(cls, ep.name)
        found[ep.name] = cls
    if wanted is not None and (missing := wanted - found.keys()):
        raise PluginError(f"no checkout plugin registered as {', '.join(sorted(missing))}")
    return found


def check_declaration(cls: type, entry_name: str | None = None) -> None:
    """What every plugin must declare; raises PluginError naming what is wrong."""
    if not (isinstance(cls, type) and issubclass(cls, CheckoutPlugin)):
        raise PluginError(f"{cls!r}: not a subclass of shop.payments.contract.CheckoutPlugin")
    name = cls.__name__
    for attr in ("id", "name", "settings_model"):  # the declarations the base cannot default
        if attr not in dir(cls):
            raise PluginError(f"{name}: missing class attribute {attr!r}")
    if entry_name is not None and cls.id != entry_name:
        raise PluginError(f"{name}: id {cls.id!r} differs from its entry-point name {entry_name!r}")
    if not cls.id.isidentifier() or cls.id != cls.id.lower():
        raise PluginError(f"{name}: id {cls.id!r} must be a lower-case slug")
    if not set(cls.capabilities) <= set(Capability):
        raise PluginError(f"{name}: unknown capabilities {set(cls.capabilities) - set(Capability)}")
    methods = {Capability.CAPTURE: "capture", Capability.REFUND: "refund", Capability.CANCEL: "cancel"}
    for capability, method in methods.items():
        declared = capability in cls.capabilities
        written = getattr(cls, method) is not getattr(CheckoutPlugin, method)  # the base's only raises
        if declared != written:
            state = "declared but has no" if declared else "not declared but has a"
            raise PluginError(f"{name}: {capability} {state} {method}() method")
    if Capability.PARTIAL_REFUND in cls.capabilities and Capability.REFUND not in cls.capabilities:
        raise PluginError(f"{name}: partial_refund needs refund")
    if cls.start is CheckoutPlugin.start:
        raise PluginError(f"{name}: has no start() method")
    if cls.has_read_back and cls.fetch is CheckoutPlugin.fetch:  # the base's has no read-back
        raise PluginError(f"{name}: has_read_back is True but it has no fetch() method")


class Plugins:
    """The set-up plugins of one app, by id."""

    def __init__(self, plugins: dict[str, CheckoutPlugin]) -> None:
        self._plugins = plugins

    @classmethod
    def build(cls, classes: dict[str, type], env, runtime_for) -> Plugins:
        built = {}
        for plugin_id, plugin_cls in classes.items():
            runtime: PluginRuntime = runtime_for(plugin_id)
            try:
                settings = load_plugin_settings(plugin_cls.settings_model, plugin_id, env, runtime.sandbox_url)
            except TypeError as exc:
                raise SettingsError(f"{plugin_id.upper()}_*: {exc}") from None
            built[plugin_id] = plugin_cls(settings, runtime)
        return cls(built)

    def __getitem__(self, plugin_id: str) -> CheckoutPlugin:
        return self._plugins[plugin_id]

    def get(self, plugin_id: str) -> CheckoutPlugin | None:
        return self._plugins.get(plugin_id)

    def __iter__(self) -> Iterator[CheckoutPlugin]:
        return iter(self._plugins.values())

    def __contains__(self, plugin_id: str) -> bool:
        return plugin_id in self._plugins

    def ids(self) -> list[str]:
        return list(self._plugins)

    async def options_for(self, order: OrderSnapshot) -> list[PaymentOption]:
        """What every plugin offers for this order; a plugin that cannot say hides only itself."""
        options: list[PaymentOption] = []
        for plugin in self._plugins.values():
            try:
                options.extend(await plugin.options(order))
            except Exception:
                log.exception("%s: listing payment options failed", plugin.id)
        return options

    async def aclose(self) -> None:
        for plugin in self._plugins.values():
            await plugin.aclose()

from importlib.metadata import entry_points

import pytest

from shop.testing.contract import ContractKit

registered = "sequra" in {ep.name for ep in entry_points(group="shop.checkout")}


@pytest.mark.skipif(not registered, reason="sequra is not registered under the shop.checkout entry point yet")
class TestContract(ContractKit):
    plugin_id = "sequra"

from importlib.metadata import entry_points

import pytest

from shop.testing.contract import ContractKit

# The kit finds plugins through the shop.checkout entry points (pyproject.toml, the lead's).
pytestmark = pytest.mark.skipif(not any(ep.name == "secupay" for ep in entry_points(group="shop.checkout")),
                                reason="secupay is not registered under shop.checkout yet")


class TestContract(ContractKit):
    plugin_id = "secupay"

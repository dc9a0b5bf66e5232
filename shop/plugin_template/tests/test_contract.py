"""The contract kit: every check the core holds a checkout plugin to, against its sandbox."""

from shop.testing.contract import ContractKit


class TestContract(ContractKit):
    plugin_id = "templatepay"

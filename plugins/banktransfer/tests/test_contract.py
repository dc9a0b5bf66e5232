from shop.testing.contract import ContractKit


class TestContract(ContractKit):
    plugin_id = "banktransfer"

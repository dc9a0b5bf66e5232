from shop.testing.contract import ContractKit


class TestContract(ContractKit):
    plugin_id = "secupay"
    # A card payment stays authorised until the back office captures it.
    authorize_only_env = {"SECUPAY_AUTO_CAPTURE": "false"}

"""secupay settings. Each field is read from SECUPAY_<FIELD>; defaults point at the sandbox."""

from __future__ import annotations

from dataclasses import dataclass

# The credentials of secuconnect's own documented example; the sandbox knows them.
EXAMPLE_CLIENT_ID = "00563697073442633035025909838580"
EXAMPLE_CLIENT_SECRET = "3382456441636938321687549172178382320163695870914358804052148567"
EXAMPLE_CONTRACT = "GCR_KTSST836QYITQJM1JGYIZ4F4OLKI04"
EXAMPLE_CHECKOUT_TEMPLATE = "COT_WD0DE66HN2XWJHW8JM88003YG0NEA2"


@dataclass(frozen=True)
class SecupaySettings:
    # Host root: the API is at {base_url}/api/v2 and the token at {base_url}/oauth/token.
    # Testing: https://connect-testing.secuconnect.com, live: https://connect.secucard.com
    base_url: str = "{sandbox_url}"
    token_url: str = ""  # empty: {base_url}/oauth/token
    client_id: str = EXAMPLE_CLIENT_ID
    client_secret: str = EXAMPLE_CLIENT_SECRET
    contract_id: str = EXAMPLE_CONTRACT
    checkout_template: str = EXAMPLE_CHECKOUT_TEMPLATE
    auto_capture: bool = True
    is_demo: bool = False
    # The methods the merchant wants listed, in this order; of them, the checkout lists only those
    # the contract offers (the payment links secupay returns, remembered for methods_lifetime s).
    methods: str = "creditcard,debit,paypal,prepaid,invoice"
    methods_lifetime: float = 3600.0
    # The countries the contract accepts buyers from, comma-separated ("DE,AT"); empty: any
    # country the shop delivers to. Other addresses see secupay disabled with the reason.
    countries: str = ""
    shop_name: str = "Cartwheel"  # start of the purpose line on the payer's statement
    timeout: float = 20.0  # seconds per provider call
    token_margin: int = 30  # drop the token this many seconds before it expires

    @property
    def method_list(self) -> tuple[str, ...]:
        return tuple(m.strip() for m in self.methods.split(",") if m.strip())

"""Bank transfer settings: read from BANKTRANSFER_* variables; defaults use the sandbox bank."""

from dataclasses import dataclass


@dataclass(frozen=True)
class BankTransferSettings:
    base_url: str = "{sandbox_url}/v1"
    api_key: str = "sandbox-api-key"
    webhook_secret: str = "sandbox-webhook-secret"
    account_owner: str = "Cartwheel Demo GmbH"
    iban: str = "DE02120300000000202051"
    bic: str = "BYLADEM1001"
    bank_name: str = "Sandbox Bank"
    pay_within_days: int = 7

"""SEQR result codes: the symbolic name the server puts in resultDescription, and plain words.

The names are the server's ``ERSWSResultCodes`` constants; the plain words are ours, fit to show a
merchant or shopper. Shared by the client (to explain an answer) and the sandbox (to give one).
"""

from __future__ import annotations

SUCCESS = 0
REPORT_NOT_READY = 2
REJECTED_BUSINESS_LOGIC = 10
REJECTED_AMOUNT = 11
AUTHENTICATION_FAILED = 20
ACCESS_DENIED = 21
INVALID_NEW_PASSWORD = 22
INVALID_ERS_REFERENCE = 23
INVALID_INITIATOR_PRINCIPAL_ID = 29
INVALID_INITIATOR_PRINCIPAL_STATE = 33
INITIATOR_PRINCIPAL_NOT_FOUND = 37
PAYMENT_IN_PROGRESS = 48
INVALID_INVOICE_DATA = 49
CANNOT_CANCEL_PAID_INVOICE = 50
CANNOT_CANCEL_INVOICE_IN_PROGRESS = 51
INVALID_SEQR_ID = 53
INVALID_INVOICE_REFERENCE = 54
INVALID_NOTIFICATION_URL = 64
SYSTEM_ERROR = 90
UNSUPPORTED_OPERATION = 91
SYSTEM_BUSY = 93
SERVICE_UNAVAILABLE = 94
INVOICE_ALREADY_CANCELED = 95
INVOICE_STATE_NOT_RESERVED = 96
RESELLER_NOT_ALLOWED_TO_DO_REFUND = 97
SUM_OF_REFUNDS_TOO_HIGH = 98
RECEIVER_ACCOUNT_DOES_NOT_ALLOW_REFUNDS = 99

NAMES: dict[int, str] = {
    0: "SUCCESS",
    1: "PENDING_APPROVAL",
    2: "REPORT_NOT_READY",
    10: "REJECTED_BUSINESS_LOGIC",
    11: "REJECTED_AMOUNT",
    12: "REJECTED_PAYMENT",
    13: "REJECTED_TOPUP",
    20: "AUTHENTICATION_FAILED",
    21: "ACCESS_DENIED",
    22: "INVALID_NEW_PASSWORD",
    23: "INVALID_ERS_REFERENCE",
    29: "INVALID_INITIATOR_PRINCIPAL_ID",
    30: "INVALID_RECEIVER_PRINCIPAL_ID",
    31: "INVALID_SENDER_PRINCIPAL_ID",
    32: "INVALID_TOPUP_PRINCIPAL_ID",
    33: "INVALID_INITIATOR_PRINCIPAL_STATE",
    34: "INVALID_RECEIVER_PRINCIPAL_STATE",
    35: "INVALID_SENDER_PRINCIPAL_STATE",
    36: "INVALID_TOPUP_PRINCIPAL_STATE",
    37: "INITIATOR_PRINCIPAL_NOT_FOUND",
    38: "RECEIVER_PRINCIPAL_NOT_FOUND",
    39: "SENDER_PRINCIPAL_NOT_FOUND",
    40: "TOPUP_PRINCIPAL_NOT_FOUND",
    41: "INVALID_PRODUCT",
    42: "INVALID_RECEIVER_ACCOUNT_TYPE",
    43: "INVALID_SENDER_ACCOUNT_TYPE",
    44: "INVALID_TOPUP_ACCOUNT_TYPE",
    45: "RECEIVER_ACCOUNT_NOT_FOUND",
    46: "SENDER_ACCOUNT_NOT_FOUND",
    47: "TOPUP_ACCOUNT_NOT_FOUND",
    48: "PAYMENT_IN_PROGRESS",
    49: "INVALID_INVOICE_DATA",
    50: "CANNOT_CANCEL_PAID_INVOICE",
    51: "CANNOT_CANCEL_INVOICE_IN_PROGRESS",
    52: "INVALID_CUSTOMER",
    53: "INVALID_SEQR_ID",
    54: "INVALID_INVOICE_REFERENCE",
    55: "PAYMENT_ALREADY_CANCELLED",
    56: "REGISTRATION_NOT_POSSIBLE",
    57: "REGISTRATION_PRINCIPAL_ALREADY_EXISTS",
    58: "PAYMENT_EXPIRED",
    60: "AUTHORIZATION_EXPIRED",
    61: "AUTHORIZATION_CANCELLED",
    62: "AUTHORIZATION_IN_PROGRESS",
    63: "INVALID_AUTHORIZATION_REFERENCE",
    64: "INVALID_NOTIFICATION_URL",
    90: "SYSTEM_ERROR",
    91: "UNSUPPORTED_OPERATION",
    92: "LICENSE_REJECTION",
    93: "SYSTEM_BUSY",
    94: "SERVICE_UNAVAILABLE",
    95: "INVOICE_ALREADY_CANCELED",
    96: "INVOICE_STATE_NOT_RESERVED",
    97: "RESELLER_NOT_ALLOWED_TO_DO_REFUND",
    # the one code whose description is prose, not the constant's name
    98: "Sum of refunds can not be more than original transaction",
    99: "RECEIVER_ACCOUNT_DOES_NOT_ALLOW_REFUNDS",
}

MESSAGES: dict[int, str] = {
    2: "The report is not ready yet.",
    10: "SEQR refused the request.",
    11: "SEQR did not accept the amount.",
    12: "The payment was rejected.",
    20: "SEQR did not accept the terminal password.",
    21: "SEQR denied access to this terminal (its password may be too short).",
    22: "The new password is not acceptable.",
    23: "SEQR does not know that payment reference.",
    29: "SEQR does not know this terminal id.",
    33: "This terminal is not active at SEQR (it may have been unregistered).",
    37: "SEQR does not know this reseller user.",
    48: "A payment is in progress for this invoice.",
    49: "SEQR did not accept the invoice data (for example its currency).",
    50: "The invoice is already paid and cannot be cancelled.",
    51: "The payer is paying this invoice right now; it cannot be cancelled.",
    53: "That SEQR id is not valid or belongs to another terminal.",
    54: "SEQR does not know that invoice for this terminal.",
    58: "The payment has expired.",
    64: "The notification URL is not a valid http(s) address.",
    90: "SEQR reported a system error.",
    91: "SEQR does not support this operation.",
    93: "SEQR is busy; try again shortly.",
    94: "A service behind SEQR (the payer's bank) is unavailable.",
    95: "The invoice was already cancelled.",
    96: "The invoice is not reserved, so there is nothing to commit.",
    97: "This terminal is not allowed to refund through SEQR.",
    98: "The refunds would add up to more than the payment.",
    99: "The payer's account does not accept refunds.",
}

# Codes that say nothing about the request itself: the outcome is unknown, ask again later.
TRANSIENT = frozenset({SYSTEM_BUSY, SERVICE_UNAVAILABLE})


def description(code: int) -> str:
    return NAMES.get(code, f"UNKNOWN ERSWSResultCode = {code}")


def message(code: int, description_text: str | None = None) -> str:
    if code in MESSAGES:
        return MESSAGES[code]
    return f"SEQR answered {description_text or description(code)} (code {code})."

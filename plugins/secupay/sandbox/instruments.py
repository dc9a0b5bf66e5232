"""Checks the hosted page makes on what the payer typed, and the sandbox's test data."""

from __future__ import annotations

import re
from datetime import date

# Sandbox conventions (secuconnect publishes no test cards): any Luhn-valid number approves,
# except these endings.
DECLINE_SUFFIX = "0002"
CHALLENGE_SUFFIX = "3220"
ERROR_SUFFIX = "0119"
THREE_DS_CODE = "1234"

TEST_CARDS = (
    ("4111 1111 1111 1111", "Visa: approved"),
    ("4635 4400 0000 2298", "Visa (secuconnect testing system): approved"),
    ("5555 5555 5555 4444", "Mastercard: approved"),
    ("4000 0000 0000 3220", "3-D Secure challenge (code 1234 passes)"),
    ("4000 0000 0000 0002", "declined: the payer may try again"),
    ("4000 0000 0000 0119", "processing error: the payment fails, back to the shop's error URL"),
)
TEST_IBANS = (
    ("DE37 5032 4000 1000 0005 24", "Max Mustermann"),
    ("DE35 5001 0517 5418 4931 88", "any owner"),
)

IBAN_LENGTHS = {"DE": 22, "AT": 20, "CH": 21, "NL": 18, "BE": 16, "FR": 27, "ES": 24, "IT": 27, "LU": 20,
                "PL": 28, "DK": 18, "SE": 24, "FI": 18, "IE": 22, "PT": 25, "GB": 22, "NO": 15}


def digits(text: str) -> str:
    return re.sub(r"[\s-]", "", text or "")


def luhn_ok(number: str) -> bool:
    if not number.isdigit() or not 12 <= len(number) <= 19:
        return False
    total = 0
    for index, char in enumerate(reversed(number)):
        value = int(char)
        if index % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def card_brand(number: str) -> str:
    if number.startswith("4"):
        return "visa"
    if number[:2] in {"51", "52", "53", "54", "55"} or "2221" <= number[:4] <= "2720":
        return "mastercard"
    if number[:2] in {"34", "37"}:
        return "american express"
    return "unknown"


def expiry_ok(text: str, today: date | None = None) -> bool:
    match = re.fullmatch(r"\s*(\d{1,2})\s*/\s*(\d{2}|\d{4})\s*", text or "")
    if not match:
        return False
    month, year = int(match.group(1)), int(match.group(2))
    if year < 100:
        year += 2000
    if not 1 <= month <= 12:
        return False
    today = today or date.today()
    return (year, month) >= (today.year, today.month)


def card_errors(holder: str, number: str, expiry: str, cvc: str) -> dict[str, str]:
    errors = {}
    if not holder.strip():
        errors["holder"] = "Please enter the card holder."
    if not luhn_ok(number):
        errors["number"] = "This card number is not valid."
    if not expiry_ok(expiry):
        errors["expiry"] = "Please enter a valid expiry date (MM/YY) that has not passed."
    if not re.fullmatch(r"\d{3,4}", cvc or ""):
        errors["cvc"] = "The security code has 3 or 4 digits."
    return errors


def iban_ok(iban: str) -> bool:
    """ISO 13616: the country's length and the mod-97 check digits."""
    iban = digits(iban).upper()
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{10,30}", iban):
        return False
    if IBAN_LENGTHS.get(iban[:2], len(iban)) != len(iban):
        return False
    moved = iban[4:] + iban[:4]
    return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1


def mask_iban(iban: str) -> str:
    iban = digits(iban).upper()
    return f"{iban[:4]}{'*' * (len(iban) - 8)}{iban[-4:]}"


def debit_errors(owner: str, iban: str, mandate: bool) -> dict[str, str]:
    errors = {}
    if not owner.strip():
        errors["owner"] = "Please enter the account holder."
    if not iban_ok(iban):
        errors["iban"] = "This IBAN is not valid (check digits or length)."
    if not mandate:
        errors["mandate"] = "Please grant the SEPA direct debit mandate."
    return errors


# What secuconnect never shows again once it has it: a card's verification code, whole numbers.
_SECRET_KEYS = {"cvc", "cvv", "cvc2", "security_code"}


def mask_pan(pan: str) -> str:
    number = digits(pan)
    if len(number) < 12:
        return pan  # already masked (411111XXXXXX1111) or not a card number
    return f"{number[:6]}{'X' * (len(number) - 10)}{number[-4:]}"


def masked(private: dict) -> dict:
    """Payment instrument data as the API reads it back: card number and IBAN masked, the card's
    code gone, whatever was stored."""
    out = {}
    for key, value in private.items():
        if key in _SECRET_KEYS:
            continue
        if key in ("pan", "number") and isinstance(value, str):
            value = mask_pan(value)
        elif key == "iban" and isinstance(value, str) and "*" not in value:
            value = mask_iban(value)
        out[key] = value
    return out

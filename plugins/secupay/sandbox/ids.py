"""Identifiers and timestamps in secuconnect's shapes."""

from __future__ import annotations

import itertools
import secrets
import string
from datetime import datetime
from zoneinfo import ZoneInfo

_UPPER = string.digits + string.ascii_uppercase
_TOKEN = string.digits + "abcdefghijklmnopqrstuv"
_BERLIN = ZoneInfo("Europe/Berlin")
_trans_ids = itertools.count(110147330 + secrets.randbelow(1000) * 1000)


def object_id(prefix: str) -> str:
    """STX_, PCI_, PCU_...: the prefix and 30 characters of [0-9A-Z]."""
    return prefix + "_" + "".join(secrets.choice(_UPPER) for _ in range(30))


def access_token() -> str:
    return "".join(secrets.choice(_TOKEN) for _ in range(26))


def trans_id() -> int:
    return next(_trans_ids)


def transaction_hash() -> str:
    letters = "".join(secrets.choice(string.ascii_lowercase) for _ in range(12))
    return letters + "".join(secrets.choice(string.digits) for _ in range(7))


def support_id() -> str:
    return secrets.token_hex(16)


def event_id() -> str:
    return "evt_" + secrets.token_hex(16)


def now() -> str:
    """Berlin local time with its offset, as secuconnect writes it."""
    return datetime.now(_BERLIN).isoformat(timespec="seconds")

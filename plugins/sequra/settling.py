"""A confirmation the shop owes SeQura, kept on the payment until SeQura's answer is applied.

SeQura has no read-back and does not re-send an IPN whatever the shop answers (spec §8.5,
§17.1): nothing on SeQura's side reminds the shop of a confirm PUT it did not finish. So the
shop keeps one record in ``payment.data`` (written by the ledger, like everything else), from
before its first confirming call until the outcome is applied, and the reconciler repeats
what is due:

- ``seen == "ipn"``: SeQura's IPN said the order is approved (or needs review) and the shop
  owes the PUT. Recorded before the IPN's PUT; a crash after SeQura's answer, or a PUT that
  failed, leaves it due.
- ``seen == "probe"``: no IPN came within the bounded time. The shop asks SeQura by making the
  confirm PUT itself, as the isolated till does (spec §10.2): 2xx means SeQura approved and now
  holds the order confirmed; 409 means not approved (yet).
- ``seen == "review"``: the same after the order was put on hold, should SeQura's second IPN
  (approved after its review) never come.

Retries back off (``BACKOFF``); a probe stops after ``probe_for_seconds`` (the record stays,
parked, for the merchant's "Check again")."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from shop.payments.contract import Embed

from .csp import script_hash

KEY = "confirm_intent"  # the record in payment.data; None once the outcome is applied
COUNT = "confirm_intents"  # how many records this payment had: numbers each record's dedupe keys
BACKOFF = (10, 30, 60, 120, 300)  # seconds before the 1st, 2nd... retry; the last one repeats

# What the shopper reads while the shop confirms an order SeQura approved.
APPROVED_NOTE = "SeQura has approved your order."
CONFIRMING_TEXT = "The shop is confirming it with SeQura; this page updates by itself."
CHECKING_TEXT = ("Your order is being checked with SeQura. You will get an e-mail as soon as it is confirmed; "
                 "you can close this page.")
# ...and while no IPN came: the form stays (the shopper may still be in it), this sentence above it.
PROBE_NOTE = ("Finished SeQura's form? Your order is being checked with SeQura: you will get an e-mail as soon as "
              "it is confirmed.")
# Why the merchant is asked to look, by the PUT owed: the same words each time, so the order is flagged once.
ATTENTION = {"confirmed": "SeQura approved this order but the shop's confirmation has not gone through yet "
                          "(Check again)",
             "on_hold": "SeQura is reviewing this order but the shop's answer has not gone through yet (Check again)"}


def backoff(tries: int) -> timedelta:
    """The wait after the ``tries``-th failed attempt (1: 10 s, 2: 30 s, ... then 5 min)."""
    return timedelta(seconds=BACKOFF[min(max(tries, 1), len(BACKOFF)) - 1])


def _time(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None


@dataclass(frozen=True)
class Intent:
    state: str  # the PUT owed: "confirmed" (SeQura approved) or "on_hold" (it needs review)
    seen: str  # "ipn", "probe" or "review" (see above)
    since: datetime
    number: int  # 1 for the payment's first record, 2 for the next...
    tries: int = 0  # failed attempts so far
    due: datetime | None = None  # when to try (again); None: parked until "Check again"
    error: str = ""  # SeQura's last answer, for the merchant

    @classmethod
    def of(cls, data: Mapping[str, Any] | None) -> Intent | None:
        raw = (data or {}).get(KEY)
        if not isinstance(raw, Mapping):
            return None
        return cls(str(raw["state"]), str(raw["seen"]), _time(raw["since"]), int(raw["number"]),
                   int(raw.get("tries", 0)), _time(raw.get("due")), str(raw.get("error", "")))

    @classmethod
    def new(cls, data: Mapping[str, Any] | None, state: str, seen: str, since: datetime, due: datetime) -> Intent:
        """The payment's next record (numbered after those in ``data``)."""
        return cls(state, seen, since, int((data or {}).get(COUNT, 0)) + 1, due=due)

    def as_data(self) -> dict[str, Any]:
        """What the ledger keeps: the record and the count that numbers it."""
        return {KEY: {"state": self.state, "seen": self.seen, "since": self.since.isoformat(),
                      "number": self.number, "tries": self.tries,
                      "due": self.due.isoformat() if self.due else None, "error": self.error},
                COUNT: self.number}

    @property
    def scheduled(self) -> bool:
        return self.due is not None

    def failed(self, now: datetime, error: str, give_up_at: datetime | None = None) -> Intent:
        """After an attempt that settled nothing: the next one, backed off, or parked."""
        tries = self.tries + 1
        due: datetime | None = now + backoff(tries)
        if give_up_at is not None and due > give_up_at:
            due = None
        return replace(self, tries=tries, due=due, error=error[:200])


# --------------------------------------------------------------------------- the shopper's panel


def checking_step() -> Embed:
    return Embed(f'<p class="sequra-checking" id="sequra-checking">{CHECKING_TEXT}</p>')


def confirming_step(seconds_left: float) -> Embed:
    """Until the bounded time is up: "confirming, updates by itself"; then, without a reload,
    "being checked, an e-mail follows". The page's status channel only pushes status changes,
    so the switch is the page's own timer (its script is allowed by hash, like the form's)."""
    script = ('setTimeout(function(){var p=document.getElementById("sequra-checking");'
              f'if(p){{p.textContent={json.dumps(CHECKING_TEXT)};}}}},{max(0, int(seconds_left * 1000))});')
    html = (f'<p class="sequra-checking" id="sequra-checking">{CONFIRMING_TEXT}</p>'
            f"<script>{script}</script>")
    return Embed(html, {"script-src": (script_hash(script),)})

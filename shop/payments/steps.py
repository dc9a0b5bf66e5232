"""The shopper's next step, kept on the payment as JSON so the order page can show it again."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

from shop.payments.contract import Embed, Instructions, NextStep, Redirect, ShowCode

_STEP_TYPES = {"redirect": Redirect, "embed": Embed, "show_code": ShowCode, "instructions": Instructions}


def next_step_to_dict(step: NextStep) -> dict:
    kind = {Redirect: "redirect", Embed: "embed", ShowCode: "show_code", Instructions: "instructions"}[type(step)]
    values = asdict(step)
    if isinstance(step, ShowCode) and step.expires_at:
        values["expires_at"] = step.expires_at.isoformat()
    if isinstance(step, Embed):
        values["csp"] = {k: list(v) for k, v in step.csp.items()}
    return {"kind": kind, **values}


def next_step_from_dict(values: dict | None) -> NextStep | None:
    if not values:
        return None
    values = dict(values)
    cls = _STEP_TYPES[values.pop("kind")]
    if cls is Instructions:
        values["fields"] = tuple(tuple(pair) for pair in values["fields"])
    if cls is Embed:
        values["csp"] = {k: tuple(v) for k, v in values.get("csp", {}).items()}
    if cls is ShowCode and values.get("expires_at"):
        values["expires_at"] = datetime.fromisoformat(values["expires_at"])
    return cls(**values)

"""The countries the shop delivers to, and how a sentence names a few of them."""

from __future__ import annotations

from collections.abc import Iterable

COUNTRIES = {"DE": "Germany", "ES": "Spain", "AT": "Austria", "FR": "France", "IT": "Italy", "NL": "Netherlands",
             "PT": "Portugal", "SE": "Sweden", "BE": "Belgium", "CH": "Switzerland"}


def country_list(codes: Iterable[str]) -> str:
    """"Spain", "Spain or Portugal", "France, Italy or Spain": for "only for addresses in ..."."""
    names = [COUNTRIES.get(code, code) for code in codes]
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} or {names[-1]}"


def codes_of(setting: str) -> tuple[str, ...]:
    """A comma-separated setting ("ES, PT") as upper-case codes; empty means no limit."""
    return tuple(code.strip().upper() for code in setting.split(",") if code.strip())

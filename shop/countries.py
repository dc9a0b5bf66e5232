"""The countries the shop delivers to, and how a sentence names a few of them."""

from __future__ import annotations

from collections.abc import Iterable

from babel.lists import format_list

from shop.i18n import country_name, current_locale

# The codes the checkout offers; their names come from the shopper's locale (shop.i18n.country_name).
# The English names here say which country a code means to someone reading the source.
COUNTRIES = {"DE": "Germany", "ES": "Spain", "AT": "Austria", "FR": "France", "IT": "Italy", "NL": "Netherlands",
             "PT": "Portugal", "SE": "Sweden", "BE": "Belgium", "CH": "Switzerland"}


def country_list(codes: Iterable[str]) -> str:
    """"Spain", "Spain or Portugal", "France, Italy, or Spain" (in the shopper's language, as it
    joins them: "Francia, Italia o España"): for "only for addresses in ..."."""
    names = [country_name(code) for code in codes]
    return format_list(names, style="or", locale=current_locale()) if names else ""


def or_list(words: Iterable[str]) -> str:
    """"EUR or SEK" as the shopper's language joins alternatives ("EUR eller SEK")."""
    words = list(words)
    return format_list(words, style="or", locale=current_locale()) if words else ""


def codes_of(setting: str) -> tuple[str, ...]:
    """A comma-separated setting ("ES, PT") as upper-case codes; empty means no limit."""
    return tuple(code.strip().upper() for code in setting.split(",") if code.strip())


def addresses_outside(order, countries: tuple[str, ...]) -> bool:
    """Whether the order's delivery or invoice address is in none of ``countries`` (no limit when
    empty). An address whose country is not known yet (a draft checkout) does not count."""
    codes = (order.delivery_address.country_code, order.invoice_address.country_code)
    return bool(countries) and any(code and code.upper() not in countries for code in codes)

"""The shopper's language: which locale a request speaks, and translating into it.

The locale is the shopper's own choice (the header's switcher, kept in the session), else the
best match for the browser's Accept-Language, else English. A small middleware puts it in a
context variable for the whole request, so code anywhere below a handler (a form's errors, a
flash, a plugin's option names) translates with ``gettext`` without being handed the request.
The database threads run with a copy of the caller's context (shop.db), so they see it too.
Work outside a request (the ledger writing an order's e-mail) names its locale with ``use_locale``.

Catalogs are the .po files under shop/locale; shop.catalogs compiles them to the .mo read here."""

from __future__ import annotations

import contextlib
import functools
import gettext as _gettext
import re
from collections.abc import Iterator
from contextvars import ContextVar
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from babel import Locale, dates, numbers
from babel.core import negotiate_locale
from babel.support import Translations
from jinja2 import pass_context
from markupsafe import Markup
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

DEFAULT_LOCALE = "en"
# Each language named in itself: that is how a shopper who cannot read the page finds their own.
LOCALE_NAMES = {"en": "English", "es": "Español", "de": "Deutsch", "sv": "Svenska"}
LOCALES = tuple(LOCALE_NAMES)
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "messages"
SESSION_KEY = "locale"

_current: ContextVar[str] = ContextVar("locale", default=DEFAULT_LOCALE)


def current_locale() -> str:
    return _current.get()


@contextlib.contextmanager
def use_locale(locale: str | None) -> Iterator[str]:
    """Speak ``locale`` (a supported one, else English) inside the block."""
    token = _current.set(supported(locale))
    try:
        yield _current.get()
    finally:
        _current.reset(token)


def supported(locale: str | None) -> str:
    """The supported locale for a code such as "de" or "de-AT", else English."""
    if not locale:
        return DEFAULT_LOCALE
    language = locale.replace("_", "-").split("-")[0].lower()
    return language if language in LOCALE_NAMES else DEFAULT_LOCALE


def negotiate(accept_language: str) -> str:
    """The best supported locale for an Accept-Language header, by its q-values; else English."""
    wanted = []
    for position, part in enumerate(accept_language.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        if tag and tag != "*" and quality > 0:
            wanted.append((-quality, position, tag.strip()))
    preferred = [tag for _, _, tag in sorted(wanted)]
    return negotiate_locale(preferred, LOCALES, sep="-") or DEFAULT_LOCALE


def locale_of(scope: Scope) -> str:
    """The locale a request speaks: the session's choice, else the browser's languages."""
    chosen = scope.get("session", {}).get(SESSION_KEY)
    if chosen in LOCALE_NAMES:
        return chosen
    return negotiate(Headers(scope=scope).get("accept-language", ""))


class LocaleMiddleware:
    """Sets the request's locale for everything it runs (inside SessionMiddleware, to read the choice)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        token = _current.set(locale_of(scope))
        try:
            await self.app(scope, receive, send)
        finally:
            _current.reset(token)


# --------------------------------------------------------------------------- messages


@functools.cache
def translations(locale: str) -> _gettext.NullTranslations:
    """The compiled catalog of a locale, read once per process (English falls back to the msgids)."""
    from shop.catalogs import compile_stale  # here: shop.catalogs imports this module

    compile_stale()  # a fresh clone, or a .po edited since: build the .mo before it is read and kept
    return Translations.load(LOCALE_DIR, [locale], DOMAIN)


def gettext(message: str) -> str:
    return translations(_current.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(_current.get()).ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    return translations(_current.get()).pgettext(context, message)


_ = gettext


def install_in(env) -> None:
    """Give a Jinja environment ``_``/``gettext``/``ngettext``/``pgettext`` and ``{% trans %}`` in
    the current language. Newstyle: _("Order %(number)s", number=...) escapes its values; the
    callables read the context's locale, so one environment serves every language."""
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(gettext, ngettext, newstyle=True, pgettext=pgettext)
    # The same newstyle behaviour in one call: Jinja's own callables pass through the template
    # context three times per string, which made a page's translations cost more than its data.
    env.globals.update(_=_template_gettext, gettext=_template_gettext, ngettext=_template_ngettext,
                       pgettext=_template_pgettext)
    env.policies["ext.i18n.trimmed"] = True  # {% trans %} blocks as one line, as babel.cfg extracts them


def _formatted(context, text: str, variables: dict) -> str:
    # Newstyle: always a format string ("%%" is "%"), its values escaped where the template escapes.
    return (Markup(text) if context.eval_ctx.autoescape else text) % variables


@pass_context
def _template_gettext(context, message: str, **variables) -> str:
    return _formatted(context, gettext(message), variables)


@pass_context
def _template_ngettext(context, singular: str, plural: str, num: int, **variables) -> str:
    variables.setdefault("num", num)
    return _formatted(context, ngettext(singular, plural, num), variables)


@pass_context
def _template_pgettext(context, message_context: str, message: str, **variables) -> str:
    variables.setdefault("context", message_context)
    return _formatted(context, pgettext(message_context, message), variables)


def N_(message: str) -> str:
    """Marks a string for the catalog where it is defined; it is translated where it is shown."""
    return message


# --------------------------------------------------------------------------- names, dates


@functools.cache
def _babel_locale(locale: str) -> Locale:
    return Locale.parse(locale)


def country_name(code: str) -> str:
    """A country's name in the current language ("DE": "Germany", "Alemania", "Deutschland", "Tyskland")."""
    return _babel_locale(_current.get()).territories.get(code.upper(), code)


_DECIMAL_TEXT = re.compile(r"^-?\d+\.\d+$")


def format_number(value: object) -> str:
    """A decimal as text (a provider's report cell: "19.45000") as the locale writes it ("19,45"),
    read as a Decimal, never a float; anything else (ids, words, whole numbers) unchanged."""
    text = str(value)
    if not _DECIMAL_TEXT.match(text):
        return text
    return numbers.format_decimal(Decimal(text), "#,##0.00###", locale=_babel_locale(_current.get()))


def format_datetime(value: datetime) -> str:
    """A date and a 24-hour time as people of the current locale write them ("Dec 1, 2026, 10:00",
    "1 dic 2026, 10:00"). Times here are naive UTC and shown in UTC (the pages say so)."""
    where = _babel_locale(_current.get())
    return (dates.get_datetime_format("medium", where).replace("{1}", format_date(value))
            .replace("{0}", format_time(value, "Hm")))


def format_date(value: date | datetime, format: str = "medium") -> str:
    return dates.format_date(value, format, locale=_babel_locale(_current.get()))


def format_time(value: datetime, skeleton: str = "Hms") -> str:
    """A 24-hour time in the locale's own form ("10:00:05"), of a naive UTC datetime."""
    return dates.format_skeleton(skeleton, value, tzinfo=UTC, locale=_babel_locale(_current.get()))


# --------------------------------------------------------------------------- the switcher


async def choose_locale(request: Request) -> Response:
    """The header's language buttons post here; the choice is kept in the session. No JS needed."""
    from shop.security import checked_form  # here: shop.security imports this module for its messages

    form = await checked_form(request)
    locale = str(form.get("locale", ""))
    if locale in LOCALE_NAMES:
        request.session[SESSION_KEY] = locale
    target = str(form.get("next", "/"))
    if not target.startswith("/") or target.startswith("//"):  # only back to this shop
        target = "/"
    return RedirectResponse(target, status_code=303)


routes = [Route("/locale", choose_locale, methods=["POST"], name="choose_locale")]

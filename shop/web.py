"""Page rendering shared by every page family: templates, flash messages, htmx detection."""

from __future__ import annotations

import re
from pathlib import Path

import jinja2
import sqlalchemy as sa
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.templating import Jinja2Templates

from shop import i18n
from shop.i18n import N_
from shop.money import Money
from shop.payments.contract import StartContext
from shop.security import csrf_token

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES_DIR = ROOT / "templates"
STATIC_DIR = ROOT / "static"


# Statuses as people read them; the code and the CSS keep the plain names.
ORDER_STATUS_LABELS = {"awaiting_payment": N_("awaiting payment"), "authorized": N_("authorized"), "paid": N_("paid"),
                       "refunded": N_("refunded"), "expired": N_("expired"), "cancelled": N_("cancelled")}
PAYMENT_STATUS_LABELS = {"created": N_("created"), "pending": N_("pending"), "authorized": N_("authorized"),
                         "paid": N_("paid"), "failed": N_("failed"), "cancelled": N_("cancelled"),
                         "expired": N_("expired"), "refunded": N_("refunded")}


def make_templates(plugin_dirs: dict[str, Path]) -> Jinja2Templates:
    """The store's templates, and each plugin's own under its id ("seqr/panel.html")."""
    loader = jinja2.ChoiceLoader([
        jinja2.FileSystemLoader(TEMPLATES_DIR),
        jinja2.PrefixLoader({pid: jinja2.FileSystemLoader(d) for pid, d in plugin_dirs.items()}),
    ])
    env = jinja2.Environment(loader=loader, autoescape=jinja2.select_autoescape(default=True),
                             auto_reload=False, trim_blocks=True, lstrip_blocks=True)
    i18n.install_in(env)
    env.filters["money"] = lambda value, currency="EUR": (
        value.display() if isinstance(value, Money) else Money(int(value), currency).display())
    env.filters["amount"] = lambda minor, currency="EUR": Money(int(minor), currency).editable()
    env.filters["order_status"] = lambda status: i18n.gettext(ORDER_STATUS_LABELS.get(status, status))
    env.filters["payment_status"] = lambda status: i18n.gettext(PAYMENT_STATUS_LABELS.get(status, status))
    env.filters["number"] = i18n.format_number
    env.filters["datetime"] = i18n.format_datetime
    env.filters["date"] = i18n.format_date
    env.filters["time"] = i18n.format_time
    env.filters["country"] = i18n.country_name
    env.globals["csrf_token"] = csrf_token
    env.globals["current_locale"] = i18n.current_locale
    env.globals["locale_names"] = i18n.LOCALE_NAMES
    return Jinja2Templates(env=env)


CART_COUNT_KEY = "count"


async def cart_count(request: Request) -> int:
    """How many items the shopper's cart holds, for the header on every page. Kept in the session
    by every request that reads or changes the cart (``remember_cart_count``), so that a page
    which shows only the header's count asks no database for it."""
    session = request.session if "session" in request.scope else {}
    if not session.get("cart"):
        return 0
    if CART_COUNT_KEY not in session:  # a session from before counts were kept
        return await recount_cart(request)
    return session[CART_COUNT_KEY]


async def recount_cart(request: Request) -> int:
    """The cart's size read from the database and remembered: for pages shown after the cart may
    have changed outside this shopper's requests (a payment confirmed in a callback empties it)."""
    cart = request.session.get("cart") if "session" in request.scope else None
    count = await request.app.state.db.run(_count_in_cart, request.app.state.engine, cart) if cart else 0
    remember_cart_count(request, count)
    return count


def remember_cart_count(request: Request, count: int) -> None:
    if "session" in request.scope and request.session.get(CART_COUNT_KEY) != count:
        request.session[CART_COUNT_KEY] = count


def forget_cart_count(request: Request) -> None:
    """The cart changed: the next page counts it again (a page that shows the cart counts it anyway)."""
    request.session.pop(CART_COUNT_KEY, None)


def _count_in_cart(engine, cart: str) -> int:
    # A plain Core query: the ORM session would triple its cost.
    with engine.connect() as connection:
        return connection.execute(_CART_COUNT, {"cart": cart}).scalar() or 0


_CART_COUNT = sa.text("SELECT SUM(quantity) FROM cartline WHERE cart_id = :cart")


async def render(request: Request, name: str, context: dict | None = None, status_code: int = 200) -> HTMLResponse:
    context = dict(context or {})
    context.setdefault("flashes", pop_flashes(request))
    if "count" in context:  # the page counted the cart itself: the header keeps that count
        remember_cart_count(request, context["count"])
    else:
        context["count"] = await cart_count(request)
    return request.app.state.templates.TemplateResponse(request, name, context, status_code=status_code)


def flash(request: Request, message: str, kind: str = "info") -> None:
    request.session.setdefault("flashes", []).append([kind, message])


def pop_flashes(request: Request) -> list[list[str]]:
    if "session" not in request.scope or "flashes" not in request.session:
        return []
    return request.session.pop("flashes")


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


_MOBILE = re.compile(r"Mobile|Android|iPhone|iPad", re.IGNORECASE)


def start_context(request: Request) -> StartContext:
    """What a plugin may know of the shopper's device when it starts a payment."""
    agent = request.headers.get("user-agent", "")
    return StartContext(user_agent=agent, ip_address=request.client.host if request.client else "",
                        is_mobile=bool(_MOBILE.search(agent)), locale=i18n.current_locale())

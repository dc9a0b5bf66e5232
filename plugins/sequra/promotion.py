"""The teasers as HTML on the shop's pages, in the shopper's language (the shop's locale), and
the routes that load or update them with htmx.

Product page: the teaser follows the quantity field (price x quantity, priced by the shop).
Cart: rendered with the cart body, so every change of quantity or discount renders it again.
Listing: a short line per product card. A teaser not cached yet is a placeholder that loads
from ``/pay/sequra/teaser`` after the page; the amount there is signed by the shop, so nobody
makes the shop ask SeQura about amounts it never showed."""

from __future__ import annotations

import functools
import hashlib
import hmac
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlencode

import jinja2
from babel.numbers import format_decimal
from markupsafe import Markup
from sqlmodel import select
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from shop.i18n import current_locale, install_in
from shop.models import Product
from shop.money import Money

from .teasers import Teaser, Teasers

PLACES = ("product", "cart", "listing")
PREFIX = "/pay/sequra"
_templates = jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
                                autoescape=True, trim_blocks=True, lstrip_blocks=True)
install_in(_templates)


def percent_text(hundredths: int) -> str:
    """An APR in hundredths of a percent (1234) as the shopper's locale writes it: "12.34 %", "12,34 %"."""
    return f"{format_decimal(Decimal(hundredths) / 100, format='0.00', locale=current_locale())} %"


def render(teaser: Teaser | None, place: str, key: str) -> Markup:
    """The teaser's HTML, "" where there is none. ``key`` makes the dialog's id unique on the page."""
    if teaser is None:
        return Markup("")
    return _rendered(teaser, place, key, current_locale())


# A cart or listing shows the same few teasers again and again: rendered once per locale.
@functools.lru_cache(maxsize=1024)
def _rendered(teaser: Teaser, place: str, key: str, lang: str) -> Markup:
    return Markup(_templates.get_template("teaser.html").render(
        teaser=teaser, place=place, key=key, lang=lang, money=lambda cents: Money(cents, "EUR").display(),
        percent=percent_text, script=f"{PREFIX}/teaser.js"))


class Promotion:
    """Where the merchant wants teasers, and the HTML for each place."""

    def __init__(self, teasers: Teasers, places: tuple[str, ...], secret: str, wait: float) -> None:
        self.teasers = teasers
        self.places = places
        self.secret = secret
        self.wait = wait

    def sign(self, minor: int) -> str:
        return hmac.new(self.secret.encode(), f"sequra-teaser:{minor}".encode(), hashlib.sha256).hexdigest()[:32]

    def snippet(self, amount: Money, place: str, key: str, request: Request | None) -> Markup:
        """The cached teaser, or a placeholder that loads it after the page."""
        if place not in self.places or amount.minor <= 0:
            return Markup("")
        known, teaser = self.teasers.peek(amount)
        if known:
            return render(teaser, place, key)
        query = urlencode({"amount": amount.minor, "sig": self.sign(amount.minor), "place": place, "key": key})
        return Markup(f'<span class="sequra-loading" hx-get="{PREFIX}/teaser?{query}" hx-trigger="load" '
                      'hx-swap="outerHTML"></span>')

    def product_block(self, product, request: Request | None) -> Markup:
        """The product page's teaser, reloaded when the quantity changes."""
        if "product" not in self.places:
            return Markup("")
        inner = self.snippet(Money(product.price_cents, "EUR"), "product", product.sku, request)
        return Markup(f'<div class="sequra-promo" id="sequra-promo" hx-get="{PREFIX}/teaser/product/{product.sku}" '
                      'hx-trigger="input changed delay:300ms from:input[name=quantity]" '
                      'hx-include="input[name=quantity]">') + inner + Markup("</div>")

    # ------------------------------------------------------------------ routes

    async def amount_teaser(self, request: Request) -> Response:
        params = request.query_params
        raw, place, key = params.get("amount", ""), params.get("place", ""), params.get("key", "")[:40]
        if not raw.isdigit() or place not in PLACES or not hmac.compare_digest(params.get("sig", ""),
                                                                                self.sign(int(raw))):
            return HTMLResponse("", status_code=400)
        teaser = await self.teasers.wait_for(Money(int(raw), "EUR"), self.wait)
        return _fragment(render(teaser, place, "".join(c for c in key if c.isalnum() or c in "-_")))

    async def product_teaser(self, request: Request) -> Response:
        """Price x quantity, priced here: the browser sends only the quantity."""
        raw = request.query_params.get("quantity", "1")
        quantity = int(raw) if raw.isdigit() and 0 < int(raw) <= 99 else 1
        product = await request.app.state.db.run(_product, request.app.state.db, request.path_params["sku"])
        if product is None or "product" not in self.places:
            return _fragment(Markup(""))
        teaser = await self.teasers.wait_for(Money(product.price_cents * quantity, "EUR"), self.wait)
        return _fragment(render(teaser, "product", product.sku))

    async def script(self, request: Request) -> Response:
        return Response((Path(__file__).parent / "templates" / "teaser.js").read_text(),
                        media_type="application/javascript", headers={"Cache-Control": "max-age=300"})

    def routes(self) -> list[Route]:
        return [Route("/teaser", self.amount_teaser, methods=["GET"]),
                Route("/teaser/product/{sku}", self.product_teaser, methods=["GET"]),
                Route("/teaser.js", self.script, methods=["GET"])]


def _fragment(html: Markup) -> Response:
    return HTMLResponse(str(html), headers={"Cache-Control": "no-store"})


def _product(db, sku: str):
    with db() as session:
        return session.exec(select(Product).where(Product.sku == sku)).first()

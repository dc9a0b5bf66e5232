"""The teasers as HTML on the shop's pages, in the shopper's language (English, or Spanish for a
browser that asks for it first), and the routes that load or update them with htmx.

Product page: the teaser follows the quantity field (price x quantity, priced by the shop).
Cart: rendered with the cart body, so every change of quantity or discount renders it again.
Listing: a short line per product card. A teaser not cached yet is a placeholder that loads
from ``/pay/sequra/teaser`` after the page; the amount there is signed by the shop, so nobody
makes the shop ask SeQura about amounts it never showed."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path
from urllib.parse import urlencode

import jinja2
from markupsafe import Markup
from sqlmodel import select
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from shop.models import Product
from shop.money import Money

from .teasers import Teaser, Teasers

PLACES = ("product", "cart", "listing")
PREFIX = "/pay/sequra"
_templates = jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
                                autoescape=True, trim_blocks=True, lstrip_blocks=True)
WORDS = {
    "en": {"from": "Or pay in instalments from {per}/month with SeQura", "short": "From {per}/month with SeQura",
           "below": "Instalments with SeQura from {minimum}", "more": "More info",
           "title": "Pay in instalments with SeQura", "for": "For a purchase of {amount}:",
           "count": "Instalments", "per": "Per month", "fee": "Fee per month", "total": "Total you pay",
           "apr": "APR", "close": "Close",
           "note": "The first instalment is paid by card when you buy; SeQura decides when you check out."},
    "es": {"from": "O paga a plazos desde {per}/mes con SeQura", "short": "Desde {per}/mes con SeQura",
           "below": "Fracciona tu pago con SeQura a partir de {minimum}", "more": "Más información",
           "title": "Paga a plazos con SeQura", "for": "Para una compra de {amount}:",
           "count": "Plazos", "per": "Cuota mensual", "fee": "Comisión mensual", "total": "Total a pagar",
           "apr": "TAE", "close": "Cerrar",
           "note": "La primera cuota se paga con tarjeta al comprar; SeQura decide al finalizar la compra."},
}


def language(request: Request | None) -> str:
    """The browser's first choice among the teaser's languages; English otherwise."""
    header = request.headers.get("accept-language", "") if request is not None else ""
    first = header.split(",")[0].split(";")[0].strip().lower()
    return "es" if first.startswith("es") else "en"


def money_text(cents: int, lang: str) -> str:
    if lang == "es":
        whole, rest = divmod(abs(cents), 100)
        return f"{'-' if cents < 0 else ''}{whole:,}".replace(",", ".") + f",{rest:02d} €"
    return Money(cents, "EUR").display()


def percent_text(hundredths: int, lang: str) -> str:
    text = f"{hundredths // 100}{',' if lang == 'es' else '.'}{hundredths % 100:02d} %"
    return text


def render(teaser: Teaser | None, place: str, key: str, lang: str) -> Markup:
    """The teaser's HTML, "" where there is none. ``key`` makes the dialog's id unique on the page."""
    if teaser is None:
        return Markup("")
    words = WORDS[lang]
    return Markup(_templates.get_template("teaser.html").render(
        teaser=teaser, place=place, key=key, words=words, lang=lang, money=lambda cents: money_text(cents, lang),
        percent=lambda value: percent_text(value, lang), script=f"{PREFIX}/teaser.js"))


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
            return render(teaser, place, key, language(request))
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
        return _fragment(render(teaser, place, "".join(c for c in key if c.isalnum() or c in "-_"),
                                language(request)))

    async def product_teaser(self, request: Request) -> Response:
        """Price x quantity, priced here: the browser sends only the quantity."""
        raw = request.query_params.get("quantity", "1")
        quantity = int(raw) if raw.isdigit() and 0 < int(raw) <= 99 else 1
        product = await request.app.state.db.run(_product, request.app.state.db, request.path_params["sku"])
        if product is None or "product" not in self.places:
            return _fragment(Markup(""))
        teaser = await self.teasers.wait_for(Money(product.price_cents * quantity, "EUR"), self.wait)
        return _fragment(render(teaser, "product", product.sku, language(request)))

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

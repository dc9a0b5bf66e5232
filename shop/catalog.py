"""The catalog: the product list and each product's page."""

from __future__ import annotations

import asyncio
import math
import time

from sqlmodel import select
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shop.i18n import gettext as _
from shop.models import Product
from shop.web import render

LISTING_LIFETIME_SECONDS = 1.0


class Listing:
    """The product list as the catalog shows it, read from the database at most once a second
    per process, by one request while the others wait for its answer.

    Products change only by seeding; their stock moves with every order, in any worker. So a
    listing may show a product in stock up to a second after its last unit sold: the checkout,
    which takes stock with a conditional UPDATE, is where "in stock" is decided."""

    def __init__(self, db, lifetime: float = LISTING_LIFETIME_SECONDS) -> None:
        self._db = db
        self._lifetime = lifetime
        self._rows: list = []
        self._read_at = -math.inf
        self.version = 0  # counts the reads: pages made from the listing are kept while it holds
        self._reading = asyncio.Lock()

    async def products(self) -> list:
        if not self._fresh():
            async with self._reading:
                if not self._fresh():  # another request may have read it while this one waited
                    self._rows = await self._db.run(_products, self._db.engine)
                    self._read_at = time.monotonic()
                    self.version += 1
        return self._rows

    def forget(self) -> None:
        """Read again on the next view (this process changed the products: a seed, a reset)."""
        self._read_at = -math.inf

    def _fresh(self) -> bool:
        return time.monotonic() - self._read_at < self._lifetime


async def product_list(request: Request) -> Response:
    listing = request.app.state.listing
    products = await listing.products()

    async def context() -> dict:
        # Plugins may add a line to each product's card (SeQura's "from €x/month").
        extras = {product.sku: await plugin_snippets(request, "listing_extra", product) for product in products}
        return {"products": products, "extras": extras}

    # Rendered again with each read of the listing (a second at most): stock and teasers stay fresh.
    return await request.app.state.catalog_pages.serve(request, listing.version, context)


def _products(engine) -> list:
    # Rows, not ORM objects: the busiest page reads plain columns and needs no session.
    with engine.connect() as connection:
        return connection.execute(select(Product.__table__).order_by(Product.id)).all()


async def product_page(request: Request) -> Response:
    db = request.app.state.db
    product = await db.run(_product_by_sku, db, request.path_params["sku"])
    if product is None:
        raise HTTPException(404, _("There is no such product."))
    # Plugins may show something on a product page (SEQR's Instant Checkout code, SeQura's teaser).
    extras = await plugin_snippets(request, "product_extra", product)
    return await render(request, "product.html", {"product": product, "extras": extras})


async def plugin_snippets(request: Request, hook_name: str, subject) -> list[str]:
    """What each plugin's snippet hook (declared on CheckoutPlugin) shows for ``subject`` on this page."""
    snippets = [await getattr(plugin, hook_name)(subject, request) for plugin in request.app.state.plugins]
    return [snippet for snippet in snippets if snippet]


def _product_by_sku(db, sku: str) -> Product | None:
    with db() as session:
        return session.exec(select(Product).where(Product.sku == sku)).first()


routes = [
    Route("/", product_list, name="home"),
    Route("/products/{sku}", product_page, name="product"),
]

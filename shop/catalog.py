"""The catalog: the product list and each product's page."""

from __future__ import annotations

from sqlmodel import select
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shop.models import Product
from shop.web import render


async def product_list(request: Request) -> Response:
    products = await request.app.state.db.run(_products, request.app.state.engine)
    # Plugins may add a line to each product's card (SeQura's "from €x/month").
    extras = {product.sku: await plugin_snippets(request, "listing_extra", product) for product in products}
    return await render(request, "catalog.html", {"products": products, "extras": extras})


def _products(engine) -> list:
    # Rows, not ORM objects: the busiest page reads plain columns and needs no session.
    with engine.connect() as connection:
        return connection.execute(select(Product.__table__).order_by(Product.id)).all()


async def product_page(request: Request) -> Response:
    db = request.app.state.db
    product = await db.run(_product_by_sku, db, request.path_params["sku"])
    if product is None:
        raise HTTPException(404, "There is no such product.")
    # Plugins may show something on a product page (SEQR's Instant Checkout code, SeQura's teaser).
    extras = await plugin_snippets(request, "product_extra", product)
    return await render(request, "product.html", {"product": product, "extras": extras})


async def plugin_snippets(request: Request, hook_name: str, subject) -> list[str]:
    """What each plugin's snippet hook (see PluginBase) shows for ``subject`` on this page."""
    snippets = []
    for plugin in request.app.state.plugins:
        hook = getattr(plugin, hook_name, None)
        if hook is not None:
            snippets.append(await hook(subject, request))
    return [snippet for snippet in snippets if snippet]


def _product_by_sku(db, sku: str) -> Product | None:
    with db() as session:
        return session.exec(select(Product).where(Product.sku == sku)).first()


routes = [
    Route("/", product_list, name="home"),
    Route("/products/{sku}", product_page, name="product"),
]

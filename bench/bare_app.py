"""The baseline for bench/pages.py: a bare Starlette + Jinja2 page listing the same products,
with no database, session, CSRF or security headers."""

import jinja2
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

from shop.seed import DEMO_PRODUCTS

TEMPLATE = jinja2.Environment(autoescape=True).from_string("""<!doctype html><html lang="en"><head>
<meta charset="utf-8"><title>Shop</title><link rel="stylesheet" href="/static/site.css"></head><body>
<h1>Things for the desk and the road</h1><ul>{% for p in products %}<li><a href="/products/{{ p.sku }}">
<img src="/static/products/{{ p.sku }}.svg" alt=""></a><h2>{{ p.name }}</h2><p>€{{ '%.2f'|format(p.price_cents / 100) }}</p>
<form method="post" action="/cart/add"><input type="hidden" name="sku" value="{{ p.sku }}">
<button>Add to cart</button></form></li>{% endfor %}</ul></body></html>""")


async def page(request):
    return HTMLResponse(TEMPLATE.render(products=DEMO_PRODUCTS))


app = Starlette(routes=[Route("/", page), Route("/health", page)])

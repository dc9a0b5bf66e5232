"""The cart: bound to the signed session cookie, stored in the database, priced on the server."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import Row, bindparam
from sqlmodel import Session, select
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from shop.catalog import plugin_snippets
from shop.i18n import gettext as _
from shop.models import Cart, CartLine, Product, utcnow
from shop.payments.contract import LineKind, OrderLine
from shop.pricing import basket_lines, find_discount, total_of
from shop.security import checked_form
from shop.web import flash, forget_cart_count, is_htmx, remember_cart_count, render

MAX_QUANTITY = 99


class CartError(HTTPException):
    """Bad input about the cart: shown to the shopper, changes nothing."""

    def __init__(self, message: str, status_code: int = 400) -> None:
        super().__init__(status_code, message)


def cart_id(request: Request, *, create: bool = False) -> str | None:
    found = request.session.get("cart")
    if found or not create:
        return found
    new_id = secrets.token_hex(16)
    with request.app.state.db() as session:
        session.add(Cart(id=new_id))
        session.commit()
    request.session["cart"] = new_id
    remember_cart_count(request, 0)
    return new_id


def items_of(session: Session, cart: str | None) -> list[tuple[Product, int]]:
    if not cart:
        return []
    rows = session.exec(select(Product, CartLine.quantity).join(CartLine, CartLine.product_id == Product.id)
                        .where(CartLine.cart_id == cart).order_by(CartLine.id)).all()
    return [(product, quantity) for product, quantity in rows]


# Built once: the ledger fingerprints the cart on every move to paid.
_FINGERPRINTED = (select(Product.sku, CartLine.quantity, Product.price_cents)
                  .join(CartLine, CartLine.product_id == Product.id).where(CartLine.cart_id == bindparam("cart")))
_DISCOUNT_CODE = select(Cart.discount_code).where(Cart.id == bindparam("cart"))
# What the cart page and the checkout show: product columns as plain rows, no ORM session.
# One row per line (one with no product for an empty cart), each with the cart's discount code.
_SHOWN_BASKET = (select(Cart.discount_code, Product.__table__, CartLine.quantity).select_from(Cart)
                 .outerjoin(CartLine, CartLine.cart_id == Cart.id).outerjoin(Product, Product.id == CartLine.product_id)
                 .where(Cart.id == bindparam("cart")).order_by(CartLine.id))


def shown_basket(engine, cart: str | None) -> tuple[list[tuple[Row, int]], str]:
    """(items, discount code) of a cart for showing it: rows that read like Products."""
    if not cart:
        return [], ""
    with engine.connect() as connection:
        rows = connection.execute(_SHOWN_BASKET, {"cart": cart}).all()
    code = rows[0].discount_code if rows else ""
    return [(row, row.quantity) for row in rows if row.sku is not None], code or ""


def cart_hash_of(session: Session, cart: str) -> str:
    """A fingerprint of what is in a cart: changes when any product, quantity or code does."""
    lines = session.exec(_FINGERPRINTED, params={"cart": cart}).all()
    code = session.exec(_DISCOUNT_CODE, params={"cart": cart}).first()
    parts = sorted(f"{sku}:{quantity}:{price}" for sku, quantity, price in lines)
    parts.append(f"code:{code or ''}")
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def priced_lines(engine, cart: str | None, settings) -> tuple[OrderLine, ...]:
    items, code = shown_basket(engine, cart)
    return basket_lines(items, code, settings.shipping_fee_cents, settings.free_shipping_from_cents)


def parse_quantity(raw: object, *, allow_zero: bool = False) -> int:
    try:
        quantity = int(str(raw).strip())
    except ValueError:
        raise CartError(_("Quantity must be a whole number.")) from None
    low = 0 if allow_zero else 1
    if not low <= quantity <= MAX_QUANTITY:
        raise CartError(_("Quantity must be between %(low)s and %(high)s.") % {"low": low, "high": MAX_QUANTITY})
    return quantity


def product_by_sku(session: Session, sku: object) -> Product:
    product = session.exec(select(Product).where(Product.sku == str(sku or ""))).first()
    if product is None:
        raise CartError(_("That product does not exist."), 404)
    return product


def _touch(session: Session, cart: str) -> None:
    row = session.get(Cart, cart)
    row.updated_at = utcnow()
    session.add(row)


def add_to_cart(session: Session, cart: str, product: Product, quantity: int) -> None:
    line = session.exec(select(CartLine).where(CartLine.cart_id == cart, CartLine.product_id == product.id)).first()
    new_quantity = quantity + (line.quantity if line else 0)
    if new_quantity > MAX_QUANTITY:
        raise CartError(_("At most %(count)s of one product fit in a cart.") % {"count": MAX_QUANTITY})
    if new_quantity > product.stock:
        raise CartError(_("Only %(count)s of %(product)s in stock.") % {"count": product.stock, "product": product.name},
                        409)
    line = line or CartLine(cart_id=cart, product_id=product.id, quantity=0)
    line.quantity = new_quantity
    session.add(line)
    _touch(session, cart)


def set_quantity(session: Session, cart: str, product: Product, quantity: int) -> None:
    line = session.exec(select(CartLine).where(CartLine.cart_id == cart, CartLine.product_id == product.id)).first()
    if line is None:
        raise CartError(_("That product is not in your cart."), 404)
    if quantity == 0:
        session.delete(line)
    elif quantity > product.stock:
        raise CartError(_("Only %(count)s of %(product)s in stock.") % {"count": product.stock, "product": product.name},
                        409)
    else:
        line.quantity = quantity
        session.add(line)
    _touch(session, cart)


# --------------------------------------------------------------------------- pages
# The handlers gather their database work into plain functions that run in a database thread.


def cart_context(request: Request) -> dict:
    settings = request.app.state.settings
    items, code = shown_basket(request.app.state.engine, cart_id(request))
    lines = basket_lines(items, code, settings.shipping_fee_cents, settings.free_shipping_from_cents)
    return {"items": items, "lines": lines, "total": total_of(lines, settings.currency),
            "extra_lines": [line for line in lines if line.kind != LineKind.PRODUCT],
            "count": sum(q for _, q in items), "discount_code": code}


async def show_cart(request: Request) -> Response:
    if request.query_params.get("count"):  # the header's item count, refreshed after an htmx change
        return await render(request, "cart_count.html")
    context = await request.app.state.db.run(cart_context, request)
    extras = await _extras(request, context)
    shows = (tuple(context["items"]), context["discount_code"], tuple(extras))

    async def page_context() -> dict:
        return {**context, "extras": extras}

    return await request.app.state.cart_pages.serve(request, shows, page_context, count=context["count"])


async def _extras(request: Request, context: dict) -> list[str]:
    """Plugins' snippets under the total (SeQura's teaser), rendered again with every change."""
    return await plugin_snippets(request, "cart_extra", context["total"]) if context["items"] else []


async def _after_change(request: Request, message: str = "", fragment: str = "cart_body.html") -> Response:
    if is_htmx(request):
        context = await request.app.state.db.run(cart_context, request)
        # The change went through: an error an earlier attempt left in #cart-message is stale now.
        response = await render(request, fragment, {**context, "message": message, "clear_errors": True,
                                                    "extras": await _extras(request, context)})
        response.headers["HX-Trigger"] = "cart-changed"
        return response
    if message:
        flash(request, message)
    return RedirectResponse(request.headers.get("x-return-to") or "/cart", status_code=303)


async def _cart_error(request: Request, exc: CartError) -> Response:
    if is_htmx(request):
        response = await render(request, "cart_message.html", {"error": exc.detail}, status_code=exc.status_code)
        response.headers["HX-Retarget"] = "#cart-message"
        response.headers["HX-Reswap"] = "innerHTML"
        return response
    flash(request, exc.detail, "error")
    return RedirectResponse("/cart", status_code=303)


def _add(request: Request, sku: object, quantity: int) -> Product:
    cart = cart_id(request, create=True)  # its own transaction, before this one reads
    with request.app.state.db() as session:
        product = product_by_sku(session, sku)
        add_to_cart(session, cart, product, quantity)
        session.commit()
    return product


async def add(request: Request) -> Response:
    form = await checked_form(request)
    try:
        quantity = parse_quantity(form.get("quantity", "1"))
        product = await request.app.state.db.write(_add, request, form.get("sku"), quantity)
    except CartError as exc:
        return await _cart_error(request, exc)
    forget_cart_count(request)
    message = _("Added %(quantity)s × %(product)s to your cart.") % {"quantity": quantity, "product": product.name}
    if is_htmx(request):
        context = await request.app.state.db.run(cart_context, request)
        response = await render(request, "cart_badge.html", {**context, "message": message})
        response.headers["HX-Trigger"] = "cart-changed"
        return response
    flash(request, message)
    return RedirectResponse("/cart", status_code=303)


def _set(db, cart: str, sku: object, quantity: int) -> Product:
    with db() as session:
        product = product_by_sku(session, sku)
        set_quantity(session, cart, product, quantity)
        session.commit()
    return product


async def _change(request: Request, *, remove: bool) -> Response:
    form = await checked_form(request)
    cart = cart_id(request)
    try:
        if not cart:
            raise CartError(_("Your cart is empty."), 404)
        quantity = 0 if remove else parse_quantity(form.get("quantity"), allow_zero=True)
        product = await request.app.state.db.write(_set, request.app.state.db, cart, form.get("sku"), quantity)
    except CartError as exc:
        return await _cart_error(request, exc)
    forget_cart_count(request)
    message = _("Removed %(product)s.") % {"product": product.name} if quantity == 0 else _("Cart updated.")
    return await _after_change(request, message)


async def update(request: Request) -> Response:
    return await _change(request, remove=False)


async def remove(request: Request) -> Response:
    return await _change(request, remove=True)


def _apply_code(request: Request, code: str) -> None:
    cart = cart_id(request, create=True)
    with request.app.state.db() as session:
        row = session.get(Cart, cart)
        row.discount_code = code
        session.add(row)
        session.commit()


async def apply_code(request: Request) -> Response:
    form = await checked_form(request)
    code = str(form.get("code", "")).strip().upper()
    try:
        if code and find_discount(code) is None:
            raise CartError(_("The code %(code)s is not valid.") % {"code": code}, 422)
        await request.app.state.db.write(_apply_code, request, code)
    except CartError as exc:
        return await _cart_error(request, exc)
    return await _after_change(request, _("Code %(code)s applied.") % {"code": code} if code else _("Code removed."))


routes = [
    Route("/cart", show_cart, name="cart"),
    Route("/cart/add", add, methods=["POST"], name="cart_add"),
    Route("/cart/update", update, methods=["POST"], name="cart_update"),
    Route("/cart/remove", remove, methods=["POST"], name="cart_remove"),
    Route("/cart/code", apply_code, methods=["POST"], name="cart_code"),
]

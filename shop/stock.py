"""Stock held by orders: taken off the shelf when an order is placed, put back when it
expires or is given up, taken again if money arrives for it after all.

Every move is one conditional UPDATE in the database, never a read-modify-write in Python:
several workers sell from the same shelf, and only the database sees them all. Products are
always updated in the order of their ids, so that two orders may wait for each other but never deadlock."""

from __future__ import annotations

from sqlalchemy import bindparam, func, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, select

from shop.models import Order, OrderLine, Product

_product = Product.__table__
_order = Order.__table__

# Only if there is enough: a holder that would take the shelf below zero changes nothing.
_TAKE_IF_ENOUGH = (update(_product)
                   .where(_product.c.id == bindparam("product_id"), _product.c.stock >= bindparam("quantity"))
                   .values(stock=_product.c.stock - bindparam("quantity")))
# Money arrived for goods already given back: they are taken whatever is left (oversold is flagged).
_TAKE_ANYWAY = (update(_product).where(_product.c.id == bindparam("product_id"))
                .values(stock=_product.c.stock - bindparam("quantity")).returning(_product.c.sku, _product.c.stock))
_PUT_BACK = (update(_product).where(_product.c.id == bindparam("product_id"))
             .values(stock=_product.c.stock + bindparam("quantity")))
_STOCK_OF = select(Product.stock).where(Product.id == bindparam("product_id"))
# Claims on an order's flag: of two workers releasing (or taking) the same order, one wins.
_MARK_RELEASED = update(_order).where(_order.c.id == bindparam("order_id"), _order.c.stock_held).values(
    stock_held=False)
_MARK_HELD = update(_order).where(_order.c.id == bindparam("order_id"), ~_order.c.stock_held).values(stock_held=True)
_ORDER_QUANTITIES = (select(OrderLine.product_id, func.sum(OrderLine.quantity))
                     .where(OrderLine.order_id == bindparam("order_id"), OrderLine.product_id.is_not(None))
                     .group_by(OrderLine.product_id).order_by(OrderLine.product_id))


def hold(session: Session, quantities: dict[int, int]) -> int | None:
    """Take products off the shelf for a new order, each only if enough is left.

    Returns None when all were taken, or the id of the first product short of stock: then some
    others may have been taken in this transaction already, and the caller must roll it back."""
    for product_id, quantity in sorted(quantities.items()):
        taken = session.execute(_TAKE_IF_ENOUGH, {"product_id": product_id, "quantity": quantity})
        if taken.rowcount != 1:
            return product_id
    return None


def left(session: Session, product_id: int) -> int:
    """How many the shelf has now, as this transaction sees it."""
    return session.exec(_STOCK_OF, params={"product_id": product_id}).one()


def release(session: Session, order: Order) -> None:
    """Put an order's products back on the shelf (once, however many workers try)."""
    if not order.stock_held:
        return
    claimed = session.execute(_MARK_RELEASED, {"order_id": order.id}).rowcount == 1
    set_committed_value(order, "stock_held", False)  # it is, in the database, whoever flipped it
    if not claimed:
        return
    for product_id, quantity in _order_quantities(session, order):
        session.execute(_PUT_BACK, {"product_id": product_id, "quantity": quantity})


def take(session: Session, order: Order) -> list[str]:
    """Take an order's products off the shelf again (once); returns the SKUs that went below zero."""
    if order.stock_held:
        return []
    claimed = session.execute(_MARK_HELD, {"order_id": order.id}).rowcount == 1
    set_committed_value(order, "stock_held", True)
    if not claimed:
        return []
    oversold = []
    for product_id, quantity in _order_quantities(session, order):
        sku, stock = session.execute(_TAKE_ANYWAY, {"product_id": product_id, "quantity": quantity}).one()
        if stock < 0:
            oversold.append(f"{sku} stock is {stock}")
    return oversold


def _order_quantities(session: Session, order: Order) -> list[tuple[int, int]]:
    return list(session.exec(_ORDER_QUANTITIES, params={"order_id": order.id}))

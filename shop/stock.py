"""Stock held by orders: taken off the shelf when an order is placed, put back when it
expires or is given up, taken again if money arrives for it after all."""

from __future__ import annotations

from sqlmodel import Session, select

from shop.models import Order, OrderLine, Product


def _product_lines(session: Session, order: Order) -> list[tuple[Product, int]]:
    lines = session.exec(select(OrderLine).where(OrderLine.order_id == order.id, OrderLine.product_id.is_not(None)))
    return [(session.get(Product, line.product_id), line.quantity) for line in lines]


def release(session: Session, order: Order) -> None:
    """Put an order's products back on the shelf (once)."""
    if not order.stock_held:
        return
    for product, quantity in _product_lines(session, order):
        product.stock += quantity
        session.add(product)
    order.stock_held = False
    session.add(order)


def take(session: Session, order: Order) -> list[str]:
    """Take an order's products off the shelf again; returns the SKUs that went below zero."""
    oversold = []
    if order.stock_held:
        return oversold
    for product, quantity in _product_lines(session, order):
        product.stock -= quantity
        if product.stock < 0:
            oversold.append(f"{product.sku} stock is {product.stock}")
        session.add(product)
    order.stock_held = True
    session.add(order)
    return oversold

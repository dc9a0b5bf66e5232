"""The demo catalog: products with locally drawn SVG pictures, prices in cents, tax and stock."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, delete, select

from shop.models import (
    Cart,
    CartLine,
    InstantPurchase,
    Order,
    OrderLine,
    OutboxMessage,
    Payment,
    PaymentEvent,
    Product,
    Refund,
)


@dataclass(frozen=True)
class DemoProduct:
    sku: str
    name: str
    description: str
    price_cents: int
    tax_rate: str
    stock: int
    colour: str
    shape: str  # what the picture shows, drawn in static/products/<sku>.svg


DEMO_PRODUCTS = (
    DemoProduct("PEN-BLUE", "Ballpoint pen, blue", "A smooth refillable ballpoint with a steel clip.", 495, "19", 120,
                "#2f6fde", "pen"),
    DemoProduct("PEN-CASE", "Leather pen case", "Holds three pens; vegetable-tanned leather.", 2495, "19", 40,
                "#8a5a2b", "case"),
    DemoProduct("NOTEBOOK-A5", "Dotted notebook A5", "192 pages of 100 g/m² paper that takes fountain ink.", 1450,
                "19", 80, "#1f8a70", "book"),
    DemoProduct("MUG-ENAMEL", "Enamel camping mug", "Light, tough, and keeps coffee warm long enough.", 1800, "19",
                60, "#d9483b", "mug"),
    DemoProduct("TEA-SENCHA", "Sencha green tea, 100 g", "Japanese steamed green tea, loose leaf.", 990, "7", 200,
                "#6a9b3d", "leaf"),
    DemoProduct("BACKPACK-20L", "Daypack 20 L", "Roll-top daypack, waterproof, with a laptop sleeve.", 8900, "19", 15,
                "#3b4a5a", "bag"),
    DemoProduct("LAMP-DESK", "Desk lamp", "Warm LED desk lamp with a dimmer.", 5490, "19", 25, "#e0a526", "lamp"),
    DemoProduct("POSTER-MAP", "Poster: old harbour map", "A2 print on matte paper.", 2200, "19", 3, "#7a4fa3", "map"),
)


def seed(session: Session) -> int:
    """Insert missing demo products and restore their price and stock; returns how many were new."""
    new = 0
    for demo in DEMO_PRODUCTS:
        product = session.exec(select(Product).where(Product.sku == demo.sku)).first()
        if product is None:
            product = Product(sku=demo.sku)
            new += 1
        product.name, product.description = demo.name, demo.description
        product.price_cents, product.tax_rate, product.stock = demo.price_cents, demo.tax_rate, demo.stock
        product.image = f"{demo.sku}.svg"
        session.add(product)
    session.commit()
    return new


def reset(session: Session) -> None:
    """Clear every order, payment and cart, and restore the seeded catalog and stock."""
    for table in (PaymentEvent, Refund, OutboxMessage, Payment, OrderLine, InstantPurchase, Order, CartLine, Cart):
        session.exec(delete(table))
    session.commit()
    seed(session)

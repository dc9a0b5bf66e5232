"""Buyers in other processes: each thread places orders on its own connection, as the checkout
does (its transaction, shop.checkout.place_order), so that many orders race in the database."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from shop import db
from shop.checkout import OrderDetails, place_order
from shop.models import Product
from shop.payments.contract import Address, Customer
from shop.settings import Settings

ADDRESS = Address("Ada", "Lovelace", "Calle Mayor 1", "", "28013", "Madrid", "ES")
DETAILS = OrderDetails(Customer("ada@example.com", "Ada", "Lovelace"), ADDRESS, ADDRESS)


def buy_one(engine, settings: Settings, product_id: int, quantity: int = 1) -> str:
    """The number of the order placed, or the sentence the shopper would read instead."""
    with db.locked_session(engine) as session:  # the checkout's own transaction
        product = session.get(Product, product_id)
        try:
            order = place_order(session, settings, [(product, quantity)], DETAILS)
        except ValueError as exc:
            session.rollback()
            return str(exc)
        session.commit()
        return order.number


def buy_in_threads(url: str, product_ids: list[int], orders_each: int, barrier) -> list[str]:
    """One thread per product id, each placing ``orders_each`` orders of it, all started together."""
    settings = Settings.from_env({"DATABASE_URL": url, "SECRET_KEY": "test-secret-key-0123456789"})
    engine = db.make_engine(url)

    def buyer(product_id: int) -> list[str]:
        return [buy_one(engine, settings, product_id) for _ in range(orders_each)]

    try:
        with ThreadPoolExecutor(len(product_ids)) as pool:
            barrier.wait()
            return [outcome for outcomes in pool.map(buyer, product_ids) for outcome in outcomes]
    finally:
        engine.dispose()

"""Order numbers come from a counter in the database, one row per year: workers placing orders
at the same moment never pick the same number, and the format stays CW<year>-<five digits>."""

import re
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlmodel import select

import shop
from shop import db
from shop.checkout import place_order
from shop.cli import upgrade
from shop.models import OrderNumberCounter, Product, utcnow
from shop.testing.shopper import make_settings, running_app
from tests.buyers import DETAILS, buy_in_threads, buy_one
from tests.processes import run_together

pytestmark = pytest.mark.anyio
MIGRATIONS = Path(shop.__file__).parent / "migrations"


async def test_orders_placed_at_once_in_two_processes_get_distinct_numbers(database_url, tmp_path):
    settings = make_settings(tmp_path, DATABASE_URL=database_url)
    async with running_app(settings, plugin_ids=["banktransfer"]) as app:
        with db.session(app.state.engine) as session:
            products = session.exec(select(Product.id).order_by(Product.id)).all()
        # Each thread sells its own product: nothing but the number is shared between the orders.
        outcomes = run_together(buy_in_threads, [(database_url, products[:3], 4), (database_url, products[3:6], 4)])

    numbers = [number for outcomes_of_one in outcomes for number in outcomes_of_one]
    year = utcnow().year
    assert all(re.fullmatch(rf"CW{year}-\d{{5}}", number) for number in numbers), numbers
    assert sorted(numbers) == [f"CW{year}-{n:05d}" for n in range(1, 25)]


async def test_a_refused_order_gives_its_number_back(app):
    settings, engine = app.state.settings, app.state.engine
    with db.session(engine) as session:
        mug = session.exec(select(Product).where(Product.sku == "MUG-ENAMEL")).one()
    first = buy_one(engine, settings, mug.id)
    with db.locked_session(engine) as session:
        product = session.get(Product, mug.id)
        place_order(session, settings, [(product, 1)], DETAILS)
        session.rollback()  # something after the order failed: nothing of it is kept
    second = buy_one(engine, settings, mug.id)
    assert int(second[-5:]) == int(first[-5:]) + 1


async def test_the_migration_starts_each_years_counter_after_the_orders_already_placed(database_url, tmp_path):
    settings = make_settings(tmp_path, DATABASE_URL=database_url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url)
    config.attributes["configure_logger"] = False
    command.upgrade(config, "0001")  # a store from before the counters, with orders numbered by counting
    engine = db.make_engine(database_url)
    year = utcnow().year
    with engine.begin() as connection:
        for number in (f"CW{year - 1}-00041", f"CW{year}-00006", f"CW{year}-00007"):
            connection.execute(text(
                'INSERT INTO "order" (number, public_id, cart_hash, status, channel, currency, total_cents, email, '
                "given_names, surname, phone, date_of_birth, delivery_address, invoice_address, stock_held, "
                "needs_attention, attention_reason, created_at) VALUES (:number, :number, '', 'paid', 'online', "
                "'EUR', 100, 'ada@example.com', 'Ada', 'Lovelace', '', '', '{}', '{}', false, false, '', "
                ":now)"), {"number": number, "now": utcnow()})
    upgrade(settings)
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO product (sku, name, description, price_cents, currency, tax_rate, stock, "
                                "image) VALUES ('MUG', 'Mug', '', 1800, 'EUR', '19', 5, '')"))
    with db.session(engine) as session:
        counters = {c.year: c.last_number for c in session.exec(select(OrderNumberCounter))}
        mug = session.exec(select(Product.id)).one()
    assert counters == {year - 1: 41, year: 7}
    assert buy_one(engine, settings, mug) == f"CW{year}-00008"
    engine.dispose()

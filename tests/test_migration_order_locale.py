"""Migration 0006: orders placed before it were placed in English; it goes back down cleanly."""

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

import shop
from shop.cli import upgrade
from shop.settings import Settings


def _config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(Path(shop.__file__).parent / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["configure_logger"] = False
    return config


ORDER = sa.text("""INSERT INTO "order" (number, public_id, cart_hash, status, channel, currency, total_cents, email,
    given_names, surname, phone, date_of_birth, delivery_address, invoice_address, needs_attention,
    attention_reason, stock_held, created_at, expires_at)
    VALUES ('CW2026-00001', 'p1', 'h', 'paid', 'online', 'EUR', 1450, 'ada@example.com', 'Ada', 'L', '', '',
    '{}', '{}', false, '', false, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)""")


def test_orders_placed_before_0006_speak_english_and_0006_goes_back_down(database_url):
    config = _config(database_url)
    command.upgrade(config, "0005")
    engine = sa.create_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.execute(ORDER)
        upgrade(Settings.from_env({"DATABASE_URL": database_url}))
        with engine.connect() as connection:
            assert connection.execute(sa.text('SELECT locale FROM "order"')).scalar_one() == "en"
        command.downgrade(config, "0005")
        assert "locale" not in {c["name"] for c in sa.inspect(engine).get_columns("order")}
    finally:
        engine.dispose()

"""The Alembic migrations build exactly the tables the models describe, on PostgreSQL too."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel, create_engine

from shop.cli import upgrade
from shop.settings import Settings
from shop.testing.services import PostgresServer

pytestmark = pytest.mark.slow


def test_migrations_match_the_models_on_postgres():
    server = PostgresServer().start()
    try:
        upgrade(Settings.from_env({"DATABASE_URL": server.url}))
        engine = create_engine(server.url)
        with engine.connect() as connection:
            diff = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
        engine.dispose()
    finally:
        server.stop()
    assert diff == [], f"models and migrations differ; write a migration: {diff}"

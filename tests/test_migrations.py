"""The Alembic migrations build exactly the tables the models describe."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel, create_engine

from shop.cli import upgrade
from shop.settings import Settings


def test_migrations_match_the_models(tmp_path):
    url = f"sqlite:///{tmp_path}/migrated.db"
    upgrade(Settings.from_env({"DATABASE_URL": url}))
    engine = create_engine(url)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    engine.dispose()
    assert diff == [], f"models and migrations differ; write a migration: {diff}"

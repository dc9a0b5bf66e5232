import pytest

from shop.testing.services import PostgresServer
from shop.testing.shopper import Shopper, make_settings, running_app

from .postgres_databases import new_database


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture
def settings(tmp_path):
    return make_settings(tmp_path)


@pytest.fixture
async def app(settings):
    async with running_app(settings, plugin_ids=["banktransfer"]) as app:
        yield app


@pytest.fixture
async def shopper(app):
    shopper = Shopper(app)
    yield shopper
    await shopper.aclose()


@pytest.fixture(scope="module")
def postgres():
    """A PostgreSQL server for the module's tests (a fresh database each: ``database_url``)."""
    server = PostgresServer().start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.slow)])
def database_url(request, tmp_path):
    """The test's own empty database, on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/shop.db"
    return new_database(request.getfixturevalue("postgres"))

import pytest

from shop.testing.shopper import Shopper, make_settings, running_app


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

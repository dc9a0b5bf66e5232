"""A store public over https tells browsers never to use http (HSTS); a local demo does not."""

import httpx
import pytest

from shop.security import HSTS
from shop.testing.shopper import BASE_URL, make_settings, running_app

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("public_url, hsts", [("https://shop.example", HSTS), ("", None)])
async def test_hsts_only_when_the_public_url_is_https(tmp_path, public_url, hsts):
    settings = make_settings(tmp_path, **({"PUBLIC_URL": public_url} if public_url else {}))
    async with running_app(settings, plugin_ids=["banktransfer"]) as app:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as client:
            response = await client.get("/")
    assert response.status_code == 200
    assert response.headers.get("strict-transport-security") == hsts

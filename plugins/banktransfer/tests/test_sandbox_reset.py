"""The sandbox bank's control API: the demo's reset and the scenario a demo flow sets."""

from __future__ import annotations

import httpx
import pytest

from plugins.banktransfer.sandbox import create_sandbox

pytestmark = pytest.mark.anyio
API_KEY = "sandbox-api-key"
IBAN = "DE02120300000000202051"


@pytest.fixture
async def bank():
    async with httpx.AsyncClient() as outbound:
        app = create_sandbox(outbound, api_key=API_KEY, webhook_secret="whsec", iban=IBAN, account_owner="Cartwheel")
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bank.test") as http:
            yield app.state.sandbox, http


async def expect(http: httpx.AsyncClient, reference: str) -> httpx.Response:
    return await http.post("/v1/expected-credits", headers={"authorization": f"Bearer {API_KEY}"},
                           json={"amount": 1250, "currency": "EUR", "reference": reference, "iban": IBAN,
                                 "notify_url": "http://shop.test/pay/banktransfer/cb/token"})


async def test_reset_forgets_every_credit_and_scenario_but_never_gives_an_id_again(bank):
    sandbox, http = bank
    first = await expect(http, "CW2026-00001-1")
    assert first.status_code == 201
    await http.post("/scenario", data={"webhook": "lost", "read": "error"})
    assert (sandbox.webhook_mode, sandbox.read_mode) == ("lost", "error")

    assert (await http.post("/control/reset")).status_code == 204

    assert (sandbox.webhook_mode, sandbox.read_mode) == ("send", "ok")
    assert (await http.get("/state.json")).json() == {"expected_credits": []}
    assert "None yet." in (await http.get("/")).text
    again = await expect(http, "CW2026-00001-1")  # the same reference is free again
    assert again.status_code == 201, again.text
    assert again.json()["id"] != first.json()["id"]


async def test_a_demo_scenario_starts_from_the_defaults(bank):
    sandbox, http = bank
    await http.post("/scenario", data={"webhook": "lost", "read": "slow"})
    assert (await http.post("/control/demo-scenario", data={"webhook": "late"})).status_code == 204
    assert (sandbox.webhook_mode, sandbox.read_mode) == ("late", "ok")
    await http.post("/control/demo-scenario", data={})
    assert (sandbox.webhook_mode, sandbox.read_mode) == ("send", "ok")

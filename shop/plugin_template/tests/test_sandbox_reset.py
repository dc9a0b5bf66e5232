"""The sandbox's control API: the demo's reset, and the scenario a demo flow's "Try it" sets."""

from __future__ import annotations

import httpx
import pytest
from plugins.templatepay.sandbox import create_sandbox

pytestmark = pytest.mark.anyio
API_KEY = "sandbox-key"


@pytest.fixture
async def sandbox():
    app = create_sandbox(None, api_key=API_KEY, webhook_secret="whsec")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://provider.test") as http:
        yield app.state.sandbox, http


async def test_reset_forgets_payments_and_scenarios_and_never_gives_an_id_again(sandbox):
    state, http = sandbox
    created = await http.post("/api/payments", headers={"authorization": f"Bearer {API_KEY}"},
                              json={"amount": 1250, "currency": "EUR", "reference": "CW-1"})
    assert created.status_code == 201, created.text
    first_id = created.json()["id"]
    await http.post("/scenarios", data={"notify_mode": "lose", "api_down": "on"})

    assert (await http.post("/control/reset")).status_code == 204
    assert (state.payments, state.notify_mode, state.api_down) == ({}, "send", False)

    again = await http.post("/api/payments", headers={"authorization": f"Bearer {API_KEY}"},
                            json={"amount": 1250, "currency": "EUR", "reference": "CW-2"})
    assert again.json()["id"] != first_id


async def test_a_demo_scenario_starts_from_the_defaults(sandbox):
    state, http = sandbox
    await http.post("/scenarios", data={"notify_mode": "hold", "api_down": "on"})
    assert (await http.post("/control/demo-scenario", data={"notify_mode": "lose"})).status_code == 204
    assert (state.notify_mode, state.api_down) == ("lose", False)

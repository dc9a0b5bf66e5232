"""The sandbox's control API: the demo's reset and the scenario a demo flow sets."""

import pytest

from plugins.secupay.settings import EXAMPLE_CLIENT_ID, EXAMPLE_CLIENT_SECRET

from .conftest import example_body

GOOD = {"grant_type": "client_credentials", "client_id": EXAMPLE_CLIENT_ID, "client_secret": EXAMPLE_CLIENT_SECRET}
pytestmark = pytest.mark.anyio


async def bearer(http) -> dict:
    token = (await http.post("/oauth/token", json=GOOD)).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


async def test_reset_forgets_transactions_and_scenarios_but_not_the_shops_token(http, sandbox):
    auth = await bearer(http)
    created = await http.post("/api/v2/Smart/Transactions", json=example_body(merchantRef="ORD-1"), headers=auth)
    stx_id = created.json()["id"]
    await http.post("/control/scenarios", data={"outcome": "reject", "push": "lost", "api": "slow"})
    assert (sandbox.scenarios.outcome, sandbox.scenarios.push) == ("reject", "lost")

    assert (await http.post("/control/reset")).status_code == 204

    assert (sandbox.scenarios.outcome, sandbox.scenarios.push, sandbox.scenarios.api) == ("normal", "normal", "normal")
    assert sandbox.stx == {} and sandbox.pci == {} and sandbox.pusher.log == []
    assert stx_id not in (await http.get("/")).text
    assert (await http.get(f"/api/v2/Smart/Transactions/{stx_id}", headers=auth)).status_code == 404
    again = await http.post("/api/v2/Smart/Transactions", json=example_body(merchantRef="ORD-1"), headers=auth)
    assert again.status_code == 200, again.text  # the token still works, the merchant ref is free


async def test_a_demo_scenario_starts_from_the_defaults(http, sandbox):
    await http.post("/control/scenarios", data={"outcome": "review", "push": "late"})
    assert (await http.post("/control/demo-scenario", data={"outcome": "reject"})).status_code == 204
    assert (sandbox.scenarios.outcome, sandbox.scenarios.push) == ("reject", "normal")

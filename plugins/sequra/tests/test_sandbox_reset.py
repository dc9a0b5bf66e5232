"""The sandbox's control API: the demo's reset and the scenario a demo flow sets."""

from __future__ import annotations

import pytest

from plugins.sequra.tests.conftest import make_payment
from plugins.sequra.tests.fakeshop import SANDBOX

pytestmark = pytest.mark.anyio


async def test_reset_forgets_orders_and_scenarios(world):
    started = await world.start(make_payment())
    await world.http.post(f"{SANDBOX}/_control/scenario", data={"decision": "reject", "server_error": "on"})
    assert world.sandbox.scenario.decision == "reject" and started.reference in world.sandbox.orders

    assert (await world.http.post(f"{SANDBOX}/control/reset")).status_code == 204

    s = world.sandbox.scenario
    assert (s.decision, s.server_error) == ("auto", False)
    assert world.sandbox.orders == {} and world.sandbox.outbox == [] and world.sandbox.deliveries == []
    page = (await world.http.get(f"{SANDBOX}/")).text
    assert started.reference not in page and "none yet" in page
    again = await world.start(make_payment())  # the same order number solicits afresh
    assert again.reference != started.reference


async def test_a_demo_scenario_starts_from_the_starting_scenario(world):
    await world.http.post(f"{SANDBOX}/_control/scenario", data={"decision": "reject", "delivery": "lost",
                                                                "strict_lines": "on"})
    answer = await world.http.post(f"{SANDBOX}/control/demo-scenario", data={"decision": "review_approve"})
    assert answer.status_code == 204
    s = world.sandbox.scenario
    assert (s.decision, s.delivery, s.strict_lines) == ("review_approve", "normal", False)

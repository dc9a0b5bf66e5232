"""The sandbox's control API: the demo's reset and the scenario a demo flow sets."""

from __future__ import annotations

import pytest

from plugins.seqr.client import SeqrError
from plugins.seqr.sandbox.state import TEST_PIN

from .test_sandbox import invoice

pytestmark = pytest.mark.anyio


async def test_reset_forgets_invoices_and_scenarios_but_never_gives_a_reference_again(client, http, sb):
    sent = await client.send_invoice(invoice())
    sb.scan(sent.reference)
    sb.confirm(sent.reference, TEST_PIN)
    await http.post("/control/scenarios", data={"bank": "decline", "notification": "lost"})
    await http.post("/control/clock", data={"seconds": "3600"})
    assert sb.invoices[sent.reference].status == "PAID" and sb.scenarios.bank == "decline"

    assert (await http.post("/control/reset")).status_code == 204

    assert (sb.scenarios.bank, sb.scenarios.notification, sb.scenarios.check_row_sum) == ("approve", "deliver", True)
    assert sb.invoices == {} and sb.sms == [] and sb.notifications == [] and sb.clock.offset.total_seconds() == 0
    assert sent.reference not in (await http.get("/")).text
    again = await client.send_invoice(invoice())  # the published terminal still logs in
    assert again.reference != sent.reference
    with pytest.raises(SeqrError, match="does not know"):
        await client.get_payment_status(sent.reference)


async def test_a_demo_scenario_starts_from_the_starting_scenarios(http, sb):
    await http.post("/control/scenarios", data={"notification": "lost", "soap": "slow"})
    assert (await http.post("/control/demo-scenario", data={"bank": "decline"})).status_code == 204
    sc = sb.scenarios
    assert (sc.bank, sc.notification, sc.soap, sc.check_row_sum) == ("decline", "deliver", "normal", True)

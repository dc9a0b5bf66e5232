"""The sandbox's own pages: control page, scenarios, read-back, mounting."""

from __future__ import annotations

import httpx
import pytest

from plugins.sequra.sandbox import create_sandbox
from plugins.sequra.tests.conftest import make_payment
from plugins.sequra.tests.fakeshop import SANDBOX
from plugins.sequra.tests.test_validation import minimal

pytestmark = pytest.mark.anyio


async def test_control_page_lists_orders_and_sets_scenarios(world):
    started = await world.start(make_payment())
    page = await world.http.get(f"{SANDBOX}/")
    assert page.status_code == 200 and started.reference in page.text and "Review Test Approve" in page.text
    response = await world.http.post(f"{SANDBOX}/_control/scenario",
                                      data={"decision": "reject", "delivery": "repeated", "slow_seconds": "2",
                                            "server_error": "on"})
    assert response.status_code == 303 and response.headers["location"] == f"{SANDBOX}/"
    s = world.sandbox.scenario
    assert (s.decision, s.delivery, s.slow_seconds, s.server_error) == ("reject", "repeated", 2.0, True)
    await world.http.post(f"{SANDBOX}/_control/scenario", data={"decision": "nonsense"})
    assert s.decision == "reject" and s.server_error is False


async def test_read_back_lives_outside_the_api_namespace(world):
    started = await world.start(make_payment())
    back = await world.read_back(started.reference)
    assert back["state"] == "solicited" and back["cart"]["order_total_with_tax"] == 10450
    assert (await world.http.get(f"{SANDBOX}/_control/orders/nope")).status_code == 404
    page = await world.http.get(f"{SANDBOX}/_control/orders/{started.reference}", headers={"Accept": "text/html"})
    assert page.headers["content-type"].startswith("text/html") and "solicited" in page.text


async def test_served_alone_the_location_is_at_the_root():
    app = create_sandbox(httpx.AsyncClient())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1:9000") as c:
        response = await c.post("/orders", json=minimal(), auth=("cartwheel", "cartwheel-sandbox"))
        assert response.headers["location"].startswith("http://127.0.0.1:9000/orders/")
        deployments = (await c.get("/deployments")).json()
        assert deployments[0]["sandbox"]["api_base_url"] == "http://127.0.0.1:9000/"
        script = await c.get("/assets/sequra_form.js")
        assert "SequraFormInstance" in script.text and script.headers["access-control-allow-origin"] == "*"
        form = await c.get("/assets/pumbaa_form.js")
        assert form.status_code == 200 and "postMessage" in form.text
        preflight = await c.options("/orders/x/form/identify")
        assert preflight.status_code == 204 and "POST" in preflight.headers["access-control-allow-methods"]


async def test_the_form_snippet_is_an_iframe_and_a_script_as_sequra_serves_it(world):
    """sequra.md §6.2: a hidden iframe on SeQura's origin, its name for the script, the script."""
    started = await world.start(make_payment(option="sp1"))
    html = started.next_step.html
    frame = f'src="{SANDBOX}/orders/{started.reference}/pumbaa_form?product=sp1"'
    assert html.startswith("<iframe id='sq-identification-sp1' name='sq-identification-sp1'") and frame in html
    assert 'class="sq-identification-iframe"' in html and "display:none;position:fixed" in html
    assert "window.SequraFormElement = 'sq-identification-sp1'" in html
    assert f"<script src='{SANDBOX}/assets/sequra_form.js'></script>" in html
    # The page that shows it must let the iframe in: frame-src names the sandbox's origin.
    assert SANDBOX.rsplit("/sandbox", 1)[0] in started.next_step.csp["frame-src"]
    page = await world.http.get(f"{SANDBOX}/orders/{started.reference}/pumbaa_form?product=sp1")
    assert page.status_code == 200 and f"{SANDBOX}/assets/pumbaa_form.js" in page.text
    assert f'data-sequra-order="{started.reference}"' in page.text


def test_the_plugin_never_uses_the_control_namespace():
    from pathlib import Path

    root = Path(__file__).parents[1]
    for name in ("client.py", "plugin.py", "payload.py", "offers.py", "csp.py", "status.py"):
        assert "_control" not in (root / name).read_text(), name

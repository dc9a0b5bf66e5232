"""The order page's status poll: a poll that names the status the page shows is answered 304
without the panel; one that does not, or whose status has moved on, gets the panel."""

from __future__ import annotations

import asyncio

import pytest

from shop import orders

pytestmark = pytest.mark.anyio


async def test_a_poll_for_the_status_shown_gets_no_panel_until_it_changes(app, shopper, monkeypatch):
    await shopper.add("PEN-BLUE", 1)
    order_id = await shopper.order_id_from(await shopper.checkout("banktransfer:banktransfer"))
    url = f"/orders/{order_id}/status"
    first = await shopper.get(url)
    assert first.status_code == 200 and 'id="payment-panel"' in first.text
    assert first.headers["x-status"] == "pending:awaiting_payment"
    assert first.headers["etag"] == '"pending:awaiting_payment"'
    assert f'data-status="{first.headers["x-status"]}"' in first.text  # what the page sends back

    rendered = []
    real_panel = orders.panel

    async def counting_panel(*args, **kwargs):
        rendered.append(args)
        return await real_panel(*args, **kwargs)

    monkeypatch.setattr(orders, "panel", counting_panel)
    same = await shopper.get(url, headers={"If-None-Match": first.headers["etag"]})
    assert same.status_code == 304 and same.content == b"" and rendered == []
    assert same.headers["x-status"] == "pending:awaiting_payment"

    bank = app.state.sandboxes["banktransfer"].state.sandbox
    (expected,) = bank.expected.values()
    bank.book(expected, expected.amount, "Ada")
    moved = None
    for _ in range(100):
        moved = await shopper.get(url, headers={"If-None-Match": first.headers["etag"]})
        if moved.status_code == 200:
            break
        await asyncio.sleep(0.02)  # the bank's webhook is on its way
    assert moved.status_code == 200 and moved.headers["x-status"] == "paid:paid" and "Paid" in moved.text
    assert len(rendered) == 1


async def test_another_shoppers_order_is_not_found_with_or_without_a_status(app, shopper):
    await shopper.add("PEN-BLUE", 1)
    order_id = await shopper.order_id_from(await shopper.checkout("banktransfer:banktransfer"))
    etag = (await shopper.get(f"/orders/{order_id}/status")).headers["etag"]
    stranger = type(shopper)(app)
    try:
        for headers in ({}, {"If-None-Match": etag}):
            assert (await stranger.get(f"/orders/{order_id}/status", headers=headers)).status_code == 404
    finally:
        await stranger.aclose()

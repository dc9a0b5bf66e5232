import pytest

pytestmark = pytest.mark.anyio


async def test_bank_transfer_order_is_paid_when_the_bank_announces_the_credit(app, shopper):
    assert (await shopper.add("PEN-BLUE", 2)).status_code == 303
    response = await shopper.checkout("banktransfer:banktransfer")
    assert response.status_code == 303, response.text
    order_id = await shopper.order_id_from(response)
    page = await shopper.get(f"/orders/{order_id}")
    assert page.status_code == 200
    assert "Waiting for your transfer" in page.text
    bank = app.state.sandboxes["banktransfer"].state.sandbox
    (expected,) = bank.expected.values()
    bank.book(expected, expected.amount, "Ada")
    import asyncio
    for _ in range(50):
        await asyncio.sleep(0.02)
        status = await shopper.get(f"/orders/{order_id}/status")
        if status.headers["x-status"].startswith("paid"):
            break
    assert status.headers["x-status"] == "paid:paid"

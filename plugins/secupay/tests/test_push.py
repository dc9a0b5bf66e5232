import asyncio
import json

import pytest

from .conftest import example_body


async def pay(client, sandbox):
    stx = await client.create_smart_transaction(example_body())
    sandbox.pay(sandbox.stx[stx["id"]], "creditcard")
    return stx


@pytest.mark.anyio
async def test_push_body_and_headers(client, sandbox, inbox):
    await pay(client, sandbox)
    await sandbox.pusher.drain()
    (request,) = inbox.requests
    body = json.loads(request.content)
    assert set(body) == {"object", "id", "created", "target", "type", "data"}
    assert body["id"].startswith("evt_") and len(body["id"]) == 36
    assert body["target"] == "payment.transactions" and body["type"] == "changed"
    assert request.headers["content-type"] == "application/json" and request.headers["accept"] == "*/*"


@pytest.mark.anyio
async def test_retried_until_answered_200(client, sandbox, inbox):
    inbox.answers = [503, 500]
    await pay(client, sandbox)
    await sandbox.pusher.drain()
    assert len(inbox.requests) == 3
    assert sandbox.pusher.log[0].state == "delivered" and sandbox.pusher.log[0].attempts == ["503", "500", "200"]
    assert len({json.loads(r.content)["id"] for r in inbox.requests}) == 1  # the same event each time


@pytest.mark.anyio
async def test_retries_are_bounded(client, sandbox, inbox):
    inbox.answers = [503] * 10
    await pay(client, sandbox)
    await sandbox.pusher.drain()
    assert len(inbox.requests) == 4 and sandbox.pusher.log[0].state == "given up"


@pytest.mark.anyio
async def test_lost_push(client, sandbox, inbox):
    sandbox.scenarios.push = "lost"
    await pay(client, sandbox)
    await sandbox.pusher.drain()
    assert inbox.requests == [] and sandbox.pusher.log[0].state == "lost"


@pytest.mark.anyio
async def test_repeated_push_is_the_same_event_twice(client, sandbox, inbox):
    sandbox.scenarios.push = "repeated"
    await pay(client, sandbox)
    await sandbox.pusher.drain()
    assert len(inbox.requests) == 2 and inbox.requests[0].content == inbox.requests[1].content


@pytest.mark.anyio
async def test_late_push(client, sandbox, inbox):
    sandbox.scenarios.push = "late"
    await pay(client, sandbox)
    await asyncio.sleep(0.01)
    assert inbox.requests == []
    await sandbox.pusher.drain()
    assert len(inbox.requests) == 1


@pytest.mark.anyio
async def test_refund_pushes_the_refund_and_the_void(client, sandbox, inbox):
    stx = await pay(client, sandbox)
    pci_id = sandbox.stx[stx["id"]].pci_id
    await client.cancel_payment_transaction(pci_id)
    await sandbox.pusher.drain()
    kinds = [(json.loads(r.content)["type"], json.loads(r.content)["data"][0]["id"] == pci_id) for r in inbox.requests]
    assert kinds == [("changed", True), ("added", False), ("changed", True)]


@pytest.mark.anyio
async def test_push_is_sent_after_the_page_answered(http, client, sandbox, inbox):
    # The hosted page answers first; the push follows from a background task.
    stx = await client.create_smart_transaction(example_body())
    await http.post(f"/checkout/{stx['id']}/pay/prepaid")
    assert inbox.requests == []
    await sandbox.pusher.drain()
    assert len(inbox.requests) == 1


@pytest.mark.anyio
async def test_reordered_pushes_arrive_newest_first(client, sandbox, inbox):
    sandbox.scenarios.push = "reordered"
    stx = await pay(client, sandbox)
    pci_id = sandbox.stx[stx["id"]].pci_id
    await sandbox.pusher.drain()
    assert inbox.requests == []  # the first waits for a partner
    await client.cancel_payment_transaction(pci_id, reduce_amount_by=100)  # a refund: "added"
    await sandbox.pusher.drain()
    assert [json.loads(r.content)["type"] for r in inbox.requests] == ["added", "changed"]

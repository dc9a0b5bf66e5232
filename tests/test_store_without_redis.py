"""The store as `shop serve` runs it, with Redis unreachable or hung: it starts, serves, takes a
payment and tells the shopper, and a state change does not wait on Redis."""

import asyncio
import json
import re
import time

import httpx
import pytest
import websockets

from shop.testing.server import ServerProcess
from shop.testing.services import RedisServer
from shop.testing.shopper import Shopper

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

STATE_CHANGE_BUDGET = 1.0  # seconds for the merchant's click: it used to wait 5 s on a hung Redis


class RemoteShopper(Shopper):
    """The in-process test shopper, over real HTTP to a store process."""

    def __init__(self, base_url: str) -> None:
        self.http = httpx.AsyncClient(base_url=base_url, follow_redirects=False, timeout=30)
        self.token = ""


async def place_bank_transfer_order(server: ServerProcess) -> tuple[RemoteShopper, str]:
    shopper = RemoteShopper(server.url)
    await shopper.add("TEA-SENCHA")
    public_id = await shopper.order_id_from(await shopper.checkout("banktransfer:banktransfer"))
    return shopper, public_id


async def mark_transfer_received(server: ServerProcess, order_page: str) -> float:
    """What the merchant does in the back office; how long the click took."""
    number = re.search(r"<h1>Order (\S+)</h1>", order_page).group(1)
    merchant = RemoteShopper(server.url)
    try:
        await merchant.login_admin()
        admin_page = (await merchant.get(f"/admin/orders/{number}")).text
        action = re.search(rf'action="(/admin/orders/{number}/payments/\d+/action/mark_received)"', admin_page)
        started = time.perf_counter()
        response = await merchant.post(action.group(1), {"confirmed": "yes"})
        took = time.perf_counter() - started
        assert response.status_code == 303
        return took
    finally:
        await merchant.aclose()


async def status_of(shopper: RemoteShopper, public_id: str) -> str:
    return (await shopper.get(f"/orders/{public_id}/status")).headers["x-status"]


async def pay_and_watch(server: ServerProcess) -> float:
    """A shopper waits on the order page's socket while the merchant confirms the transfer on the same
    process: the socket tells, and so does the status endpoint. Returns how long the confirmation took."""
    shopper, public_id = await place_bank_transfer_order(server)
    try:
        assert await status_of(shopper, public_id) == "pending:awaiting_payment"
        socket_url = f"{server.url.replace('http://', 'ws://')}/orders/{public_id}/ws"
        async with websockets.connect(socket_url, open_timeout=10, ping_interval=None,
                                      additional_headers={"Cookie": f"cartwheel={shopper.http.cookies['cartwheel']}"}
                                      ) as socket:
            assert json.loads(await socket.recv())["status"] == "pending:awaiting_payment"
            took = await mark_transfer_received(server, (await shopper.get(f"/orders/{public_id}")).text)
            pushed = json.loads(await asyncio.wait_for(socket.recv(), 5))
        assert pushed["status"] == "paid:paid"
        assert await status_of(shopper, public_id) == "paid:paid"
        return took
    finally:
        await shopper.aclose()


async def eventually(condition, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"not true within {seconds} s"
        await asyncio.sleep(0.1)


@pytest.fixture
def redis():
    server = RedisServer()  # not started: the store comes up without it
    yield server
    server.stop()


@pytest.fixture
def store(tmp_path, redis):
    server = ServerProcess(tmp_path, {"REDIS_URL": redis.url})
    server.prepare()
    server.start()  # waits for /health to answer
    yield server
    server.stop()


# One store process for the whole story: starting one takes most of the time.
async def test_the_store_serves_through_a_redis_outage(store, redis):
    async with httpx.AsyncClient(base_url=store.url) as client:  # nothing listens where Redis should be
        assert (await client.get("/health")).text == "ok"
        assert "TEA-SENCHA" in (await client.get("/")).text
    await pay_and_watch(store)
    assert store.log().count("no subscription on Redis") == 1, store.log()  # one warning, however many attempts

    redis.start()
    await eventually(lambda: "Redis is back" in store.log(), 15)

    with redis.paused():
        assert await pay_and_watch(store) < STATE_CHANGE_BUDGET

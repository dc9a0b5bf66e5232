"""The order page's socket, as `shop serve` serves it: the page names the status it shows, and the
store sends a panel only when the status is another (no panel rendered for each page opened)."""

import asyncio
import json

import pytest
import websockets

from shop.testing.server import ServerProcess
from tests.test_store_without_redis import mark_transfer_received, place_bank_transfer_order

pytestmark = pytest.mark.anyio

WAITING = "pending:awaiting_payment"


@pytest.fixture
def store(tmp_path):
    server = ServerProcess(tmp_path)
    server.prepare()
    yield server.start()
    server.stop()


def open_socket(store: ServerProcess, public_id: str, cookie: str, shown: str):
    url = f"{store.url.replace('http://', 'ws://')}/orders/{public_id}/ws?shown={shown}"
    return websockets.connect(url, open_timeout=10, ping_interval=None, additional_headers={"Cookie": cookie})


async def test_a_socket_sends_nothing_while_the_page_shows_the_status_and_the_panel_once_it_changes(store):
    shopper, public_id = await place_bank_transfer_order(store)
    cookie = f"cartwheel={shopper.http.cookies['cartwheel']}"
    try:
        async with open_socket(store, public_id, cookie, WAITING) as up_to_date, \
                open_socket(store, public_id, cookie, "created:awaiting_payment") as behind:
            # A page behind the order gets the panel at once: what changed before its socket opened.
            caught_up = json.loads(await asyncio.wait_for(behind.recv(), 5))
            assert caught_up["status"] == WAITING and 'data-status="pending:awaiting_payment"' in caught_up["html"]
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(up_to_date.recv(), 1)
            await mark_transfer_received(store, (await shopper.get(f"/orders/{public_id}")).text)
            for socket in (up_to_date, behind):
                assert json.loads(await asyncio.wait_for(socket.recv(), 5))["status"] == "paid:paid"
    finally:
        await shopper.aclose()

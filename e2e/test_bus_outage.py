"""Scaled out with a broken bus: two store processes on one PostgreSQL and one Redis, and Redis
stops or hangs before the merchant confirms a transfer on the other process. The status message
is lost, the shopper's websocket stays open and silent, and yet the page turns paid: while its
socket is open it still checks the status every STATUS_CHECK_SECONDS."""

import re

import pytest
from playwright.sync_api import Page, expect

from e2e.steps import add_to_cart, mark_transfer_received, open_admin_order, order_number, place_order
from shop.testing.server import ServerProcess

pytestmark = [pytest.mark.slow, pytest.mark.own_store]  # it starts PostgreSQL, Redis and its stores

CHECK_SECONDS = 1
TWO_STORES_ENV = {"STATUS_CHECK_SECONDS": str(CHECK_SECONDS)}
PAID_WITHIN_MS = 5 * CHECK_SECONDS * 1000  # a few checks, however slow the machine


@pytest.fixture(scope="module")
def servers(two_stores):
    return two_stores


@pytest.fixture(scope="module")
def server(two_stores):
    return two_stores[0]  # the shopper's browser talks to this one


def wait_on_the_socket(page: Page) -> str:
    """A bank-transfer order whose page listens on its websocket; its number."""
    add_to_cart(page, "TEA-SENCHA")
    place_order(page, "Bank transfer", **{"E-mail": "grace@example.com", "First name": "Grace", "Last name": "Hopper"})
    expect(page.get_by_role("heading", name=re.compile("Waiting for your transfer"))).to_be_visible()
    expect(page.locator("#payment[data-channel=socket]")).to_be_attached()
    page.evaluate("window.__sameDocument = true")
    return order_number(page)


def confirm_on_the_other_process(new_context, number: str, shop_b: ServerProcess) -> None:
    merchant = new_context().new_page()
    open_admin_order(merchant, number, base=shop_b.url)
    mark_transfer_received(merchant)


def assert_paid_without_reload(page: Page) -> None:
    expect(page.locator("#receipt")).to_contain_text("Paid", timeout=PAID_WITHIN_MS)
    assert page.evaluate("window.__sameDocument") is True, "the page reloaded instead of updating live"
    assert page.locator("#payment").get_attribute("data-channel") == "socket"  # it never fell back to polling


def test_the_page_turns_paid_while_redis_is_down(page: Page, new_context, servers, backing_services):
    shop_a, shop_b = servers
    _, redis = backing_services
    number = wait_on_the_socket(page)
    redis.stop()
    try:
        confirm_on_the_other_process(new_context, number, shop_b)
        assert_paid_without_reload(page)
    finally:
        redis.start()


def test_the_page_turns_paid_while_redis_hangs(page: Page, new_context, servers, backing_services):
    shop_a, shop_b = servers
    _, redis = backing_services
    number = wait_on_the_socket(page)
    with redis.paused():  # still paused when the page must turn paid: the bus cannot have told it
        confirm_on_the_other_process(new_context, number, shop_b)
        assert_paid_without_reload(page)

"""Scaled out: two store processes on one PostgreSQL and one Redis. A payment confirmed through
one reaches, over Redis pub/sub, the websocket a browser holds on the other."""

import re

import pytest
from playwright.sync_api import Page, expect

from e2e.steps import add_to_cart, mark_transfer_received, open_admin_order, order_number, place_order

pytestmark = [pytest.mark.slow, pytest.mark.own_store]  # it starts PostgreSQL, Redis and its stores


@pytest.fixture(scope="module")
def servers(two_stores):
    return two_stores


@pytest.fixture(scope="module")
def server(two_stores):
    return two_stores[0]  # the shopper's browser talks to this one


def test_a_payment_confirmed_on_one_process_reaches_a_browser_on_the_other(page: Page, new_context, servers):
    shop_a, shop_b = servers
    page.route(re.compile(r".*/status$"), lambda route: route.abort())  # only the socket may tell
    add_to_cart(page, "TEA-SENCHA")
    place_order(page, "Bank transfer", **{"E-mail": "grace@example.com", "First name": "Grace", "Last name": "Hopper"})
    expect(page.get_by_role("heading", name=re.compile("Waiting for your transfer"))).to_be_visible()
    expect(page.locator("#payment[data-channel=socket]")).to_be_attached()
    number = order_number(page)

    merchant = new_context().new_page()
    open_admin_order(merchant, number, base=shop_b.url)
    mark_transfer_received(merchant)

    expect(page.locator("#receipt")).to_contain_text("Paid", timeout=10_000)
    assert page.locator("#payment").get_attribute("data-channel") == "socket"

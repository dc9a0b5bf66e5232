"""Scaled out: two store processes on one PostgreSQL and one Redis. A payment confirmed through
one reaches, over Redis pub/sub, the websocket a browser holds on the other."""

import re

import pytest
from playwright.sync_api import Page, expect

from shop.testing.server import ServerProcess
from shop.testing.services import PostgresServer, RedisServer

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def backing_services():
    postgres, redis = PostgresServer().start(), RedisServer().start()
    yield postgres, redis
    redis.stop()
    postgres.stop()


@pytest.fixture(scope="module")
def servers(tmp_path_factory, backing_services):
    postgres, redis = backing_services
    env = {"DATABASE_URL": postgres.url, "REDIS_URL": redis.url}
    first = ServerProcess(tmp_path_factory.mktemp("a"), env)
    first.prepare()
    second = ServerProcess(tmp_path_factory.mktemp("b"), env)
    started = [first.start(), second.start()]
    yield started
    for process in started:
        process.stop()


@pytest.fixture(scope="module")
def server(servers):
    return servers[0]  # the shopper's browser talks to this one


def test_a_payment_confirmed_on_one_process_reaches_a_browser_on_the_other(page: Page, new_context, servers):
    shop_a, shop_b = servers
    page.route(re.compile(r".*/status$"), lambda route: route.abort())  # only the socket may tell
    page.goto("/products/TEA-SENCHA")
    page.get_by_role("button", name="Add to cart").click()
    expect(page.locator("#cart-message")).to_contain_text("Added")
    page.goto("/checkout")
    for label, value in (("E-mail", "grace@example.com"), ("Mobile phone", "+49 170 7654321"),
                         ("Street and number", "Ringstraße 2"), ("Postcode", "80331"), ("City", "München")):
        page.get_by_label(label).first.fill(value)
    page.get_by_label("First name").first.fill("Grace")
    page.get_by_label("Last name").first.fill("Hopper")
    page.get_by_label(re.compile("Bank transfer")).check()
    page.get_by_role("button", name=re.compile("Place order")).click()
    expect(page.get_by_role("heading", name=re.compile("Waiting for your transfer"))).to_be_visible()
    expect(page.locator("#payment[data-channel=socket]")).to_be_attached()
    number = page.get_by_role("heading", level=1).inner_text().removeprefix("Order ").strip()

    merchant = new_context().new_page()
    merchant.goto(f"{shop_b.url}/admin/")
    merchant.get_by_label("Password").fill("demo-admin")
    merchant.get_by_role("button", name="Log in").click()
    merchant.get_by_role("link", name=number).click()
    merchant.once("dialog", lambda dialog: dialog.accept())
    merchant.get_by_role("button", name="Mark transfer received").click()
    expect(merchant.locator("#order-status")).to_have_text("paid")

    expect(page.locator("#receipt")).to_contain_text("Paid", timeout=10_000)
    assert page.locator("#payment").get_attribute("data-channel") == "socket"

"""The catalog is one page for every shopper, served from memory: each still gets their own
CSRF token, their cart's size and their messages, and the page follows the listing's changes."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import text

from shop import page_memo
from shop.testing.shopper import Shopper

pytestmark = pytest.mark.anyio

CART_COUNT = re.compile(r'<span id="cart-count"[^>]*>([^<]*)</span>')
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]*)"')


def header_count(page: str) -> str:
    return CART_COUNT.search(page).group(1).strip()


async def test_every_shopper_gets_the_shared_catalog_with_the_csrf_token_of_their_own_session(app, shopper):
    other = Shopper(app)
    try:
        pages = [(await shopper.get("/")).text, (await other.get("/")).text, (await shopper.get("/")).text]
    finally:
        await other.aclose()
    tokens = [set(CSRF_FIELD.findall(page)) for page in pages]
    assert all(len(found) == 1 for found in tokens), tokens  # one token throughout each page
    assert tokens[0] == tokens[2] != tokens[1]
    assert all(page_memo._CSRF_HOLE not in page for page in pages)
    added = await shopper.post("/cart/add", {"sku": "PEN-BLUE", "quantity": "1", "csrf_token": tokens[2].pop()})
    assert added.status_code == 303  # the token on the shared page is the one the session checks


async def test_a_new_read_of_the_listing_shows_on_the_catalog(app, shopper):
    assert "Sold out" not in (await shopper.get("/")).text
    with app.state.engine.begin() as connection:
        connection.execute(text("UPDATE product SET stock = 0 WHERE sku = 'PEN-BLUE'"))
    app.state.listing.forget()  # as a second passing does
    assert "Sold out" in (await shopper.get("/")).text


async def test_a_message_for_the_shopper_is_shown_once_on_the_catalog(shopper):
    await shopper.add("PEN-BLUE")  # without htmx: the "Added" message waits for the next page
    assert "to your cart" in (await shopper.get("/")).text
    assert "to your cart" not in (await shopper.get("/")).text


async def test_the_header_counts_the_cart_in_each_language(shopper):
    assert header_count((await shopper.get("/")).text) == ""
    await shopper.add("PEN-BLUE", 2)
    assert header_count((await shopper.get("/")).text) == "(2)"
    assert header_count((await shopper.get("/", headers={"Accept-Language": "de"})).text) == "(2)"
    await shopper.add("MUG-ENAMEL")
    assert header_count((await shopper.get("/")).text) == "(3)"


async def test_a_cart_emptied_by_a_payment_elsewhere_is_counted_again_on_the_order_page(app, shopper):
    await shopper.add("PEN-BLUE", 2)
    order = await shopper.order_id_from(await shopper.checkout("banktransfer:banktransfer"))
    assert header_count((await shopper.get("/")).text) == "(2)"  # placed, not paid: the cart is kept
    with app.state.engine.begin() as connection:  # as the ledger does when a callback says paid
        connection.execute(text("DELETE FROM cartline"))
    assert header_count((await shopper.get(f"/orders/{order}")).text) == ""
    assert header_count((await shopper.get("/")).text) == ""


async def test_the_cart_page_shows_what_the_cart_holds_now_whoever_changed_it(app, shopper):
    await shopper.add("PEN-BLUE", 2)
    assert "to your cart" in (await shopper.get("/cart")).text  # the message, once
    again = (await shopper.get("/cart")).text
    assert "to your cart" not in again and (await shopper.get("/cart")).text == again  # unchanged: the same page
    with app.state.engine.begin() as connection:  # a new price, same items and count
        connection.execute(text("UPDATE product SET price_cents = 12345 WHERE sku = 'PEN-BLUE'"))
    assert "€246.90" in (await shopper.get("/cart")).text
    await shopper.add("MUG-ENAMEL")
    assert "MUG-ENAMEL" in (await shopper.get("/cart")).text
    with app.state.engine.begin() as connection:  # as the ledger does when a callback says paid
        connection.execute(text("DELETE FROM cartline"))
    emptied = (await shopper.get("/cart")).text
    assert "Your cart is empty." in emptied and header_count(emptied) == ""


async def test_two_shoppers_with_the_same_cart_each_get_their_own_token(app, shopper):
    other = Shopper(app)
    try:
        pages = []
        for each in (shopper, other):
            await each.add("PEN-BLUE")
            pages.append((await each.get("/cart")).text)
        tokens = [set(CSRF_FIELD.findall(page)) for page in pages]
        assert all(len(found) == 1 for found in tokens) and tokens[0] != tokens[1]
        for each, found in zip((shopper, other), tokens, strict=True):
            removed = await each.post("/cart/remove", {"sku": "PEN-BLUE", "csrf_token": found.pop()})
            assert removed.status_code == 303
    finally:
        await other.aclose()

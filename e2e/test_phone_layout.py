"""On a 375 px wide phone no page a shopper or merchant sees scrolls sideways (e2e/every_page.py):
what does not fit wraps, or scrolls inside its own box."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from e2e.every_page import VISITS, cart

NARROW_PHONE = {"viewport": {"width": 375, "height": 812}, "is_mobile": True, "has_touch": True}


@pytest.mark.parametrize("visit", VISITS.values(), ids=VISITS.keys())
def test_no_page_scrolls_sideways_at_375_px(new_context, visit):
    page = new_context(**NARROW_PHONE).new_page()
    visit(page)
    widths = page.evaluate("({scroll: document.documentElement.scrollWidth,"
                           " client: document.documentElement.clientWidth})")
    wider = page.evaluate("""() => [...document.querySelectorAll('body *')]
        .filter(el => el.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
        .filter(el => !el.closest('.visually-hidden, [hidden]'))
        .slice(0, 5).map(el => el.tagName.toLowerCase() + (el.className ? '.' + el.className : ''))""")
    assert widths["scroll"] <= widths["client"], f"{page.url} is {widths['scroll']} px wide on a " \
        f"{widths['client']} px screen; wider than the screen: {wider}"


def test_on_a_phone_the_cart_shows_shipping_discount_and_total_under_the_total_column(new_context):
    page = new_context(**NARROW_PHONE).new_page()
    cart(page)
    line_total = page.locator("tbody td.num").first.bounding_box()
    amounts = [page.locator(".extra-line", has_text=name).locator(".num") for name in ("Shipping", "WELCOME10")]
    for amount in [*amounts, page.locator("#cart-total")]:
        expect(amount).to_be_visible()
        box = amount.bounding_box()
        assert abs(box["x"] + box["width"] - line_total["x"] - line_total["width"]) < 2, \
            "the footer's amounts stand under the lines' totals"

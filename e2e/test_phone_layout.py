"""On a 375 px wide phone no page a shopper or merchant sees scrolls sideways (e2e/every_page.py):
what does not fit wraps, or scrolls inside its own box."""

from __future__ import annotations

import pytest

from e2e.every_page import VISITS

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

"""axe-core on every page a shopper or merchant sees (e2e/every_page.py): no serious or critical
violation of WCAG 2.2 AA or axe's best practices."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from e2e.axe import assert_accessible
from e2e.every_page import VISITS


@pytest.mark.parametrize("visit", VISITS.values(), ids=VISITS.keys())
def test_axe_finds_nothing_serious(page: Page, visit):
    visit(page)
    assert_accessible(page)

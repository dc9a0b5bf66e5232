"""What every page carries for people and browsers alike: an icon (no 404 per page view) and a
sequence diagram whose labels are whole or say in full what they shortened."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from shop.sequence import CALL_CHARS, sequence_svg

pytestmark = pytest.mark.anyio


async def test_the_icon_a_page_names_and_the_one_a_browser_guesses_are_both_served(shopper):
    page = await shopper.get("/")
    assert '<link rel="icon" href="/static/favicon.svg"' in page.text
    for address in ("/static/favicon.svg", "/favicon.ico"):
        icon = await shopper.get(address)
        assert icon.status_code == 200, address
        assert icon.headers["content-type"].startswith("image/svg+xml")


def event(kind: str, operation: str, direction: str = "out", status: int | None = 200) -> SimpleNamespace:
    return SimpleNamespace(kind=kind, operation=operation, direction=direction, http_status=status)


def test_sequence_labels_are_drawn_whole_when_they_fit():
    state_change = "pending → authorized (SeQura approved the order)"
    svg = sequence_svg([event("call", "POST /orders/5f0c1a/form_v2 start solicitation"),
                        event("transition", state_change, status=None)],
                       [SimpleNamespace(id=1, plugin="sequra")], {"sequra": SimpleNamespace(name="SeQura")})
    assert "POST /orders/5f0c1a/form_v2 start solicitation → 200" in svg
    assert f">{state_change}</text>" in svg  # a note no longer cut at 26 characters
    assert "<title>" not in svg


def test_a_label_too_long_for_the_diagram_keeps_its_whole_text_in_a_title():
    operation = "GET /merchants/cartwheel/orders/" + "x" * 90
    svg = sequence_svg([event("call", operation)], [], {})
    assert f"<title>{operation} → 200</title>" in svg
    assert f"{operation[:CALL_CHARS - 1]}…</text>" in svg

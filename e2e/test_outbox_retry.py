"""The outbox when the mail server refuses a message for good (SMTP 5xx): the back office shows it
parked, and "Retry now" sends it once the server takes it."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from e2e.steps import back_office
from e2e.test_back_office import place_transfer_order
from tests.smtp_sink import SmtpSink

pytestmark = pytest.mark.own_store  # its settings: the test's own SMTP server
SERVER_ENV: dict[str, str] = {}  # SMTP_URL, once the sink below listens
SHOPPER = "mary@example.com"  # place_transfer_order's


@pytest.fixture(scope="module", autouse=True)
def smtp_sink() -> Iterator[SmtpSink]:
    """A mail server on a loopback port, set as the store's before the store starts."""
    sink = SmtpSink().start()
    SERVER_ENV["SMTP_URL"] = sink.url
    yield sink
    sink.stop()


def test_a_message_the_mail_server_refused_is_parked_and_sent_by_retry_now(page: Page, new_context, smtp_sink):
    smtp_sink.refuse(SHOPPER, "550 5.1.1 mailbox unavailable", times=1)
    number = place_transfer_order(page, "TEA-SENCHA")
    merchant = new_context().new_page()
    back_office(merchant).open_order(number).mark_transfer_received()
    merchant.get_by_role("link", name="Outbox").click()
    message = merchant.get_by_role("row").filter(has_text=f"Your order {number} is confirmed")
    deadline = time.monotonic() + 20  # the mailer's pass runs in the background: reload until it tried
    while "parked" not in message.inner_text() and time.monotonic() < deadline:
        merchant.wait_for_timeout(300)
        merchant.reload()
    expect(message.locator(".delivery")).to_contain_text("parked")
    expect(message.locator(".delivery")).to_contain_text("550 5.1.1 mailbox unavailable")
    assert [r.subject for r in smtp_sink.received] == []
    message.get_by_role("button", name="Retry now").click()
    expect(message.locator(".delivery")).to_contain_text("sent")
    expect(message.get_by_role("button", name="Retry now")).to_have_count(0)
    assert [(r.recipient, r.subject) for r in smtp_sink.received] == [(SHOPPER, f"Your order {number} is confirmed")]

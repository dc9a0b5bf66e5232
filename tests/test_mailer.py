"""Order confirmations go out by SMTP when a server is configured."""

from dataclasses import replace

import pytest
from sqlmodel import select

from shop.mailer import send_outbox
from shop.models import OutboxMessage
from tests.smtp_sink import Received, SmtpSink

pytestmark = pytest.mark.anyio


async def test_unsent_confirmations_are_sent_once(app):
    smtp = SmtpSink().start()
    app.state.settings = replace(app.state.settings, smtp_url=smtp.url)
    with app.state.db() as session:
        session.add(OutboxMessage(recipient="ada@example.com", subject="Your order CW-1 is confirmed", body="Thanks!"))
        session.commit()
    try:
        assert await send_outbox(app.state) == 1
        assert await send_outbox(app.state) == 0
    finally:
        smtp.stop()
    assert smtp.received == [Received("ada@example.com", "Your order CW-1 is confirmed")]
    with app.state.db() as session:
        assert session.exec(select(OutboxMessage)).one().sent_at is not None


async def test_without_smtp_messages_stay_in_the_outbox(app):
    with app.state.db() as session:
        session.add(OutboxMessage(recipient="ada@example.com", subject="s", body="b"))
        session.commit()
    assert await send_outbox(app.state) == 0

"""Sends the outbox by SMTP when SMTP_URL is set; without it, messages stay in the outbox."""

from __future__ import annotations

import asyncio
import logging
import smtplib
from email.message import EmailMessage
from urllib.parse import urlsplit

from sqlmodel import select

from shop.models import OutboxMessage, utcnow

log = logging.getLogger(__name__)
SENDER = "Cartwheel <shop@cartwheel.invalid>"
MAX_TRIES_PER_PASS = 20


def _send(url: str, message: OutboxMessage) -> None:
    parts = urlsplit(url)
    email = EmailMessage()
    email["From"], email["To"], email["Subject"] = SENDER, message.recipient, message.subject
    email.set_content(message.body)
    smtp_class = smtplib.SMTP_SSL if parts.scheme == "smtps" else smtplib.SMTP
    with smtp_class(parts.hostname, parts.port or (465 if parts.scheme == "smtps" else 25), timeout=10) as smtp:
        if parts.username:
            smtp.login(parts.username, parts.password or "")
        smtp.send_message(email)


async def send_outbox(state) -> int:
    """Send what is unsent; returns how many went out. Failures are kept on the message."""
    url = state.settings.smtp_url
    if not url:
        return 0
    with state.db() as session:
        pending = session.exec(select(OutboxMessage).where(OutboxMessage.sent_at.is_(None))
                               .order_by(OutboxMessage.id).limit(MAX_TRIES_PER_PASS)).all()
    sent = 0
    for message in pending:
        try:
            await asyncio.to_thread(_send, url, message)  # smtplib blocks: keep it off the event loop
            message.sent_at, message.error = utcnow(), ""
            sent += 1
        except (OSError, smtplib.SMTPException) as exc:
            message.error = f"{type(exc).__name__}: {exc}"[:300]
            log.warning("sending the confirmation for order %s failed: %s", message.order_id, message.error)
        with state.db() as session:
            session.add(message)
            session.commit()
    return sent

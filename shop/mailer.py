"""Sends the outbox by SMTP when SMTP_URL is set; without it, messages stay in the outbox.

Every worker runs the same pass over the same table, so a message is claimed before it is sent:
one conditional UPDATE takes a lease on the row, and only the worker whose UPDATE changed it
sends it. That works alike on SQLite and PostgreSQL. A pass is synchronous (smtplib and the
session both block) and runs in a thread, claim, send and record together.

Delivery is at least once, not exactly once: SMTP has no idempotency key, so a worker that dies
after the server took a message but before it wrote sent_at leaves a lease that runs out, and
another worker sends the message again. The claim stops two live workers sending one row; it
cannot close that window.

A temporary failure (network, timeout, SMTP 4xx) is retried after a growing wait; a permanent
refusal (SMTP 5xx), or too many temporary ones, parks the message until the merchant retries it
from the back office. A pass only picks messages that are due, so a refused one never holds up
the messages queued after it."""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import smtplib
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from urllib.parse import urlsplit

from sqlalchemy import and_, or_, update
from sqlalchemy.engine import Engine
from sqlmodel import select

from shop.db import session as db_session
from shop.i18n import N_, format_datetime, format_time, ngettext
from shop.i18n import gettext as _
from shop.models import OutboxMessage, utcnow

log = logging.getLogger(__name__)
SENDER = "Cartwheel <shop@cartwheel.invalid>"
MAX_PER_PASS = 20
SMTP_TIMEOUT_SECONDS = 10
# Long enough for one send (each SMTP step may take SMTP_TIMEOUT_SECONDS) with room to spare:
# a lease that ran out under a live sender would let a second worker send the same message.
LEASE = timedelta(minutes=2)
FIRST_RETRY_AFTER = timedelta(seconds=30)
LONGEST_WAIT = timedelta(minutes=30)
MAX_ATTEMPTS = 8  # 30 s, 1, 2, 4, 8, 16, 30 min between them: parked about an hour after the first


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after the attempts-th failure: doubling from 30 s, capped."""
    return min(FIRST_RETRY_AFTER * 2 ** (attempts - 1), LONGEST_WAIT)


def _due(now: datetime):
    """Unsent, not parked, not leased to a live worker, not waiting to retry."""
    return and_(OutboxMessage.sent_at.is_(None), OutboxMessage.parked_at.is_(None),
                or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
                or_(OutboxMessage.next_attempt_at.is_(None), OutboxMessage.next_attempt_at <= now))


def _write(engine: Engine, statement) -> int:
    """Run one UPDATE in its own short transaction; returns how many rows it changed."""
    with engine.begin() as connection:
        return connection.execute(statement).rowcount


def claim(engine: Engine, message_id: int, worker: str, now: datetime) -> bool:
    """Lease the message to this worker if it is still due; True when this worker got it.

    The condition and the write are one statement, so of two workers racing for a row
    exactly one sees it changed."""
    return _write(engine, update(OutboxMessage).where(OutboxMessage.id == message_id, _due(now))
                  .values(claimed_by=worker, claimed_until=now + LEASE)) == 1


def worker_name() -> str:
    """Who claims: the host and process, plus a token so two passes never pass for one another."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"[-80:]


def email_of(message: OutboxMessage) -> EmailMessage:
    email = EmailMessage()
    email["From"], email["To"], email["Subject"] = SENDER, message.recipient, message.subject
    email.set_content(message.body)
    if message.html_body:  # the same message as HTML; mail readers pick the richer part they can show
        email.add_alternative(message.html_body, subtype="html")
    return email


def _send(url: str, message: OutboxMessage) -> None:
    parts = urlsplit(url)
    email = email_of(message)
    smtp_class = smtplib.SMTP_SSL if parts.scheme == "smtps" else smtplib.SMTP
    port = parts.port or (465 if parts.scheme == "smtps" else 25)
    with smtp_class(parts.hostname, port, timeout=SMTP_TIMEOUT_SECONDS) as smtp:
        if parts.username:
            smtp.login(parts.username, parts.password or "")
        smtp.send_message(email)


def _refused_for_good(exc: Exception) -> bool:
    """SMTP 5xx means the server will say the same next time; everything else may pass later
    (4xx, a dropped connection, a timeout, a server that is down)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return bool(codes) and all(500 <= code < 600 for code in codes)
    if isinstance(exc, smtplib.SMTPResponseException):
        return 500 <= exc.smtp_code < 600
    return False


def _describe(exc: Exception) -> str:
    def reply(code: int, text: bytes | str) -> str:
        return f"{code} {text.decode(errors='replace') if isinstance(text, bytes) else text}"

    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        said = "; ".join(f"{to}: {reply(*answer)}" for to, answer in exc.recipients.items())
    elif isinstance(exc, smtplib.SMTPResponseException):
        said = reply(exc.smtp_code, exc.smtp_error)
    else:
        said = str(exc) or "no details"
    return f"{type(exc).__name__}: {said}"[:300]


def _record_sent(engine: Engine, message_id: int, now: datetime) -> None:
    # Whoever holds the lease now: it went out, and saying so stops anyone sending it again.
    _write(engine, update(OutboxMessage).where(OutboxMessage.id == message_id, OutboxMessage.sent_at.is_(None))
           .values(sent_at=now, claimed_until=None, next_attempt_at=None))


def _record_failure(engine: Engine, message: OutboxMessage, worker: str, now: datetime, exc: Exception) -> None:
    attempts = message.attempts + 1
    park = _refused_for_good(exc) or attempts >= MAX_ATTEMPTS
    changes = {"attempts": attempts, "error": _describe(exc), "claimed_until": None,
               "parked_at": now if park else None, "next_attempt_at": None if park else now + retry_delay(attempts)}
    # Only while this worker still holds the claim: if the lease ran out and another worker has
    # the row, its own outcome is the one to keep.
    _write(engine, update(OutboxMessage).where(OutboxMessage.id == message.id, OutboxMessage.claimed_by == worker,
                                               OutboxMessage.sent_at.is_(None)).values(**changes))
    log.warning("sending outbox message %s (order %s) failed, %s: %s", message.id, message.order_id,
                "parked" if park else f"attempt {attempts}, will retry", changes["error"])


def send_due(engine: Engine, url: str, *, now: datetime | None = None, limit: int = MAX_PER_PASS,
             only: int | None = None) -> int:
    """One pass: claim, send and record each due message in turn; returns how many went out.

    ``now`` fixes the clock (tests); otherwise each claim and record reads the time afresh.
    ``only`` limits the pass to one message (the back office's "Retry now")."""
    clock: Callable[[], datetime] = (lambda: now) if now else utcnow
    worker = worker_name()
    query = select(OutboxMessage.id).where(_due(clock())).order_by(OutboxMessage.id).limit(limit)
    if only is not None:
        query = query.where(OutboxMessage.id == only)
    with db_session(engine) as session:
        candidates = session.exec(query).all()
    sent = 0
    for message_id in candidates:
        if not claim(engine, message_id, worker, clock()):
            continue  # another worker took it since the query, or it went out meanwhile
        with db_session(engine) as session:
            message = session.get(OutboxMessage, message_id)  # read after the claim: attempts are current
        if message is None:
            continue  # deleted meanwhile (the demo's reset)
        try:
            _send(url, message)
        except Exception as exc:  # one message that cannot go must not stop the others
            _record_failure(engine, message, worker, clock(), exc)
            continue
        _record_sent(engine, message_id, clock())
        sent += 1
    return sent


async def send_outbox(state, now: datetime | None = None) -> int:
    """Send what is due; returns how many went out. Failures are kept on the message."""
    url = state.settings.smtp_url
    if not url:
        return 0
    return await asyncio.to_thread(send_due, state.engine, url, now=now)


def _unpark(engine: Engine, message_id: int) -> bool:
    """Queue a parked message again with a fresh round of attempts; its last error stays shown."""
    return _write(engine, update(OutboxMessage).where(
        OutboxMessage.id == message_id, OutboxMessage.parked_at.is_not(None), OutboxMessage.sent_at.is_(None))
        .values(parked_at=None, next_attempt_at=None, claimed_until=None, attempts=0)) == 1


def _retry_now(engine: Engine, url: str, message_id: int) -> OutboxMessage | None:
    if _unpark(engine, message_id) and url:
        send_due(engine, url, only=message_id)
    with db_session(engine) as session:
        return session.get(OutboxMessage, message_id)


async def retry_now(state, message_id: int) -> OutboxMessage | None:
    """Un-park a message and, with SMTP set, try it at once; returns it as it is afterwards."""
    return await asyncio.to_thread(_retry_now, state.engine, state.settings.smtp_url, message_id)


# The states as the back office names them, in its user's language.
DELIVERY_LABELS = {"sent": N_("sent"), "sending": N_("sending"), "retrying": N_("retrying"), "parked": N_("parked"),
                   "queued": N_("queued"), "held": N_("held")}


@dataclass(frozen=True)
class DeliveryState:
    name: str  # sent | sending | retrying | parked | queued | held
    details: str = ""

    @property
    def label(self) -> str:
        return _(DELIVERY_LABELS[self.name])

    def __str__(self) -> str:
        return f"{self.label} {self.details}".rstrip()


def delivery_state(message: OutboxMessage, now: datetime, smtp_configured: bool) -> DeliveryState:
    """What the back office says about a message."""
    attempts = ngettext("%(count)s attempt", "%(count)s attempts", message.attempts) % {"count": message.attempts}
    if message.sent_at:
        return DeliveryState("sent", _("at %(when)s") % {"when": format_datetime(message.sent_at)})
    if message.parked_at:
        return DeliveryState("parked", _("since %(when)s after %(attempts)s: %(error)s") % {
            "when": format_datetime(message.parked_at), "attempts": attempts, "error": message.error})
    if message.claimed_until and message.claimed_until > now:
        return DeliveryState("sending", _("by %(worker)s") % {"worker": message.claimed_by})
    if message.next_attempt_at and message.next_attempt_at > now:
        return DeliveryState("retrying", _("at %(when)s after %(attempts)s: %(error)s") % {
            "when": format_time(message.next_attempt_at), "attempts": attempts, "error": message.error})
    if not smtp_configured:
        return DeliveryState("held", _("here: no SMTP server is set"))
    return DeliveryState("queued", _("(last error: %(error)s)") % {"error": message.error} if message.error else "")

"""The back office's guards: server-side sessions and a login rate limit, both in the database so
that they hold across every worker and process.

A session is a random id in the (signed) cookie and its SHA-256 in ``AdminSession``: logout deletes
the row, so a cookie copied before it opens nothing after; a changed ADMIN_PASSWORD no longer
matches the row's fingerprint; a session unused for ADMIN_IDLE_MINUTES expires.

Wrong passwords are rows of ``AdminLoginFailure`` per client address: after ``MAX_FAILURES`` in
``FAILURE_WINDOW`` the login answers 429 until the oldest of them leaves the window."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta

from sqlmodel import col, delete, func, select

from shop.models import AdminLoginFailure, AdminSession, utcnow

MAX_FAILURES = 10
FAILURE_WINDOW = timedelta(minutes=10)
# last_seen_at is written at most this often: not one write per back-office page.
TOUCH_EVERY = timedelta(seconds=60)


def password_fingerprint(secret_key: str, password: str) -> str:
    """Keyed, so that the table does not hold a hash of the password one could guess offline."""
    return hmac.new(secret_key.encode(), password.encode(), hashlib.sha256).hexdigest()


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def open_session(db, fingerprint: str) -> str:
    """A new session; returns the id for the cookie."""
    session_id = secrets.token_urlsafe(32)
    with db() as session:
        session.add(AdminSession(id_hash=_hash(session_id), password_fingerprint=fingerprint))
        session.commit()
    return session_id


def session_is_valid(db, session_id: str, fingerprint: str, idle: timedelta, now: datetime | None = None) -> bool:
    """Whether the session is open, opened with the current password, and used within ``idle``;
    a valid one is marked used, an expired or stale one is deleted."""
    now = now or utcnow()
    with db() as session:
        row = session.get(AdminSession, _hash(session_id))
        if row is None:
            return False
        if row.password_fingerprint != fingerprint or now - row.last_seen_at > idle:
            session.delete(row)
            session.commit()
            return False
        if now - row.last_seen_at > TOUCH_EVERY:
            row.last_seen_at = now
            session.add(row)
            session.commit()
    return True


def close_session(db, session_id: str) -> None:
    with db() as session:
        session.exec(delete(AdminSession).where(col(AdminSession.id_hash) == _hash(session_id)))
        session.commit()


def retry_after_seconds(db, client: str, now: datetime | None = None) -> int:
    """0 when ``client`` may try a password; else how long until it may."""
    now = now or utcnow()
    since = now - FAILURE_WINDOW
    with db() as session:
        count, oldest = session.exec(select(func.count(), func.min(AdminLoginFailure.at))
                                     .where(AdminLoginFailure.client == client, AdminLoginFailure.at > since)).one()
    if count < MAX_FAILURES:
        return 0
    return max(1, int((_aware(oldest) + FAILURE_WINDOW - now).total_seconds()) + 1)


def record_failure(db, client: str, now: datetime | None = None) -> None:
    """One more wrong password from ``client``; failures older than the window are dropped."""
    now = now or utcnow()
    with db() as session:
        session.exec(delete(AdminLoginFailure).where(col(AdminLoginFailure.at) <= now - FAILURE_WINDOW))
        session.add(AdminLoginFailure(client=client[:64], at=now))
        session.commit()


def clear_failures(db, client: str) -> None:
    with db() as session:
        session.exec(delete(AdminLoginFailure).where(col(AdminLoginFailure.client) == client[:64]))
        session.commit()


def _aware(moment: datetime) -> datetime:
    # func.min() returns the raw column value: SQLite gives it back without its time zone.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

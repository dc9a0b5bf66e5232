"""Back-office sessions and the login rate limit, on the database every worker shares."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shop import admin_security as guard
from shop.cli import upgrade
from shop.db import Database, make_engine
from shop.models import utcnow
from shop.settings import DEMO_ADMIN_PASSWORD, Settings, SettingsError, check_admin_password

from .postgres_databases import new_database

IDLE = timedelta(minutes=30)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.slow)])
def db(request, tmp_path):
    """The tables as migration 0004 makes them, on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/admin.db"
    else:
        url = new_database(request.getfixturevalue("postgres"))
    upgrade(Settings.from_env({"DATABASE_URL": url}))
    database = Database(make_engine(url))
    yield database
    database.close()


def test_a_session_ends_at_logout_at_a_password_change_and_when_idle(db):
    key = "test-secret-key-0123456789"
    fingerprint = guard.password_fingerprint(key, "first-password-123")
    session_id = guard.open_session(db, fingerprint)
    now = utcnow()
    assert guard.session_is_valid(db, session_id, fingerprint, IDLE, now)
    assert not guard.session_is_valid(db, "a-guessed-id", fingerprint, IDLE, now)
    # Used within the idle time, it lives on; once idle longer, it is gone for good.
    assert guard.session_is_valid(db, session_id, fingerprint, IDLE, now + timedelta(minutes=29))
    assert guard.session_is_valid(db, session_id, fingerprint, IDLE, now + timedelta(minutes=58))
    assert not guard.session_is_valid(db, session_id, fingerprint, IDLE, now + timedelta(minutes=89))
    assert not guard.session_is_valid(db, session_id, fingerprint, IDLE, now)

    changed = guard.password_fingerprint(key, "second-password-456")
    session_id = guard.open_session(db, fingerprint)
    assert not guard.session_is_valid(db, session_id, changed, IDLE)

    session_id = guard.open_session(db, fingerprint)
    guard.close_session(db, session_id)
    assert not guard.session_is_valid(db, session_id, fingerprint, IDLE)


def test_ten_failures_in_ten_minutes_lock_an_address_out_until_the_oldest_leaves_the_window(db):
    start = utcnow()
    for minute in range(guard.MAX_FAILURES):
        assert guard.retry_after_seconds(db, "203.0.113.9", start + timedelta(minutes=minute * 0.5)) == 0
        guard.record_failure(db, "203.0.113.9", start + timedelta(minutes=minute * 0.5))
    later = start + timedelta(minutes=5)
    assert 299 <= guard.retry_after_seconds(db, "203.0.113.9", later) <= 301
    assert guard.retry_after_seconds(db, "198.51.100.7", later) == 0  # another address is not locked out
    assert guard.retry_after_seconds(db, "203.0.113.9", start + timedelta(minutes=10, seconds=1)) == 0
    guard.clear_failures(db, "203.0.113.9")
    assert guard.retry_after_seconds(db, "203.0.113.9", later) == 0


def test_real_providers_need_a_password_of_their_own():
    settings = Settings.from_env({"ADMIN_PASSWORD": DEMO_ADMIN_PASSWORD})
    check_admin_password(settings, [])  # a demo keeps its printed password
    for weak in (DEMO_ADMIN_PASSWORD, "elevenchars"):
        with pytest.raises(SettingsError, match="^ADMIN_PASSWORD: seqr talk to real providers"):
            check_admin_password(Settings.from_env({"ADMIN_PASSWORD": weak}), ["seqr"])
    check_admin_password(Settings.from_env({"ADMIN_PASSWORD": "twelve-chars"}), ["seqr"])

"""The outbox with many workers: each message claimed before it is sent, temporary failures
retried after a growing wait, permanent refusals parked without holding up the others, and the
back office showing all of it. The clock is passed in, never slept on."""

from __future__ import annotations

import multiprocessing
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import SQLModel

from shop.cli import upgrade
from shop.db import make_engine
from shop.db import session as db_session
from shop.mailer import LEASE, MAX_ATTEMPTS, _record_failure, claim, retry_delay, send_due
from shop.models import OutboxMessage
from shop.testing.server import free_port
from shop.testing.shopper import Shopper, make_settings
from tests.smtp_sink import Received, SmtpSink

T0 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
WORKERS = 2
QUEUED = 12


@pytest.fixture
def sink():
    sink = SmtpSink().start()
    yield sink
    sink.stop()


@pytest.fixture
def engine(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path}/outbox.db")
    SQLModel.metadata.create_all(engine)
    yield engine
    engine.dispose()


def queue(engine, *recipients: str) -> list[int]:
    with db_session(engine) as session:
        messages = [OutboxMessage(recipient=to, subject=f"Your order CW-{n} is confirmed", body="Thanks!")
                    for n, to in enumerate(recipients, start=1)]
        session.add_all(messages)
        session.commit()
        return [m.id for m in messages]


def load(engine, message_id: int) -> OutboxMessage:
    with db_session(engine) as session:
        return session.get(OutboxMessage, message_id)


# --------------------------------------------------------------------------- two workers, one outbox

def _worker(database_url: str, smtp_url: str, start, results) -> None:
    """A worker process: its own engine, one send pass started at the same moment as the others'."""
    engine = make_engine(database_url)
    with engine.connect():
        pass  # connect (and import the driver) before the start, so that both passes overlap
    start.wait(timeout=60)  # every worker ready: they start their passes together
    results.put(send_due(engine, smtp_url))
    engine.dispose()


def _two_workers_send_the_outbox(tmp_path, database_url: str) -> None:
    upgrade(make_settings(tmp_path, DATABASE_URL=database_url))
    engine = make_engine(database_url)
    ids = queue(engine, *(f"customer{n}@example.com" for n in range(QUEUED)))
    # A slow server keeps each pass busy for a quarter of a second, so that the two passes overlap.
    sink = SmtpSink(delay_seconds=0.02).start()
    spawn = multiprocessing.get_context("spawn")
    start, results = spawn.Barrier(WORKERS), spawn.Queue()
    workers = [spawn.Process(target=_worker, args=(database_url, sink.url, start, results)) for _ in range(WORKERS)]
    try:
        for process in workers:
            process.start()
        sent = [results.get(timeout=60) for _ in workers]
        for process in workers:
            process.join(timeout=30)
            assert process.exitcode == 0
    finally:
        for process in workers:
            if process.is_alive():
                process.kill()
        sink.stop()
    subjects = sorted(r.subject for r in sink.received)
    assert subjects == sorted(f"Your order CW-{n} is confirmed" for n in range(1, QUEUED + 1)), \
        f"each message once, not {len(subjects)} deliveries: {subjects}"
    assert sum(sent) == QUEUED
    assert all(load(engine, i).sent_at is not None for i in ids)
    engine.dispose()


def test_two_worker_processes_send_each_message_once_on_sqlite(tmp_path):
    _two_workers_send_the_outbox(tmp_path, f"sqlite:///{tmp_path}/shared.db")


@pytest.mark.slow
def test_two_worker_processes_send_each_message_once_on_postgres(postgres, tmp_path):
    _two_workers_send_the_outbox(tmp_path, postgres.url)


# --------------------------------------------------------------------------- failures

def test_a_temporary_refusal_is_retried_after_the_wait(engine, sink):
    (message_id,) = queue(engine, "bob@example.com")
    sink.refuse("bob@example.com", "451 4.3.0 mailbox busy, try later", times=1)

    assert send_due(engine, sink.url, now=T0) == 0
    failed = load(engine, message_id)
    assert failed.attempts == 1 and failed.parked_at is None and failed.sent_at is None
    assert failed.next_attempt_at == T0 + retry_delay(1) == T0 + timedelta(seconds=30)
    assert "451 4.3.0 mailbox busy" in failed.error

    assert send_due(engine, sink.url, now=T0 + timedelta(seconds=29)) == 0  # still waiting
    assert sink.tried == ["bob@example.com"]

    assert send_due(engine, sink.url, now=T0 + timedelta(seconds=30)) == 1
    assert sink.received == [Received("bob@example.com", "Your order CW-1 is confirmed")]
    sent = load(engine, message_id)
    assert sent.sent_at == T0 + timedelta(seconds=30) and sent.attempts == 1


def test_a_server_that_is_down_counts_as_temporary(engine):
    (message_id,) = queue(engine, "ada@example.com")
    nobody_listens = f"smtp://127.0.0.1:{free_port()}"
    assert send_due(engine, nobody_listens, now=T0) == 0
    failed = load(engine, message_id)
    assert failed.attempts == 1 and failed.parked_at is None
    assert failed.next_attempt_at == T0 + timedelta(seconds=30) and "ConnectionRefusedError" in failed.error


def test_the_wait_doubles_and_too_many_temporary_failures_park_the_message(engine, sink):
    (message_id,) = queue(engine, "bob@example.com")
    sink.refuse("bob@example.com", "421 4.7.0 too busy")
    now, waits = T0, []
    for _ in range(MAX_ATTEMPTS):
        assert send_due(engine, sink.url, now=now) == 0
        message = load(engine, message_id)
        if message.next_attempt_at:
            waits.append(message.next_attempt_at - now)
            now = message.next_attempt_at
    assert [w.total_seconds() for w in waits] == [30, 60, 120, 240, 480, 960, 1800][:MAX_ATTEMPTS - 1]
    parked = load(engine, message_id)
    assert parked.parked_at == now and parked.attempts == MAX_ATTEMPTS and "421 4.7.0 too busy" in parked.error
    assert send_due(engine, sink.url, now=now + timedelta(days=1)) == 0
    assert len(sink.tried) == MAX_ATTEMPTS


def test_a_permanent_refusal_is_parked_and_the_next_message_still_goes(engine, sink):
    refused, fine = queue(engine, "nobody@example.com", "ada@example.com")
    sink.refuse("nobody@example.com", "550 5.1.1 no such user")

    assert send_due(engine, sink.url, now=T0) == 1
    assert sink.received == [Received("ada@example.com", "Your order CW-2 is confirmed")]
    parked = load(engine, refused)
    assert parked.parked_at == T0 and parked.attempts == 1 and parked.next_attempt_at is None
    assert parked.error == "SMTPRecipientsRefused: nobody@example.com: 550 5.1.1 no such user"
    assert load(engine, fine).sent_at == T0

    assert send_due(engine, sink.url, now=T0 + timedelta(days=1)) == 0  # parked: not tried again
    assert sink.tried == ["nobody@example.com", "ada@example.com"]


def test_a_failing_first_message_does_not_starve_the_ones_after_it(engine, sink):
    waiting, parked, fine = queue(engine, "bob@example.com", "nobody@example.com", "ada@example.com")
    sink.refuse("bob@example.com", "451 4.3.0 try later")
    sink.refuse("nobody@example.com", "550 5.1.1 no such user")
    # One message per pass: each pass must pick a message the earlier ones have not failed on.
    for second in range(3):
        send_due(engine, sink.url, now=T0 + timedelta(seconds=second), limit=1)
    assert sink.tried == ["bob@example.com", "nobody@example.com", "ada@example.com"]
    assert sink.received == [Received("ada@example.com", "Your order CW-3 is confirmed")]
    assert load(engine, waiting).next_attempt_at and load(engine, parked).parked_at


# --------------------------------------------------------------------------- the lease

def test_a_message_claimed_by_a_dead_worker_is_sent_once_the_lease_has_passed(engine, sink):
    (message_id,) = queue(engine, "ada@example.com")
    assert claim(engine, message_id, "host:4242:dead", T0)  # it claimed, then died before sending
    assert not claim(engine, message_id, "host:4343:live", T0 + timedelta(seconds=1))

    assert send_due(engine, sink.url, now=T0 + LEASE - timedelta(seconds=1)) == 0
    assert sink.tried == []
    assert send_due(engine, sink.url, now=T0 + LEASE + timedelta(seconds=1)) == 1
    assert sink.received == [Received("ada@example.com", "Your order CW-1 is confirmed")]
    assert load(engine, message_id).claimed_by != "host:4242:dead"


def test_a_late_failure_from_a_worker_whose_lease_ran_out_is_not_recorded(engine, sink):
    (message_id,) = queue(engine, "ada@example.com")
    assert claim(engine, message_id, "host:1:slow", T0)
    later = T0 + LEASE + timedelta(seconds=1)
    assert claim(engine, message_id, "host:2:fast", later)  # the slow worker's lease ran out
    # The slow worker reports its failure while the fast one sends: the fast one keeps the row.
    _record_failure(engine, load(engine, message_id), "host:1:slow", later, OSError("timed out"))
    message = load(engine, message_id)
    assert message.claimed_by == "host:2:fast" and message.claimed_until == later + LEASE
    assert message.attempts == 0 and message.error == ""
    assert not claim(engine, message_id, "host:3:third", later + timedelta(seconds=1))


# --------------------------------------------------------------------------- the back office

@pytest.fixture
async def merchant(app):
    shopper = Shopper(app)
    await shopper.login_admin()
    yield shopper
    await shopper.aclose()


def put(app, **fields) -> int:
    with app.state.db() as session:
        message = OutboxMessage(**{"recipient": "nobody@example.com", "subject": "Your order CW-7 is confirmed",
                                   "body": "b", **fields})
        session.add(message)
        session.commit()
        return message.id


@pytest.mark.anyio
async def test_the_back_office_shows_each_state_and_retry_now_unparks(app, merchant):
    parked = put(app, parked_at=T0, attempts=1, error="SMTPRecipientsRefused: nobody@example.com: 550 no such user")
    retrying = put(app, recipient="bob@example.com", attempts=2, error="SMTPServerDisconnected: gone",
                   next_attempt_at=datetime.now(UTC) + timedelta(minutes=5))
    sent = put(app, recipient="ada@example.com", sent_at=T0)
    page = (await merchant.get("/admin/outbox")).text
    row = {i: page.split(f'id="message-{i}"')[1].split("</tr>")[0] for i in (parked, retrying, sent)}
    assert ">parked<" in row[parked] and "after 1 attempt: SMTPRecipientsRefused" in row[parked]
    assert "Retry now" in row[parked]
    assert ">retrying<" in row[retrying] and "after 2 attempts: SMTPServerDisconnected: gone" in row[retrying]
    assert ">sent<" in row[sent] and "Dec 1, 2026, 10:00" in row[sent]
    assert "Retry now" not in row[retrying] + row[sent]

    await merchant.post(f"/admin/outbox/{retrying}/retry")  # from a page that is out of date: not parked
    assert load(app.state.engine, retrying).attempts == 2 and load(app.state.engine, retrying).next_attempt_at

    refused = await merchant.post(f"/admin/outbox/{parked}/retry", csrf=False)
    assert refused.status_code == 403 and load(app.state.engine, parked).parked_at is not None

    response = await merchant.post(f"/admin/outbox/{parked}/retry")
    assert response.status_code == 303 and response.headers["location"] == "/admin/outbox"
    unparked = load(app.state.engine, parked)
    assert unparked.parked_at is None and unparked.attempts == 0 and unparked.next_attempt_at is None
    page = (await merchant.get("/admin/outbox")).text
    assert "The message to nobody@example.com is now held here: no SMTP server is set." in page
    assert "Retry now" not in page


@pytest.mark.anyio
async def test_retry_now_sends_a_parked_message_at_once(app, merchant, sink):
    app.state.settings = replace(app.state.settings, smtp_url=sink.url)
    parked = put(app, recipient="ada@example.com", parked_at=T0, attempts=1, error="550 mailbox full")
    await merchant.post(f"/admin/outbox/{parked}/retry")
    assert sink.received == [Received("ada@example.com", "Your order CW-7 is confirmed")]
    assert load(app.state.engine, parked).sent_at is not None
    assert "The message to ada@example.com is now sent at" in (await merchant.get("/admin/outbox")).text

    sink.refuse("nobody@example.com", "550 5.1.1 no such user")
    again = put(app, parked_at=T0, attempts=1, error="550 5.1.1 no such user")
    await merchant.post(f"/admin/outbox/{again}/retry")
    page = (await merchant.get("/admin/outbox")).text
    assert "The message to nobody@example.com is now parked since" in page and "Retry now" in page

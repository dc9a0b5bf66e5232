"""SeQura's daily delivery report: built from the shop's orders, sent once a day by one worker
(claimed in the database, also across processes on PostgreSQL), and from the back office."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import SQLModel

from plugins.sequra import delivery_report
from shop.db import Database, make_engine
from shop.payments.services import claim_run
from shop.testing.services import PostgresServer
from tests.postgres_databases import new_database
from tests.processes import run_together

from .conftest import make_payment

pytestmark = pytest.mark.anyio
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


async def test_the_back_office_sends_one_now_and_the_sandbox_records_it(world):
    started = await world.start(make_payment())
    await world.shopper_completes(started.reference)
    await world.shopper.login_admin()
    page = await world.shopper.get("/admin/sequra/delivery-report")
    assert page.status_code == 200 and "Send the delivery report now" in page.text
    sent = await world.shopper.post("/admin/sequra/delivery-report", {})
    assert sent.status_code == 200 and "Sent to SeQura" in sent.text
    [report] = world.sandbox.delivery_reports
    assert report["merchant"] == {"id": "dummy_automated_tests"}
    [stats] = report["statistics"]["orders"]
    assert stats["merchant_reference"] == {"order_ref_1": "1042"} and stats["payment_method"] == "SQ"
    assert stats["amount"] == 10450 and stats["currency"] == "EUR" and stats["completed_at"]


async def test_the_daily_report_is_sent_once_a_day_even_when_empty(world):
    assert await delivery_report.send_daily(world.plugin, NOW) is True
    assert await delivery_report.send_daily(world.plugin, NOW.replace(hour=15)) is False  # the same day
    assert len(world.sandbox.delivery_reports) == 1
    assert world.sandbox.delivery_reports[0]["statistics"] == {"orders": []}
    assert await delivery_report.send_daily(world.plugin, NOW.replace(day=2)) is True


async def test_a_report_sequra_refuses_is_tried_again(world):
    world.sandbox.scenario.server_error = True
    assert await delivery_report.send_daily(world.plugin, NOW) is False
    world.sandbox.scenario.server_error = False
    assert await delivery_report.send_daily(world.plugin, NOW) is True
    assert len(world.sandbox.delivery_reports) == 1


def _claim(url: str, day: str, barrier) -> bool:
    database = Database(make_engine(url))
    try:
        barrier.wait()
        return claim_run(database, delivery_report.operation(day))
    finally:
        database.close()


@pytest.mark.slow
def test_workers_on_postgresql_claim_a_day_exactly_once(postgres):
    url = new_database(postgres)
    engine = make_engine(url)
    SQLModel.metadata.create_all(engine)
    engine.dispose()
    claims = run_together(_claim, [(url, "2026-12-01")] * 4)
    assert sorted(claims) == [False, False, False, True]


@pytest.fixture(scope="module")
def postgres():
    server = PostgresServer().start()
    yield server
    server.stop()

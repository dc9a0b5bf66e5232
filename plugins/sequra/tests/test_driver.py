"""The contract kit's driver, used the way the kit will use it."""

from __future__ import annotations

import httpx
import pytest

from plugins.sequra.sandbox.driver import Driver
from plugins.sequra.tests.conftest import make_payment
from shop.payments.contract import PaymentStatus
from shop.testing.driver import SandboxDriver

pytestmark = pytest.mark.anyio


async def deliver(world, request) -> httpx.Response:
    return await world.outbound.request(request.method, request.url, headers=dict(request.headers),
                                        content=request.body)


@pytest.fixture
def driver(world):
    return Driver(world.sandbox)


async def test_it_is_a_sandbox_driver_and_holds_callbacks(world, driver):
    assert isinstance(driver, SandboxDriver) and world.sandbox.hold_callbacks


async def test_pay_returns_the_ipn_unsent_and_delivering_it_pays(world, driver):
    started = await world.start(make_payment())
    callback = await driver.pay(world.payment(), started)
    assert world.replies == [] and callback.url == world.payment().urls.callback
    assert b"sq_state=approved" in callback.body
    assert (await deliver(world, callback)).status_code == 200
    assert world.payment().status is PaymentStatus.PAID
    assert (await deliver(world, callback)).status_code == 200  # delivered twice, applied once
    assert [o.raw_status for o in world.applied] == ["confirmed"]


async def test_a_forged_paid_claim_passes_verification_but_pays_nothing(world, driver):
    started = await world.start(make_payment())
    callback = await driver.forge_paid_claim(world.payment(), started)
    claim = await world.plugin.verify_callback(None, callback.body, world.payment())
    assert claim.event == "approved"
    assert (await deliver(world, callback)).status_code == 409
    assert world.payment().status is PaymentStatus.PENDING and world.applied == []


async def test_broken_read_back_is_answered_200_owed_then_recovers(world, driver):
    started = await world.start(make_payment())
    callback = await driver.pay(world.payment(), started)
    driver.break_read_back(True)
    assert (await deliver(world, callback)).status_code == 200  # SeQura would not send it again
    assert world.payment().status is PaymentStatus.PENDING and world.intent().tries == 1
    driver.break_read_back(False)
    assert (await deliver(world, callback)).status_code == 200
    assert world.payment().status is PaymentStatus.PAID


async def test_held_callbacks_include_the_review_and_events(world, driver):
    world.sandbox.scenario.decision = "review_cancel"
    started = await world.start(make_payment())
    await world.shopper_completes(started.reference)
    assert world.replies == []
    ipn = world.sandbox.held.pop()
    assert b"sq_state=needs_review" in ipn.body
    assert (await deliver(world, ipn)).status_code == 200
    assert world.payment().status is PaymentStatus.PENDING

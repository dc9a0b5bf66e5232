"""The sandbox driver, used the way the contract kit will use it."""

from __future__ import annotations

import dataclasses

import httpx
import pytest

from plugins.seqr.plugin import SeqrPlugin
from plugins.seqr.sandbox.driver import Driver
from plugins.seqr.settings import SeqrSettings
from shop.payments.contract import PaymentStatus, PluginRuntime, ProviderUnavailable, StartContext
from shop.testing.driver import SandboxDriver

from .conftest import ENDPOINT, SANDBOX, make_payment

pytestmark = pytest.mark.anyio


@pytest.fixture
def plugin(http):
    return SeqrPlugin(SeqrSettings(base_url=ENDPOINT), PluginRuntime(http=http, public_url="http://shop.test",
                                                                     sandbox_url=SANDBOX))


async def start(plugin):
    payment = make_payment()
    started = await plugin.start(payment, StartContext())
    return dataclasses.replace(payment, reference=started.reference, data=started.data), started


async def test_pay_returns_the_held_notification(plugin, sb, shop):
    driver = Driver(sb)
    assert isinstance(driver, SandboxDriver)
    payment, started = await start(plugin)
    callback = await driver.pay(payment, started)
    assert (callback.method, callback.url) == ("POST", payment.urls.callback)
    assert callback.body == b""  # the empty POST of SEQR's Instant Checkout guide
    assert shop.received == []  # held, not sent
    claim = await plugin.verify_callback(None, callback.body, payment)
    assert (await plugin.fetch(payment, claim)).status is PaymentStatus.PAID


async def test_forged_claim_is_not_backed_by_seqr(plugin, sb):
    driver = Driver(sb)
    payment, started = await start(plugin)
    callback = await driver.forge_paid_claim(payment, started)
    assert callback.url == payment.urls.callback
    claim = await plugin.verify_callback(None, callback.body, payment)  # SEQR signs nothing
    assert (await plugin.fetch(payment, claim)).status is PaymentStatus.PENDING


async def test_broken_read_back(plugin, sb):
    driver = Driver(sb)
    payment, started = await start(plugin)
    driver.break_read_back(True)
    with pytest.raises(ProviderUnavailable) as info:
        await plugin.fetch(payment)
    assert info.value.status == 502
    driver.break_read_back(False)
    assert (await plugin.fetch(payment)).status is PaymentStatus.PENDING


async def test_delivered_callback_reaches_the_shop(plugin, sb, shop):
    driver = Driver(sb)
    payment, started = await start(plugin)
    callback = await driver.pay(payment, started)
    async with httpx.AsyncClient(transport=httpx.MockTransport(shop.handler)) as http:
        await http.request(callback.method, callback.url, headers=callback.headers, content=callback.body)
    assert shop.received[0].method == "POST" and shop.received[0].content == b""


async def test_other_outcomes(plugin, sb):
    driver = Driver(sb)
    payment, started = await start(plugin)
    assert driver.bank_declines(started) == "failed"
    assert (await plugin.fetch(payment)).status is PaymentStatus.FAILED
    payment, started = await start(plugin)
    driver.payer_cancels(started)
    assert (await plugin.fetch(payment)).status is PaymentStatus.CANCELLED


async def test_paid_but_unread_is_reversed(plugin, sb):
    driver = Driver(sb)
    payment, started = await start(plugin)
    await driver.pay(payment, started)  # the notification is held: lost, as far as the shop knows
    driver.advance(20)
    assert (await plugin.fetch(payment)).status is PaymentStatus.CANCELLED
    assert len(sb.sms) == 1

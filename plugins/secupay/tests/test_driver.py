import json

import pytest

from plugins.secupay.sandbox.driver import Driver
from shop.payments.contract import PaymentStatus, ProviderUnavailable, StartContext
from shop.testing.driver import CallbackRequest

from .conftest import make_payment, started_payment


async def start(plugin, option="general"):
    payment = make_payment(option=option)
    started = await plugin.start(payment, StartContext())
    return started_payment(payment, started), started


@pytest.mark.anyio
@pytest.mark.parametrize("option", ["general", "creditcard", "debit", "paypal", "prepaid", "invoice"])
async def test_pay_holds_the_push_and_hands_it_over(plugin, sandbox, inbox, option):
    driver = Driver(sandbox)
    payment, started = await start(plugin, option)
    request = await driver.pay(payment, started)
    assert isinstance(request, CallbackRequest) and request.method == "POST"
    assert request.url == payment.urls.callback
    await sandbox.pusher.drain()
    assert inbox.requests == []  # held, not sent
    claim = await plugin.verify_callback(None, request.body, payment)
    assert (await plugin.fetch(payment, claim)).status is PaymentStatus.PAID


@pytest.mark.anyio
async def test_forged_claim_passes_verification_but_not_read_back(plugin, sandbox):
    driver = Driver(sandbox)
    payment, started = await start(plugin)
    forged = await driver.forge_paid_claim(payment, started)
    claim = await plugin.verify_callback(None, forged.body, payment)
    assert json.loads(forged.body)["object"] == "event.pushes"
    assert (await plugin.fetch(payment, claim)).status is PaymentStatus.PENDING


@pytest.mark.anyio
async def test_break_read_back(plugin, sandbox):
    driver = Driver(sandbox)
    payment, started = await start(plugin)
    driver.break_read_back(True)
    with pytest.raises(ProviderUnavailable):
        await plugin.fetch(payment)
    driver.break_read_back(False)
    assert (await plugin.fetch(payment)).status is PaymentStatus.PENDING

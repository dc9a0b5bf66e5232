"""IPNs and events as the shop receives them: verified, forged, replayed, unknown."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from plugins.sequra.payload import sign
from plugins.sequra.tests.conftest import make_payment
from shop.payments.contract import CallbackOutcome, CallbackRejected, PaymentStatus, UnsupportedCallback

pytestmark = pytest.mark.anyio
SECRET = "cartwheel-sandbox"  # no hmac_secret set: the account secret signs


def ipn(attempt, **over):
    fields = {"order": attempt.order.number, "payment": str(attempt.id),
              "signature": sign(SECRET, "ipn", attempt.id, attempt.order.number),
              "order_ref": attempt.reference, "product_code": "i1", "sq_state": "approved", "approved_since": "3"}
    fields.update(over)
    return urlencode({k: v for k, v in fields.items() if v is not None}).encode()


def event(attempt, name="cancelled", **over):
    fields = {"charset": "UTF-8", "utf8": "√", "event": name, "order_ref_1": "1042", "order_ref_2": "",
              "order_ref": attempt.reference, "m_order": attempt.order.number, "m_payment": str(attempt.id),
              "m_signature": sign(SECRET, "events", attempt.id, attempt.order.number)}
    fields.update(over)
    return urlencode({k: v for k, v in fields.items() if v is not None}).encode()


@pytest.fixture
async def started(world):
    await world.start(make_payment())
    return world.payment()


async def test_a_genuine_ipn_gives_a_claim(world, started):
    claim = await world.plugin.verify_callback(None, ipn(started), started)
    assert claim.event == "approved" and claim.reference == started.reference
    assert claim.data == {"kind": "ipn", "order_ref": started.reference, "order_ref_1": "", "product_code": "i1",
                          "sq_state": "approved"}
    assert claim.dedupe_key == f"sequra:{started.reference}:ipn:approved"


async def test_m_prefixed_ipn_parameters_are_accepted(world, started):
    number, pid = started.order.number, started.id
    body = ipn(started, signature=None, order=None, payment=None, m_signature=sign(SECRET, "ipn", pid, number),
               m_order=number, m_payment=str(pid))
    assert (await world.plugin.verify_callback(None, body, started)).event == "approved"


@pytest.mark.parametrize("change", [
    lambda a: {"signature": "0" * 64},
    lambda a: {"signature": None},
    lambda a: {"signature": sign("guessed", "ipn", a.id, a.order.number)},
    lambda a: {"signature": sign(SECRET, "events", a.id, a.order.number)},  # an event's signature as an IPN's
    lambda a: {"order": "1043"},
    lambda a: {"payment": str(a.id + 1)},
    lambda a: {"order_ref": "00000000-0000-4000-8000-000000000000"},
    lambda a: {"sq_state": "paid"},
    lambda a: {"sq_state": None},
])
async def test_forged_ipns_are_rejected(world, started, change):
    with pytest.raises(CallbackRejected):
        await world.plugin.verify_callback(None, ipn(started, **change(started)), started)


async def test_an_ipn_for_another_payment_is_rejected(world, started):
    other = make_payment(id=8, token="tok8")
    await world.start(other)
    with pytest.raises(CallbackRejected):
        await world.plugin.verify_callback(None, ipn(started), world.payment("tok8"))


@pytest.mark.parametrize("body", [b"\xff\xfe", b"not a form", b""])
async def test_malformed_bodies_are_rejected(world, started, body):
    with pytest.raises(CallbackRejected):
        await world.plugin.verify_callback(None, body, started)


async def test_forged_ipn_through_the_shop_is_refused_and_changes_nothing(world, started):
    response = await world.outbound.post(started.urls.callback, content=ipn(started, signature="f" * 64),
                                         headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 409
    assert world.applied == [] and world.sandbox.orders[started.reference].state == "solicited"
    assert world.payment().status is PaymentStatus.PENDING


async def test_a_replayed_ipn_changes_nothing_twice(world, started):
    await world.shopper_completes(started.reference)
    assert world.replies == [200]
    response = await world.outbound.post(started.urls.callback, content=ipn(started),
                                         headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 200
    assert [o.raw_status for o in world.applied] == ["confirmed"]


async def test_unknown_token_is_404(world, started):
    response = await world.outbound.post(started.urls.callback.rsplit("/", 1)[0] + "/nobody", content=ipn(started))
    assert response.status_code == 404


async def test_the_events_webhook_is_verified_with_its_m_prefixed_signature(world, started):
    claim = await world.plugin.verify_callback(None, event(started), started)
    assert claim.event == "cancelled" and claim.data["kind"] == "events"
    observation = await world.plugin.fetch(started, claim)
    assert observation.status is PaymentStatus.CANCELLED
    with pytest.raises(CallbackRejected):
        await world.plugin.verify_callback(None, event(started, m_signature="x"), started)
    with pytest.raises(CallbackRejected):  # an IPN signature replayed as an event
        replayed = sign(SECRET, "ipn", started.id, started.order.number)
        await world.plugin.verify_callback(None, event(started, m_signature=replayed), started)


async def test_an_unknown_event_is_answered_501(world, started):
    with pytest.raises(UnsupportedCallback):
        await world.plugin.verify_callback(None, event(started, "teleported"), started)
    with pytest.raises(CallbackRejected):  # unknown, and forged: refused before anything else
        await world.plugin.verify_callback(None, event(started, "teleported", m_signature="x"), started)
    response = await world.outbound.post(started.urls.callback, content=event(started, "teleported"))
    assert response.status_code == 501 and response.json() == {"error": "Unknown event"}


async def test_risk_assessment_changes_no_status(world, started):
    claim = await world.plugin.verify_callback(None, event(started, "risk_assessment", risk_level="high_risk"), started)
    observation = await world.plugin.fetch(started, claim)
    assert observation.status is started.status and observation.raw_status == "risk_assessment:high_risk"


async def test_a_cancel_request_for_an_unconfirmed_order_cancels_locally(world, started):
    claim = await world.plugin.verify_callback(None, event(started, "cancel"), started)
    assert (await world.plugin.fetch(started, claim)).status is PaymentStatus.CANCELLED


@pytest.mark.parametrize("outcome, status", [
    (CallbackOutcome.ACCEPTED, 200), (CallbackOutcome.IGNORED, 410), (CallbackOutcome.CONFLICT, 409),
    (CallbackOutcome.RETRY, 503), (CallbackOutcome.REJECTED, 409), (CallbackOutcome.UNKNOWN, 404),
    (CallbackOutcome.UNSUPPORTED, 501)])
def test_replies_in_seqUras_form(outcome, status):
    from plugins.sequra.plugin import SequraPlugin

    assert SequraPlugin.callback_reply(None, outcome).status_code == status


async def test_a_dedicated_hmac_secret_replaces_the_account_secret(world_with):
    world = await world_with(SEQURA_HMAC_SECRET="dedicated-hmac-secret")
    await world.start(make_payment())
    started = world.payment()
    with pytest.raises(CallbackRejected):
        await world.plugin.verify_callback(None, ipn(started), started)
    body = ipn(started, signature=sign("dedicated-hmac-secret", "ipn", started.id, started.order.number))
    assert (await world.plugin.verify_callback(None, body, started)).event == "approved"

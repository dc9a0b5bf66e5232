"""Faults lose nothing: a confirmation SeQura holds and the shop did not record, a confirm PUT
that failed, an IPN that never came. SeQura re-sends nothing, so the shop finishes each of them
itself (the reconciler, or the merchant's "Check again"), and the shopper and the merchant are
told within a bounded time."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlmodel import select

from plugins.sequra.settling import (
    APPROVED_NOTE,
    ATTENTION,
    CHECKING_TEXT,
    CONFIRMING_TEXT,
    PROBE_NOTE,
    backoff,
)
from plugins.sequra.tests.conftest import make_payment
from plugins.sequra.tests.test_back_office import flashes, logged_in
from shop.models import Order, OutboxMessage, PaymentEvent
from shop.payments.contract import Channel, PaymentStatus

pytestmark = pytest.mark.anyio


class ProcessDied(BaseException):
    """The store's process ends here: nothing after this line runs (not an Exception, so no
    handler of the store's catches it)."""


def dies_before_the_ledger_writes(world, raw_status: str = "confirmed"):
    """The process dies between SeQura's answer and the ledger's commit of it."""
    real = world.state.ledger.apply

    async def apply(payment_id, observation, **kwargs):
        if observation.raw_status == raw_status and kwargs.get("source") == "callback":
            raise ProcessDied
        return await real(payment_id, observation, **kwargs)

    world.state.ledger.apply = apply
    return lambda: setattr(world.state.ledger, "apply", real)  # the restart: a process that lives


def moves_into_paid(world, token: str = "tok7") -> int:
    with world.state.db() as session:
        return len(session.exec(select(PaymentEvent).where(
            PaymentEvent.payment_id == world.tokens[token], PaymentEvent.kind == "transition",
            PaymentEvent.operation.endswith("-> paid"))).all())


def order_of(world, token: str = "tok7") -> Order:
    with world.state.db() as session:
        return session.get(Order, world.row(token).order_id)


def said(page) -> list[str]:
    """The flashed answers to the merchant's action (the "Needs attention" banner left aside)."""
    return [text for kind, text in flashes(page) if kind == "info"]


async def complete_ignoring_the_crash(world, uuid: str) -> None:
    try:
        await world.shopper_completes(uuid)
    except ProcessDied:
        pass  # the exception reaches the sandbox's IPN task through the in-process transport
    await world.sandbox.drain(timers=False)


# --------------------------------------------------------------------------- crash after SeQura's answer


async def test_a_crash_after_seqUra_confirmed_is_finished_by_the_next_pass(world):
    started = await world.start(make_payment())
    restart = dies_before_the_ledger_writes(world)
    await complete_ignoring_the_crash(world, started.reference)

    # SeQura says confirmed; the store says pending, and keeps what it owes.
    assert (await world.read_back(started.reference))["state"] == "confirmed"
    assert world.payment().status is PaymentStatus.PENDING
    owed = world.intent()
    assert (owed.state, owed.seen, owed.tries) == ("confirmed", "ipn", 0)

    restart()
    assert (await world.reconcile())["settled"] == 0  # the IPN's own PUT still has its time
    world.age(11)  # past the first back-off, well before any "no IPN came" probe (60 s)
    assert (await world.reconcile())["settled"] == 1
    assert world.payment().status is PaymentStatus.PAID and world.intent() is None
    assert moves_into_paid(world) == 1 and order_of(world).status == "paid"
    back = await world.read_back(started.reference)
    assert back["state"] == "confirmed" and back["merchant_reference"]["order_ref_1"] == "1042"
    with world.state.db() as session:  # the shopper hears of it
        assert session.exec(select(OutboxMessage)).one().subject == "Your order 1042 is confirmed"
    assert (await world.reconcile())["settled"] == 0  # paid: nothing owed any more


async def test_a_crash_between_the_confirm_and_the_reference_put_is_finished_too(world):
    started = await world.start(make_payment())
    real = world.plugin.register_reference

    async def dies(*args, **kwargs):
        raise ProcessDied
    world.plugin.register_reference = dies
    await complete_ignoring_the_crash(world, started.reference)
    back = await world.read_back(started.reference)
    assert back["state"] == "confirmed" and back["merchant_reference"]["order_ref_1"] is None

    world.plugin.register_reference = real
    world.age(30)
    await world.reconcile()
    assert world.payment().status is PaymentStatus.PAID
    assert (await world.read_back(started.reference))["merchant_reference"]["order_ref_1"] == "1042"


async def test_the_crash_is_undone_at_seqUra_when_the_cart_no_longer_holds(world):
    """The shopper changed the cart before the shop came back: the shop does not confirm, and
    cancels at SeQura the order a crash left confirmed there (its reference first: the crash
    came before the reference PUT, and the Order Update API finds orders by reference)."""
    shopper = world.shopper
    await shopper.add("NOTEBOOK-A5", 2)
    await shopper.checkout("sequra:i1")
    payment = world.latest()
    world.tokens["shop"] = payment.id

    async def dies(*args, **kwargs):
        raise ProcessDied
    real, world.plugin.register_reference = world.plugin.register_reference, dies
    await complete_ignoring_the_crash(world, payment.reference)
    world.plugin.register_reference = real
    assert (await world.read_back(payment.reference))["state"] == "confirmed"

    await shopper.add("PEN-BLUE")  # meanwhile, in the same cart
    world.age(30, "shop")
    await world.reconcile()
    undone = world.payment("shop")
    assert undone.status is PaymentStatus.CANCELLED and world.intent("shop") is None
    assert "cancelled it at SeQura" in world.row("shop").detail
    back = await world.read_back(payment.reference)
    assert back["state"] == "cancelled" and back["merchant_reference"]["order_ref_1"] == payment.order.number


# --------------------------------------------------------------------------- a failed confirm PUT


async def test_a_failed_confirm_is_answered_200_and_retried_with_backoff(world):
    started = await world.start(make_payment())
    world.sandbox.break_confirm = True
    state = await world.shopper_completes(started.reference)
    assert world.replies == [200]  # not 503: SeQura would never send the IPN again
    assert state["step"] == "finish"  # SeQura sends the shopper back to the shop on a 2xx
    assert world.payment().status is PaymentStatus.PENDING

    owed = world.intent()
    assert owed.tries == 1 and owed.due - owed.since == pytest.approx(backoff(1), abs=timedelta(seconds=1))
    assert (await world.reconcile())["settled"] == 0  # not due yet
    world.age(11)
    assert (await world.reconcile())["settled"] == 1  # still down: the next try backs off further
    owed = world.intent()
    assert owed.tries == 2 and "unavailable" in owed.error
    world.age(29)
    assert (await world.reconcile())["settled"] == 0
    world.sandbox.break_confirm = False
    world.age(2)
    assert (await world.reconcile())["settled"] == 1
    assert world.payment().status is PaymentStatus.PAID and world.intent() is None
    assert moves_into_paid(world) == 1
    assert (await world.read_back(started.reference))["state"] == "confirmed"


def test_the_backoff_grows_then_holds():
    assert [backoff(n).total_seconds() for n in range(1, 8)] == [10, 30, 60, 120, 300, 300, 300]


async def test_a_failed_hold_is_retried_as_a_hold(world):
    world.sandbox.scenario.decision, world.sandbox.scenario.review_delay = "review_approve", 60
    started = await world.start(make_payment())
    world.sandbox.break_confirm = True
    await world.shopper_completes(started.reference)
    assert world.intent().state == "on_hold"
    assert world.row().detail.startswith("SeQura is reviewing your order")  # not "approved"
    assert "sequra-review" in str(world.row().data["_next"])
    world.sandbox.break_confirm = False
    world.age(11)
    await world.reconcile()
    assert (await world.read_back(started.reference))["state"] == "on_hold"
    assert world.row().detail.startswith("SeQura is reviewing your order")
    # From now on the shop waits for SeQura's second IPN, and asks if it never comes.
    assert (world.intent().seen, world.intent().state) == ("review", "confirmed")


async def test_seqUra_refusing_the_owed_confirm_cancels_the_payment(world):
    started = await world.start(make_payment())
    world.sandbox.break_confirm = True
    await world.shopper_completes(started.reference)
    world.sandbox.break_confirm = False
    world.sandbox.orders[started.reference].state = "cancelled"  # SeQura gave up on it meanwhile
    world.age(11)
    await world.reconcile()
    assert world.payment().status is PaymentStatus.CANCELLED
    assert world.row().detail.startswith("SeQura did not accept the order")


# --------------------------------------------------------------------------- a lost IPN


async def test_a_lost_ipn_is_settled_by_asking_seqUra_within_minutes(world):
    world.sandbox.scenario.delivery = "lost"
    started = await world.start(make_payment())
    state = await world.shopper_completes(started.reference)
    assert state["step"] == "wait_for_confirmation" and world.replies == []
    assert (await world.read_back(started.reference))["state"] == "approved"

    assert (await world.reconcile())["settled"] == 0  # the shopper may still be in the form
    world.age(60)
    assert (await world.reconcile())["settled"] == 1
    assert world.payment().status is PaymentStatus.PAID and moves_into_paid(world) == 1
    assert (await world.read_back(started.reference))["state"] == "confirmed"
    # The form, which waited for the shop, sends the shopper back to it.
    state = await world.form(started.reference, "state")
    assert state["step"] == "finish" and state["redirect"].endswith("/success?sq_product=i1")


async def test_asking_before_seqUra_decided_changes_nothing_and_backs_off(world):
    world.sandbox.scenario.delivery = "lost"
    started = await world.start(make_payment())
    world.age(60)  # a slow shopper, still in the form
    assert (await world.reconcile())["settled"] == 1
    assert (await world.read_back(started.reference))["state"] == "solicited"
    owed = world.intent()
    assert (owed.seen, owed.tries) == ("probe", 1) and "Invalid state transition" in owed.error
    assert world.payment().status is PaymentStatus.PENDING and world.row().detail == PROBE_NOTE
    assert "sequra_form.js" in str(world.row().data["_next"])  # the form stays: the shopper may be in it

    await world.shopper_completes(started.reference)
    world.age(10)
    await world.reconcile()
    assert world.payment().status is PaymentStatus.PAID


async def test_asking_stops_after_its_window_until_the_merchant_checks_again(world):
    world.sandbox.scenario.delivery = "lost"
    await world.start(make_payment())  # the shopper never finishes the form
    world.age(60)
    for _ in range(12):  # 10 s, 30 s, 1 min, 2 min, then every 5 min: an hour's worth
        await world.reconcile()
        world.age(300)
    owed = world.intent()
    assert owed.due is None and owed.tries < 15  # parked
    assert (await world.reconcile())["settled"] == 0
    assert "check_again" in {a.name for a in world.plugin.admin_actions(world.payment())}
    assert not order_of(world).needs_attention  # an abandoned form is not the merchant's problem


async def test_asking_never_confirms_a_cart_that_no_longer_holds(world):
    world.sandbox.scenario.delivery = "lost"
    shopper = world.shopper
    await shopper.add("NOTEBOOK-A5", 2)
    await shopper.checkout("sequra:i1")
    payment = world.latest()
    world.tokens["shop"] = payment.id
    await world.shopper_completes(payment.reference, phone="600123456")
    await shopper.add("PEN-BLUE")
    world.age(60, "shop")
    await world.reconcile()
    assert (await world.read_back(payment.reference))["state"] == "approved"  # not confirmed, not cancelled
    assert world.payment("shop").status is PaymentStatus.PENDING
    assert world.intent("shop").error.startswith("not asked: the cart was changed")


async def test_a_till_is_never_asked_about(world_with):
    world = await world_with(SEQURA_ISOLATED_TILL="true")
    await world.start(make_payment(channel=Channel.TILL))
    world.age(3600)
    assert (await world.reconcile())["settled"] == 0


# --------------------------------------------------------------------------- what the shopper reads


async def test_the_shoppers_page_says_the_order_is_being_checked_after_the_bounded_time(world):
    shopper = world.shopper
    await shopper.add("NOTEBOOK-A5", 2)
    order_url = (await shopper.checkout("sequra:i1")).headers["location"]
    payment = world.latest()
    world.tokens["shop"] = payment.id
    world.sandbox.break_confirm = True
    state = await world.shopper_completes(payment.reference, phone="600123456")
    back = await shopper.get(state["redirect"].removeprefix("http://shop.test"))  # SeQura sends the shopper back
    assert back.headers["location"] == order_url

    page = await shopper.get(order_url)
    assert APPROVED_NOTE in page.text and CONFIRMING_TEXT in page.text
    assert "sequra_form.js" not in page.text  # the form would open again
    timer = re.search(r"<script>(setTimeout\(.*?,(\d+)\);)</script>", page.text)
    assert timer and 55_000 <= int(timer.group(2)) <= 60_000 and CHECKING_TEXT in timer.group(1)
    from plugins.sequra.csp import script_hash
    assert script_hash(timer.group(1)) in page.headers["content-security-policy"]

    world.age(61, "shop")
    await world.reconcile()
    panel = (await shopper.get(f"{order_url}/status")).text
    assert CHECKING_TEXT in panel and CONFIRMING_TEXT not in panel and "<script>" not in panel

    world.sandbox.break_confirm = False
    world.age(30, "shop")
    await world.reconcile()
    assert "Paid — thank you!" in (await shopper.get(f"{order_url}/status")).text


# --------------------------------------------------------------------------- what the merchant sees


async def test_the_merchant_sees_the_order_flagged_and_checks_again(world):
    started = await world.start(make_payment())
    world.sandbox.break_confirm = True
    await world.shopper_completes(started.reference)
    world.age(11)
    await world.reconcile()
    assert not order_of(world).needs_attention  # within the bounded time: the shop is on it
    world.age(50)
    assert (await world.reconcile())["settled"] == 1
    world.age(120)
    assert (await world.reconcile())["settled"] == 1  # asked again, still owed: flagged all the same
    order = order_of(world)
    assert order.needs_attention and order.attention_reason == ATTENTION["confirmed"]  # once

    shopper = await logged_in(world)
    page = await shopper.get("/admin/orders/1042")
    assert "Needs attention: SeQura approved this order" in page.text and "Check again with SeQura" in page.text
    action = f"/admin/orders/1042/payments/{world.row().id}/action/check_again"
    reply = await shopper.post(action, {})
    assert said(await shopper.get(reply.headers["location"])) == ["Done: the payment is pending."]
    assert world.intent().tries == 1  # a fresh record, tried once more, backing off again

    world.sandbox.break_confirm = False
    reply = await shopper.post(action, {})
    assert said(await shopper.get(reply.headers["location"])) == ["Done: the payment is paid."]
    assert world.payment().status is PaymentStatus.PAID and moves_into_paid(world) == 1
    assert (await world.read_back(started.reference))["state"] == "confirmed"


async def test_check_again_asks_about_an_order_no_ipn_told_the_shop_of(world):
    world.sandbox.scenario.delivery = "lost"
    started = await world.start(make_payment())
    assert "check_again" not in {a.name for a in world.plugin.admin_actions(world.payment())}
    await world.shopper_completes(started.reference)
    world.age(60)
    assert "check_again" in {a.name for a in world.plugin.admin_actions(world.payment())}
    shopper = await logged_in(world)
    await shopper.post(f"/admin/orders/1042/payments/{world.row().id}/action/check_again", {})
    assert world.payment().status is PaymentStatus.PAID


# --------------------------------------------------------------------------- SeQura's side


async def test_the_sandbox_answers_a_repeated_confirm_200_as_seqUra_does(world):
    """SeQura's guide: after the confirm PUT "the merchant may send again the payload with the
    order_ref_1 value": the same confirm again, answered 200; the order stays confirmed, once."""
    started = await world.start(make_payment())
    world.sandbox.scenario.delivery = "lost"
    await world.shopper_completes(started.reference)
    payment, client = world.payment(), world.plugin.client
    body = world.plugin._payload(payment, state="confirmed")
    await client.put_order(payment.data["order_uri"], body)
    await client.put_order(payment.data["order_uri"], body)  # raises on anything but 2xx
    await client.put_order(payment.data["order_uri"], world.plugin._payload(payment, state="confirmed",
                                                                            order_ref_1="1042"))
    back = await world.read_back(started.reference)
    assert back["state"] == "confirmed" and back["merchant_reference"]["order_ref_1"] == "1042"
    assert back["log"].count("confirmed by PUT") == 1


async def test_the_form_moves_on_only_once_the_shop_answered_the_ipn(world):
    """The shop's PUT arrives while SeQura's IPN waits for its answer: the form must not send the
    shopper back yet (the shop has not recorded the outcome); only a PUT with no IPN on its way
    (a lost one) moves a waiting form on."""
    started = await world.start(make_payment())
    steps, real = [], world.plugin.register_reference

    async def look_then_register(payment, reference):
        steps.append(world.sandbox.orders[started.reference].step)  # after the confirm PUT, before the reply
        return await real(payment, reference)
    world.plugin.register_reference = look_then_register
    state = await world.shopper_completes(started.reference)
    assert steps == ["wait_for_confirmation"] and state["step"] == "finish"


async def test_a_payment_paid_since_the_pass_began_is_not_asked_about(world):
    from shop.models import Payment

    world.sandbox.scenario.delivery = "lost"
    started = await world.start(make_payment())
    await world.shopper_completes(started.reference)
    world.age(60)
    with world.state.db() as session:
        stale = session.get(Payment, world.tokens["tok7"])  # as the pass listed it
    await world.apply("tok7", await world.plugin.settle(world.payment()))  # paid meanwhile (say, by the IPN)
    world.sandbox.orders[started.reference].state = "shipped"
    assert await world.state.reconciler._settle(stale, world.plugin, stale.created_at + timedelta(hours=1)) == 0
    assert world.payment().status is PaymentStatus.PAID and world.intent() is None

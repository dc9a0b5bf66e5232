"""The contract kit: the checks every checkout plugin passes, as a pytest base class.

A plugin subclasses it in one line::

    class TestContract(ContractKit):
        plugin_id = "banktransfer"

The kit runs the whole store in-process with the plugin talking to its own sandbox over
httpx's ASGI transport, and drives the provider's side through the plugin's
``plugins/<id>/sandbox/driver.py`` (see ``shop.testing.driver``). Every check also holds the
store to running no database statement on the event loop (``shop.testing.loopguard``): the
kit's own reads go through the database threads as the store's do, hence its async helpers;
and the plugin to writing no order or payment table itself (``shop.testing.writeguard``)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import importlib
import re
from typing import ClassVar

import pytest
from sqlmodel import select

from shop.models import Order, Payment, PaymentEvent
from shop.money import Money
from shop.payments.attempts import ActionRefused
from shop.payments.contract import CallbackOutcome, Capability, CheckoutPlugin, PaymentStatus, Started
from shop.payments.registry import check_declaration
from shop.payments.steps import next_step_from_dict
from shop.testing.driver import CallbackRequest, SandboxDriver
from shop.testing.loopguard import database_calls_on_the_loop
from shop.testing.shopper import CUSTOMER, Shopper, make_settings, running_app
from shop.testing.writeguard import plugin_writes

SECRET_FIELD = re.compile(r"secret|password|api_key|token|pin", re.IGNORECASE)


class Kit:
    """One test's store, shopper and sandbox driver."""

    def __init__(self, app, plugin_id: str, shopper: Shopper, driver: SandboxDriver, option: str | None) -> None:
        self.app = app
        self.plugin_id = plugin_id
        self.plugin = app.state.plugins[plugin_id]
        self.shopper = shopper
        self.driver = driver
        self.option = option

    async def start_payment(self, sku: str = "NOTEBOOK-A5", quantity: int = 2) -> tuple[Payment, Started]:
        """A shopper checks out with this plugin; returns the payment and what the plugin said."""
        assert (await self.shopper.add(sku, quantity)).status_code == 303
        page = await self.shopper.get("/checkout")
        options = re.findall(rf'value="({self.plugin_id}:[^"]*)"', page.text)
        assert options, f"the checkout offers no {self.plugin_id} option"
        method = f"{self.plugin_id}:{self.option}" if self.option else options[0]
        response = await self.shopper.post("/checkout", {**CUSTOMER, "method": method})
        assert response.status_code == 303, response.text[:500]
        payment = await self.latest_payment()
        assert payment.status == PaymentStatus.PENDING, (payment.status, payment.detail)
        started = Started(next_step_from_dict(payment.data["_next"]), reference=payment.reference,
                          data={k: v for k, v in payment.data.items() if not k.startswith("_")})
        return payment, started

    async def _read(self, read):
        """``read(session)`` in a database thread."""
        def in_a_session():
            with self.app.state.db() as session:
                return read(session)

        return await self.app.state.db.run(in_a_session)

    async def latest_payment(self) -> Payment:
        return await self._read(lambda session: session.exec(select(Payment).order_by(Payment.id.desc())).first())

    async def payment(self, payment_id: int) -> Payment:
        return await self._read(lambda session: session.get(Payment, payment_id))

    async def order_of(self, payment: Payment) -> Order:
        return await self._read(lambda session: session.get(Order, payment.order_id))

    async def attempt(self, payment: Payment):
        return await self._read(
            lambda session: self.app.state.attempts.attempt_of(session, session.get(Payment, payment.id)))

    async def events(self, payment_id: int | None = None, kind: str | None = None) -> list[PaymentEvent]:
        query = select(PaymentEvent)
        if payment_id is not None:
            query = query.where(PaymentEvent.payment_id == payment_id)
        if kind:
            query = query.where(PaymentEvent.kind == kind)
        return await self._read(lambda session: list(session.exec(query.order_by(PaymentEvent.id))))

    async def moves_to(self, payment_id: int, status: str) -> int:
        return sum(1 for e in await self.events(payment_id, "transition") if e.operation.endswith(f"-> {status}"))

    async def deliver(self, callback: CallbackRequest):
        return await self.shopper.http.request(callback.method, callback.url, headers=dict(callback.headers),
                                               content=callback.body)

    def reply_status(self, outcome: CallbackOutcome) -> int:
        return self.plugin.callback_reply(outcome).status_code

    async def authorize(self) -> Payment:
        payment, started = await self.start_payment()
        callback = await self.driver.authorize(await self.attempt(payment), started)
        response = await self.deliver(callback)
        assert response.status_code == self.reply_status(CallbackOutcome.ACCEPTED), response.text
        authorized = await self.payment(payment.id)
        assert authorized.status == PaymentStatus.AUTHORIZED, (authorized.status, authorized.detail)
        return authorized

    async def pay(self) -> Payment:
        payment, started = await self.start_payment()
        callback = await self.driver.pay(await self.attempt(payment), started)
        response = await self.deliver(callback)
        assert response.status_code == self.reply_status(CallbackOutcome.ACCEPTED), response.text
        paid = await self.payment(payment.id)
        assert paid.status == PaymentStatus.PAID, (paid.status, paid.detail)
        return paid


class ContractKit:
    plugin_id: ClassVar[str]
    option: ClassVar[str | None] = None  # the option to check out with; the first offered by default
    env: ClassVar[dict[str, str]] = {}  # extra settings for the store and the plugin
    # Plugins that declare capture: the settings under which the provider only authorizes (and
    # the option to check out with then, if not ``option``), for the kit's capture check.
    authorize_only_env: ClassVar[dict[str, str]] = {}
    authorize_only_option: ClassVar[str | None] = None

    @pytest.fixture
    def anyio_backend(self):
        return "asyncio"

    @pytest.fixture
    async def kit(self, tmp_path):
        async with self._kit(tmp_path, self.env, self.option) as kit:
            yield kit

    @pytest.fixture
    async def authorizing_kit(self, tmp_path):
        async with self._kit(tmp_path, {**self.env, **self.authorize_only_env},
                             self.authorize_only_option or self.option) as kit:
            yield kit

    @contextlib.asynccontextmanager
    async def _kit(self, tmp_path, env: dict[str, str], option: str | None):
        settings = make_settings(tmp_path, **env)
        async with running_app(settings, plugin_ids=[self.plugin_id]) as app:
            driver_module = importlib.import_module(f"plugins.{self.plugin_id}.sandbox.driver")
            driver = driver_module.Driver(app.state.sandboxes[self.plugin_id].state.sandbox)
            shopper = Shopper(app)
            try:
                with database_calls_on_the_loop(app.state.engine) as on_the_loop, \
                        plugin_writes(app.state.engine) as written_by_the_plugin:
                    yield Kit(app, self.plugin_id, shopper, driver, option)
                assert not on_the_loop, "database statements ran on the event loop:\n" + "\n".join(on_the_loop)
                assert not written_by_the_plugin, ("the plugin wrote order or payment tables itself:\n"
                                                   + "\n".join(written_by_the_plugin))
            finally:
                await shopper.aclose()

    # ------------------------------------------------------------------ declaration

    @pytest.mark.anyio
    async def test_declaration(self, kit: Kit):
        check_declaration(type(kit.plugin), self.plugin_id)
        assert isinstance(kit.plugin, CheckoutPlugin)
        assert dataclasses.is_dataclass(kit.plugin.settings_model)
        assert self.plugin_id in kit.app.state.sandboxes, "every plugin ships a sandbox"

    # ------------------------------------------------------------------ the happy path

    @pytest.mark.anyio
    async def test_happy_path_moves_to_paid_exactly_once(self, kit: Kit):
        paid = await kit.pay()
        assert await kit.moves_to(paid.id, "paid") == 1
        assert (await kit.order_of(paid)).status == "paid"
        assert not (await kit.order_of(paid)).needs_attention

    @pytest.mark.anyio
    async def test_the_same_callback_twice_changes_state_once(self, kit: Kit):
        payment, started = await kit.start_payment()
        callback = await kit.driver.pay(await kit.attempt(payment), started)
        first, second = await kit.deliver(callback), await kit.deliver(callback)
        accepted = kit.reply_status(CallbackOutcome.ACCEPTED)
        assert (first.status_code, second.status_code) == (accepted, accepted)
        assert await kit.moves_to(payment.id, "paid") == 1

    @pytest.mark.anyio
    async def test_ten_copies_at_once_change_state_once(self, kit: Kit):
        payment, started = await kit.start_payment()
        callback = await kit.driver.pay(await kit.attempt(payment), started)
        replies = await asyncio.gather(*(kit.deliver(callback) for _ in range(10)))
        assert {r.status_code for r in replies} == {kit.reply_status(CallbackOutcome.ACCEPTED)}
        assert (await kit.payment(payment.id)).status == PaymentStatus.PAID
        assert await kit.moves_to(payment.id, "paid") == 1

    @pytest.mark.anyio
    async def test_money_of_another_amount_is_never_taken_as_paid(self, kit: Kit):
        payment, started = await kit.start_payment()
        callback = await kit.driver.pay_other_amount(await kit.attempt(payment), started)
        await kit.deliver(callback)
        seen = await kit.payment(payment.id)
        assert seen.status not in (PaymentStatus.AUTHORIZED, PaymentStatus.PAID), (seen.status, seen.detail)
        assert await kit.moves_to(payment.id, "paid") == 0
        if kit.plugin.reports_amount:  # the ledger saw the amount and flags the order for the merchant
            order = await kit.order_of(seen)
            assert order.needs_attention and "amount mismatch" in order.attention_reason

    # ------------------------------------------------------------------ bad callbacks

    @pytest.mark.anyio
    async def test_a_claim_of_payment_the_provider_denies_changes_nothing(self, kit: Kit):
        payment, started = await kit.start_payment()
        forged = await kit.driver.forge_paid_claim(await kit.attempt(payment), started)
        await kit.deliver(forged)
        assert (await kit.payment(payment.id)).status == PaymentStatus.PENDING
        assert await kit.moves_to(payment.id, "paid") == 0

    @pytest.mark.anyio
    async def test_an_unknown_token_is_refused(self, kit: Kit):
        payment, started = await kit.start_payment()
        callback = await kit.driver.pay(await kit.attempt(payment), started)
        token = callback.url.rsplit("/cb/", 1)[1].split("?")[0]
        wrong = dataclasses.replace(callback, url=callback.url.replace(token, "x" * len(token)))
        response = await kit.deliver(wrong)
        assert response.status_code == kit.reply_status(CallbackOutcome.UNKNOWN)
        assert (await kit.payment(payment.id)).status == PaymentStatus.PENDING

    @pytest.mark.anyio
    async def test_a_failed_read_back_asks_the_provider_to_retry_and_changes_nothing(self, kit: Kit):
        payment, started = await kit.start_payment()
        callback = await kit.driver.pay(await kit.attempt(payment), started)
        kit.driver.break_read_back(True)
        response = await kit.deliver(callback)
        assert response.status_code == kit.reply_status(CallbackOutcome.RETRY)
        assert (await kit.payment(payment.id)).status == PaymentStatus.PENDING
        kit.driver.break_read_back(False)
        response = await kit.deliver(callback)  # the provider's retry
        assert response.status_code == kit.reply_status(CallbackOutcome.ACCEPTED)
        assert (await kit.payment(payment.id)).status == PaymentStatus.PAID

    # ------------------------------------------------------------------ late money

    @pytest.mark.anyio
    async def test_money_after_expiry_is_kept_and_flagged(self, kit: Kit):
        payment, started = await kit.start_payment()
        assert await kit.app.state.ledger.expire_order(payment.order_id, "the kit's clock ran out")
        assert (await kit.payment(payment.id)).status == PaymentStatus.EXPIRED
        callback = await kit.driver.pay(await kit.attempt(payment), started)
        await kit.deliver(callback)
        late = await kit.payment(payment.id)
        assert late.status == PaymentStatus.PAID and late.late_payment
        order = await kit.order_of(late)
        assert order.needs_attention and "late payment" in order.attention_reason

    # ------------------------------------------------------------------ merchant actions

    @pytest.mark.anyio
    async def test_refunds_behave_as_declared(self, kit: Kit):
        paid = await kit.pay()
        attempts = kit.app.state.attempts
        one_euro = Money(100, paid.currency)
        if Capability.REFUND not in kit.plugin.capabilities:
            with pytest.raises(ActionRefused):
                await attempts.refund(paid.id, Money(paid.amount_cents, paid.currency))
            return
        calls_before = len(await kit.events(paid.id, "call"))
        with pytest.raises(ActionRefused):
            await attempts.refund(paid.id, Money(paid.amount_cents + 1, paid.currency))
        assert len(await kit.events(paid.id, "call")) == calls_before, "an over-refund must be refused before any call"
        if Capability.PARTIAL_REFUND in kit.plugin.capabilities:
            await attempts.refund(paid.id, one_euro, "kit: partial")
            assert (await kit.payment(paid.id)).status == PaymentStatus.PAID
            with pytest.raises(ActionRefused):
                await attempts.refund(paid.id, Money(paid.amount_cents, paid.currency))
            await attempts.refund(paid.id, Money(paid.amount_cents - 100, paid.currency), "kit: the rest")
        else:
            with pytest.raises(ActionRefused):
                await attempts.refund(paid.id, one_euro)
            await attempts.refund(paid.id, Money(paid.amount_cents, paid.currency), "kit: full")
        assert (await kit.payment(paid.id)).status == PaymentStatus.REFUNDED
        assert (await kit.order_of(paid)).status == "refunded"

    @pytest.mark.anyio
    async def test_cancel_behaves_as_declared(self, kit: Kit):
        payment, _ = await kit.start_payment()
        attempts = kit.app.state.attempts
        if Capability.CANCEL not in kit.plugin.capabilities:
            with pytest.raises(ActionRefused):
                await attempts.cancel(payment.id)
            return
        await attempts.cancel(payment.id)
        assert (await kit.payment(payment.id)).status == PaymentStatus.CANCELLED

    @pytest.mark.anyio
    async def test_capture_behaves_as_declared(self, authorizing_kit: Kit):
        kit = authorizing_kit
        if Capability.CAPTURE not in kit.plugin.capabilities:
            payment, _ = await kit.start_payment()
            with pytest.raises(ActionRefused):
                await kit.app.state.attempts.capture(payment.id)
            return
        authorized = await kit.authorize()
        await kit.app.state.attempts.capture(authorized.id)
        captured = await kit.payment(authorized.id)
        assert captured.status == PaymentStatus.PAID, (captured.status, captured.detail)
        assert await kit.moves_to(authorized.id, "paid") == 1
        with pytest.raises(ActionRefused):  # captured once: nothing is left to capture
            await kit.app.state.attempts.capture(authorized.id)

    # ------------------------------------------------------------------ the event log

    @pytest.mark.anyio
    async def test_no_secret_or_personal_data_in_the_event_log(self, kit: Kit):
        paid = await kit.pay()
        logged = "\n".join(f"{e.operation}\n{e.body}" for e in await kit.events())
        assert await kit.events(paid.id, "call"), "provider calls must be recorded"
        personal = [CUSTOMER["email"], CUSTOMER["phone"], CUSTOMER["surname"], CUSTOMER["line1"]]
        for value in personal:
            assert value not in logged, f"personal data in the event log: {value!r}"
        settings = kit.plugin.settings
        for field in dataclasses.fields(settings):
            value = getattr(settings, field.name)
            if SECRET_FIELD.search(field.name) and isinstance(value, str) and len(value) >= 6:
                assert value not in logged, f"the secret {field.name} is in the event log"

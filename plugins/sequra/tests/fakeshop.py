"""The whole store in-process with SeQura as its only plugin, for the plugin's own tests.

``running_app`` gives the real app: the sandbox mounted at /sandbox/sequra, the core's callback
pipeline (verify, cart check, fetch, ledger once by dedupe key, reply), the back office. The
``World`` adds what the tests need on top: orders made from a test snapshot, the shopper's side
of the identification form, and read-only views of what the ledger applied and what the shop
answered."""

from __future__ import annotations

import contextlib
import secrets
from dataclasses import asdict, dataclass, replace
from datetime import timedelta
from pathlib import Path

from sqlmodel import select

from plugins.sequra.settling import Intent
from shop.models import Order, OrderLine, Payment, PaymentEvent, utcnow
from shop.payments.contract import Observation, OrderSnapshot, PaymentAttempt, ProviderError, StartContext
from shop.testing.shopper import BASE_URL, Shopper, make_settings, running_app

SHOP = BASE_URL
SANDBOX = f"{SHOP}/sandbox/sequra"
CTX = StartContext(user_agent="Mozilla/5.0 (test)", ip_address="203.0.113.9", locale="es")


@dataclass(frozen=True)
class Applied:
    """One observation the ledger took (not a duplicate), with where it came from."""

    observation: Observation
    source: str

    def __getattr__(self, name):
        return getattr(self.observation, name)


class World:
    def __init__(self, app) -> None:
        self.app = app
        self.state = app.state
        self.tokens: dict[str, int] = {}  # a test's name for a payment -> its id
        self.applied: list[Applied] = []
        self.intents: list[Applied] = []  # what the core kept before a confirm PUT
        real_apply = self.state.ledger.apply

        async def spying_apply(payment_id, observation, *, correlation_id="", source=""):
            result = await real_apply(payment_id, observation, correlation_id=correlation_id, source=source)
            if source != "start" and not result.duplicate:
                seen = self.intents if source == "callback: before confirming" else self.applied
                seen.append(Applied(observation, source))
            return result

        self.state.ledger.apply = spying_apply
        # The plugin's own client (recorded by the core) for the client tests; the sandbox's
        # client for callbacks sent by hand (forged, replayed).
        self.http = self.plugin.runtime.http
        self.outbound = self.plugin.runtime.sandbox_http
        self.shopper = Shopper(app)

    @classmethod
    @contextlib.asynccontextmanager
    async def open(cls, tmp_path: Path, sandbox_options: dict | None = None, **env: str):
        async with running_app(make_settings(tmp_path, **env), plugin_ids=["sequra"]) as app:
            world = cls(app)
            for key, value in (sandbox_options or {}).items():
                setattr(world.sandbox.scenario, key, value)
            try:
                yield world
            finally:
                await world.sandbox.drain()
                await world.shopper.aclose()

    @property
    def plugin(self):
        return self.state.plugins["sequra"]

    @property
    def sandbox(self):
        return self.state.sandboxes["sequra"].state.sandbox

    # -------------------------------------------------------------- orders and payments

    def place(self, snapshot: OrderSnapshot, channel: str = "online") -> int:
        """The order behind a test snapshot, as the checkout would have frozen it (once per number)."""
        with self.state.db() as session:
            order = session.exec(select(Order).where(Order.number == snapshot.number)).first()
            if order is None:
                order = Order(number=snapshot.number, public_id=secrets.token_urlsafe(16), cart_id=None,
                              cart_hash=snapshot.cart_hash, channel=channel, currency=snapshot.currency,
                              total_cents=snapshot.total.minor, email=snapshot.customer.email,
                              given_names=snapshot.customer.given_names, surname=snapshot.customer.surname,
                              phone=snapshot.customer.phone, date_of_birth=snapshot.customer.date_of_birth,
                              delivery_address=asdict(snapshot.delivery_address),
                              invoice_address=asdict(snapshot.invoice_address),
                              expires_at=utcnow() + timedelta(hours=1))
                session.add(order)
                session.flush()
                for line in snapshot.lines:
                    session.add(OrderLine(order_id=order.id, kind=line.kind, reference=line.reference,
                                          name=line.name, quantity=line.quantity,
                                          unit_price_cents=line.unit_price.minor, tax_rate=str(line.tax_rate)))
                session.commit()
            return order.id

    async def start(self, payment: PaymentAttempt):
        """Start a real attempt for a test payment (its order, option and channel); ``payment.id``
        is ignored (the store numbers payments), its token name is how the test refers to it."""
        order_id = self.place(payment.order, payment.channel.value)
        row, started, error = await self.state.attempts.start(order_id, "sequra", payment.option, CTX,
                                                              channel=payment.channel)
        if started is None:
            with self.state.db() as session:
                fields = session.get(Payment, row.id).data.get("_errors") or {}
            raise ProviderError(error, fields=fields)
        self.tokens[payment.urls.callback.rsplit("/", 1)[-1]] = row.id
        return started

    def payment(self, token: str = "tok7") -> PaymentAttempt:
        _, attempt = self.state.attempts.load(self.tokens[token])
        return attempt

    def latest(self) -> PaymentAttempt:
        """The newest payment attempt (one the shopper started through the checkout)."""
        with self.state.db() as session:
            newest = session.exec(select(Payment).order_by(Payment.id.desc())).first()
        return self.state.attempts.load(newest.id)[1]

    def row(self, token: str = "tok7") -> Payment:
        with self.state.db() as session:
            return session.get(Payment, self.tokens[token])

    async def apply(self, token: str, observation: Observation) -> None:
        await self.state.ledger.apply(self.tokens[token], observation, source="test")

    def age(self, seconds: float, token: str = "tok7") -> None:
        """Let ``seconds`` pass for this payment: it was made, and its owed confirmation kept and
        due, that much earlier (no sleeping in tests)."""
        shift = timedelta(seconds=seconds)
        with self.state.db() as session:
            row = session.get(Payment, self.tokens[token])
            row.created_at -= shift
            intent = Intent.of(row.data)
            if intent is not None:
                earlier = replace(intent, since=intent.since - shift, due=intent.due - shift if intent.due else None)
                row.data = {**row.data, **earlier.as_data()}
            session.add(row)
            session.commit()

    def intent(self, token: str = "tok7") -> Intent | None:
        return Intent.of(self.row(token).data)

    async def reconcile(self) -> dict[str, int]:
        """One reconciler pass, as the background task runs it (and as after a restart)."""
        return await self.state.reconciler.run_once()

    def forget(self, token: str = "tok7") -> None:
        """The shop no longer knows this payment's token: its callbacks get 404."""
        with self.state.db() as session:
            row = session.get(Payment, self.tokens[token])
            row.token_hash = "forgotten"
            session.add(row)
            session.commit()

    def change_order(self, token: str, **quantities: int) -> None:
        """Change the frozen order behind the shop's back (a bug, or a tampered database)."""
        with self.state.db() as session:
            row = session.get(Payment, self.tokens[token])
            order = session.get(Order, row.order_id)
            total = 0
            for line in session.exec(select(OrderLine).where(OrderLine.order_id == order.id)):
                line.quantity = quantities.get(line.reference, line.quantity)
                total += line.quantity * line.unit_price_cents
                session.add(line)
            order.total_cents = row.amount_cents = total
            session.add(order)
            session.add(row)
            session.commit()

    @property
    def replies(self) -> list[int]:
        """The status of every callback the shop answered, in order."""
        with self.state.db() as session:
            return [e.http_status for e in session.exec(
                select(PaymentEvent).where(PaymentEvent.kind == "callback").order_by(PaymentEvent.id))]

    # -------------------------------------------------------------- the shopper at the form

    async def form(self, uuid: str, step: str, **data) -> dict:
        url = f"{SANDBOX}/orders/{uuid}/form/{step}"
        if data or step != "state":
            response = await self.http.post(url, data=data, headers={"Origin": "http://elsewhere.test"})
        else:
            response = await self.http.get(url)
        assert response.headers["access-control-allow-origin"] == "*"
        return response.json()

    async def shopper_completes(self, uuid: str, *, given="Fulano", surnames="De Tal", phone="666666666",
                                dob="2000-01-01", card=True) -> dict:
        state = await self.form(uuid, "state")
        assert state["step"] == "identify"
        state = await self.form(uuid, "identify", given_names=given, surnames=surnames, date_of_birth=dob,
                                mobile_phone=phone)
        assert state["step"] == "otp", state
        state = await self.form(uuid, "otp", code=phone[-5:])
        if state["step"] == "card" and card:
            state = await self.form(uuid, "card", pan="4716 7730 7733 9777", expiry="12/30", cvv="123",
                                    holder="SEQURA TEST")
        await self.sandbox.drain(timers=False)
        return await self.form(uuid, "state")

    async def read_back(self, uuid: str) -> dict:
        return (await self.http.get(f"{SANDBOX}/_control/orders/{uuid}")).json()


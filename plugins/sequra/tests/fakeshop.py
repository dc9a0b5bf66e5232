"""A shop just big enough to drive the plugin against its sandbox in-process: one ASGI app
holding the sandbox (mounted where the core mounts it) and the callback pipeline, in the
order the core runs it (verify, cart check, fetch, apply once by dedupe key, reply)."""

from __future__ import annotations

from dataclasses import replace

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route

from plugins.sequra.plugin import SequraPlugin
from plugins.sequra.sandbox import create_sandbox
from plugins.sequra.settings import SequraSettings
from shop.payments.contract import (
    CallbackOutcome,
    CallbackRejected,
    CartChanged,
    Observation,
    PaymentAttempt,
    PluginRuntime,
    ProviderError,
    ProviderUnavailable,
    ReadBackUnavailable,
    UnsupportedCallback,
    StartContext,
)

SHOP = "http://shop.test"
SANDBOX = f"{SHOP}/sandbox/sequra"
CTX = StartContext(user_agent="Mozilla/5.0 (test)", ip_address="203.0.113.9", locale="es")


class World:
    def __init__(self, settings: SequraSettings | None = None, **sandbox_options) -> None:
        app = Starlette(routes=[Route("/pay/sequra/cb/{token}", self.callback, methods=["POST"])])
        self.outbound = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=SHOP)
        self.sandbox_app = create_sandbox(self.outbound, **sandbox_options)
        app.router.routes.append(Mount("/sandbox/sequra", app=self.sandbox_app))
        self.app = app
        self.http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app))
        runtime = PluginRuntime(http=self.http, public_url=SHOP, sandbox_url=SANDBOX, sandbox_http=self.outbound)
        self.settings = settings or SequraSettings()
        self.plugin = SequraPlugin(self.settings, runtime)
        self.payments: dict[str, PaymentAttempt] = {}
        self.applied: list[Observation] = []
        self.replies: list[int] = []
        self.cart_changed: set[str] = set()

    @property
    def sandbox(self):
        return self.sandbox_app.state.sandbox

    def with_plugin(self, **settings) -> World:
        self.settings = replace(self.settings, **settings)
        self.plugin = SequraPlugin(self.settings, self.plugin.runtime)
        return self

    async def start(self, payment: PaymentAttempt):
        started = await self.plugin.start(payment, CTX)
        token = payment.urls.callback.rsplit("/", 1)[-1]
        self.payments[token] = replace(payment, reference=started.reference, data=dict(started.data),
                                       status=started.observation.status)
        return started

    def payment(self, token: str = "tok7") -> PaymentAttempt:
        return self.payments[token]

    def apply(self, token: str, observation: Observation) -> None:
        if any(o.dedupe_key == observation.dedupe_key for o in self.applied):
            return
        self.applied.append(observation)
        payment = self.payments[token]
        self.payments[token] = replace(payment, status=observation.status,
                                       data={**payment.data, **observation.data})

    async def callback(self, request: Request) -> Response:
        reply = await self._pipeline(request)
        self.replies.append(reply.status_code)
        return reply

    async def _pipeline(self, request: Request) -> Response:
        plugin, token = self.plugin, request.path_params["token"]
        payment = self.payments.get(token)
        if payment is None:
            return plugin.callback_reply(CallbackOutcome.UNKNOWN)
        try:
            claim = await plugin.verify_callback(request, await request.body(), payment)
        except CallbackRejected:
            return plugin.callback_reply(CallbackOutcome.REJECTED)
        except UnsupportedCallback:
            return plugin.callback_reply(CallbackOutcome.UNSUPPORTED)
        if token in self.cart_changed:
            return plugin.callback_reply(CallbackOutcome.CONFLICT)
        try:
            observation = await plugin.fetch(payment, claim)
        except CartChanged:
            return plugin.callback_reply(CallbackOutcome.CONFLICT)
        except ProviderUnavailable:
            return plugin.callback_reply(CallbackOutcome.RETRY)
        except ReadBackUnavailable:
            return plugin.callback_reply(CallbackOutcome.UNSUPPORTED)
        except ProviderError:
            return plugin.callback_reply(CallbackOutcome.REJECTED)
        self.apply(token, observation)
        return plugin.callback_reply(CallbackOutcome.ACCEPTED)

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

    async def aclose(self) -> None:
        await self.sandbox.aclose()
        await self.http.aclose()
        await self.outbound.aclose()

"""The demo guide: its reset (the shop and every sandbox, confirmed, after a login if need be) and
its "Try it" (a persona's cart and checkout, the sandbox's scenario), in demo mode only."""

from __future__ import annotations

import re

import pytest
from sqlmodel import select

from shop.models import Order, Product
from shop.personas import PERSONAS
from shop.testing.shopper import Shopper, make_settings, running_app

pytestmark = pytest.mark.anyio
ALL = ["banktransfer", "secupay", "seqr", "sequra"]


def sandbox_of(app, plugin_id: str):
    return app.state.sandboxes[plugin_id].state.sandbox


async def bank_transfer(shopper: Shopper) -> str:
    await shopper.add("MUG-ENAMEL")
    placed = await shopper.checkout("banktransfer:banktransfer", country_code="DE")
    assert placed.status_code == 303, placed.text
    return await shopper.order_id_from(placed)


async def reset_the_demo(shopper: Shopper) -> None:
    await shopper.get("/demo/reset")
    answer = await shopper.post("/demo/reset")
    assert (answer.status_code, answer.headers.get("location")) == (303, "/demo"), answer.text


async def place_after_resets(app, resets: int) -> list[str]:
    shopper = Shopper(app)
    try:
        await shopper.login_admin()
        numbers = []
        for _ in range(resets + 1):
            if numbers:
                await reset_the_demo(shopper)
            await bank_transfer(shopper)
            with app.state.db() as session:
                numbers.append(session.exec(select(Order.number)).one())
        return numbers
    finally:
        await shopper.aclose()


async def test_two_resets_then_a_bank_transfer_is_expected_afresh(tmp_path):
    """Payment ids restart with the shop's tables; the references the bank saw must not come back."""
    async with running_app(make_settings(tmp_path), plugin_ids=ALL) as app:
        sandbox_of(app, "seqr").scenarios.bank = "decline"
        numbers = await place_after_resets(app, resets=2)
        bank = sandbox_of(app, "banktransfer")
        (expected,) = bank.expected.values()  # the bank forgot what came before the resets...
        assert expected.reference.startswith(numbers[-1])
        assert sorted(set(numbers)) == numbers  # ...and order numbers count on, never repeated
        assert sandbox_of(app, "seqr").scenarios.bank == "approve"  # every sandbox's scenarios are reset


@pytest.mark.slow
async def test_two_resets_then_a_bank_transfer_on_postgres(postgres, tmp_path):
    settings = make_settings(tmp_path, DATABASE_URL=postgres.url)
    async with running_app(settings, plugin_ids=["banktransfer"]) as app:
        numbers = await place_after_resets(app, resets=2)
        (expected,) = sandbox_of(app, "banktransfer").expected.values()
        assert expected.reference.startswith(numbers[-1]) and sorted(set(numbers)) == numbers


async def test_a_reset_while_logged_out_comes_back_to_its_confirmation_after_the_login(tmp_path):
    async with running_app(make_settings(tmp_path), plugin_ids=["banktransfer"]) as app:
        shopper = Shopper(app)
        try:
            await shopper.get("/demo")
            asked = await shopper.get("/demo/reset")
            assert (asked.status_code, asked.headers["location"]) == (303, "/admin/login?next=/demo/reset")
            login_page = await shopper.get(asked.headers["location"])
            assert 'name="next" value="/demo/reset"' in login_page.text
            logged_in = await shopper.post("/admin/login", {"password": "demo-admin", "next": "/demo/reset"})
            assert (logged_in.status_code, logged_in.headers["location"]) == (303, "/demo/reset")
            confirmation = await shopper.get("/demo/reset")
            assert confirmation.status_code == 200 and "Reset everything" in confirmation.text
            elsewhere = await shopper.post("/admin/login", {"password": "demo-admin", "next": "https://evil.test/"})
            assert elsewhere.headers["location"] == "/admin"
        finally:
            await shopper.aclose()


async def test_a_sandbox_that_refuses_the_reset_leaves_the_shop_as_it_was(tmp_path):
    async with running_app(make_settings(tmp_path), plugin_ids=["banktransfer"]) as app:
        shopper = Shopper(app)
        try:
            await shopper.login_admin()
            await bank_transfer(shopper)
            app.state.sandbox_pages["banktransfer"] = "http://127.0.0.1:8000/sandbox/moved/"  # answers 404
            await shopper.get("/demo/reset")
            answer = await shopper.post("/demo/reset")
            assert answer.status_code == 502 and "Nothing in the shop was reset" in answer.text
            with app.state.db() as session:
                assert len(session.exec(select(Order)).all()) == 1
        finally:
            await shopper.aclose()


@pytest.mark.parametrize("plugin_id", ALL)
async def test_try_it_fills_the_cart_and_the_checkout_as_the_flows_persona(tmp_path, plugin_id):
    async with running_app(make_settings(tmp_path), plugin_ids=ALL) as app:
        plugin = app.state.plugins.get(plugin_id)
        index, flow = flow_to_try(plugin)
        persona = PERSONAS[flow.persona]
        shopper = Shopper(app)
        try:
            await shopper.add("POSTER-MAP")  # whatever was in the cart before goes
            guide = await shopper.get("/demo")
            assert f'action="/demo/try/{plugin_id}/{index}"' in guide.text
            tried = await shopper.post(f"/demo/try/{plugin_id}/{index}")
            assert (tried.status_code, tried.headers["location"]) == (303, "/checkout")
            checkout = (await shopper.get("/checkout")).text
            for sku, _ in persona.cart:
                assert sku in checkout or _product_name(app, sku) in checkout
            assert _product_name(app, "POSTER-MAP") not in checkout
            for field in ("email", "given_names", "surname", "line1", "city", "postal_code"):
                assert f'name="{field}" type' in checkout and f'value="{persona.details[field]}"' in checkout
            option = f"{plugin_id}:{flow.option or plugin_id}"
            assert re.search(rf'value="{re.escape(option)}" required\s+checked', checkout), option
            scenario = _scenario_of(sandbox_of(app, plugin_id))
            for switch, value in flow.scenario.items():
                assert str(getattr(scenario, switch)) == value
        finally:
            await shopper.aclose()


async def test_try_it_with_a_product_sold_out_says_so_on_the_guide(tmp_path):
    async with running_app(make_settings(tmp_path), plugin_ids=["sequra"]) as app:
        with app.state.db() as session:
            lamp = session.exec(select(Product).where(Product.sku == "LAMP-DESK")).one()
            lamp.stock = 0
            session.add(lamp)
            session.commit()
        shopper = Shopper(app)
        try:
            tried = await shopper.post("/demo/try/sequra/0")
            assert (tried.status_code, tried.headers["location"]) == (303, "/demo")
            assert "Reset the demo to restock" in (await shopper.get("/demo")).text
        finally:
            await shopper.aclose()


def flow_to_try(plugin):
    """One with a scenario to set where the plugin has one, else the first with a persona."""
    tried = [(index, flow) for index, flow in enumerate(plugin.demo_flows) if flow.persona]
    return next(((index, flow) for index, flow in tried if flow.scenario), tried[0])


def _product_name(app, sku: str) -> str:
    with app.state.db() as session:
        return session.exec(select(Product.name).where(Product.sku == sku)).one()


def _scenario_of(sandbox):
    """Each sandbox names its switches its own way; a bank keeps them on itself."""
    for name in ("scenarios", "scenario"):
        if hasattr(sandbox, name):
            return getattr(sandbox, name)
    return _BankSwitches(sandbox)


class _BankSwitches:
    def __init__(self, bank) -> None:
        self.webhook, self.read = bank.webhook_mode, bank.read_mode


async def test_try_it_and_the_guide_are_only_for_plugins_in_sandbox_mode(tmp_path):
    settings = make_settings(tmp_path, BANKTRANSFER_BASE_URL="https://bank.invalid/v1",
                             BANKTRANSFER_API_KEY="bk_live_9f8e7d6c5b4a39281706",
                             BANKTRANSFER_WEBHOOK_SECRET="whsec_live_0a1b2c3d4e5f60718293",
                             ADMIN_PASSWORD="correct-horse-battery-staple")
    async with running_app(settings, plugin_ids=["banktransfer", "seqr"]) as app:
        shopper = Shopper(app)
        try:
            guide = await shopper.get("/demo")
            assert guide.status_code == 200 and "/demo/try/seqr/0" in guide.text
            assert "/demo/try/banktransfer/" not in guide.text and "Live:" in guide.text
            assert (await shopper.post("/demo/try/banktransfer/0")).status_code == 404
            assert (await shopper.post("/demo/try/seqr/99")).status_code == 404
        finally:
            await shopper.aclose()
    live_seqr = {"SEQR_BASE_URL": "https://seqr.invalid/soap/merchant/cashregister-2",
                 "SEQR_TERMINAL_ID": "cartwheel-live-1", "SEQR_PASSWORD": "seqr-live-password-2024"}
    async with running_app(make_settings(tmp_path, **{**settings.env, **live_seqr}),
                           plugin_ids=["banktransfer", "seqr"]) as app:
        shopper = Shopper(app)
        try:
            assert (await shopper.get("/demo")).status_code == 404  # nothing of a demo in a live store
        finally:
            await shopper.aclose()


async def test_the_guide_and_try_it_speak_the_presenters_language(tmp_path):
    async with running_app(make_settings(tmp_path), plugin_ids=ALL) as app:
        shopper = Shopper(app)
        try:
            await shopper.post("/locale", {"locale": "es", "next": "/demo"})
            guide = (await shopper.get("/demo")).text
            assert "Guía de la demo" in guide and ">Probar</button>" in guide
            assert "Pago aplazado, aprobado" in guide  # a plugin's flow title
            assert "Lucía García, una compradora de Madrid (SeQura la aprueba)" in guide  # a persona
            index, _flow = flow_to_try(app.state.plugins.get("sequra"))
            await shopper.post(f"/demo/try/sequra/{index}")
            checkout = (await shopper.get("/checkout")).text
            assert "compras como Lucía García" in checkout
        finally:
            await shopper.aclose()

"""The httpx client against the sandbox in-process, and against a provider that misbehaves."""

from __future__ import annotations

import httpx
import pytest

from plugins.sequra.client import SequraClient, error_messages, field_errors
from plugins.sequra.sandbox import catalogue
from plugins.sequra.tests.fakeshop import SANDBOX
from plugins.sequra.tests.test_validation import minimal
from shop.money import Money
from shop.payments.contract import ProviderError, ProviderUnavailable

pytestmark = pytest.mark.anyio
BASE = SANDBOX


def client_for(world, **kw) -> SequraClient:
    options = dict(base_url=BASE, account_key="cartwheel", secret="cartwheel-sandbox",
                   merchant_ref="dummy_automated_tests")
    options.update(kw)
    return SequraClient(world.http, **options)


async def test_solicitation_keeps_the_absolute_location_and_sends_the_headers(world):
    seen = []
    client = client_for(world)

    async def hook(request):
        seen.append(request)
    world.http.event_hooks["request"] = [hook]
    uri = await client.start_solicitation(minimal())
    assert uri.startswith(f"{BASE}/orders/")
    request = seen[-1]
    assert request.headers["sequra-merchant-id"] == "dummy_automated_tests"
    assert request.headers["accept"] == "application/json"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["authorization"].startswith("Basic ")
    html = await client.identification_form(uri, "i1")
    assert seen[-1].headers["accept"] == "text/html"
    assert "window.SequraFormElement = 'sq-identification-i1'" in html


async def test_the_order_url_is_used_as_given():
    """Even when Location names another host than the base URL, calls follow it."""
    hosts = []

    def handler(request: httpx.Request) -> httpx.Response:
        hosts.append(request.url.host)
        if request.method == "POST":
            return httpx.Response(204, headers={"Location": "https://api.elsewhere.example/orders/u-1"})
        return httpx.Response(200, text="<div></div>")

    client = SequraClient(httpx.AsyncClient(transport=httpx.MockTransport(handler)), base_url="https://sq.example",
                          account_key="k", secret="s", merchant_ref="m")
    uri = await client.start_solicitation({"order": {}})
    await client.identification_form(uri, "pp3", campaign="x")
    await client.put_order(uri, {"order": {}})
    assert uri == "https://api.elsewhere.example/orders/u-1"
    assert hosts == ["sq.example", "api.elsewhere.example", "api.elsewhere.example"]


@pytest.mark.parametrize("status", [200, 201, 204])
async def test_any_2xx_with_location_starts_the_solicitation(status):
    """SeQura's quick guide says 200 with a Location, its older docs 204; some clients saw 201."""
    client = SequraClient(httpx.AsyncClient(transport=httpx.MockTransport(
        lambda r: httpx.Response(status, headers={"Location": "https://x/orders/1"}))),
        base_url="https://x", account_key="k", secret="s", merchant_ref="m")
    assert await client.start_solicitation({}) == "https://x/orders/1"


async def test_409_becomes_a_provider_error_with_fields(world):
    body = minimal()
    body["order"]["customer"]["email"] = "nope"
    body["order"]["delivery_address"]["address_line_1"] = None
    with pytest.raises(ProviderError) as caught:
        await client_for(world).start_solicitation(body)
    error = caught.value
    assert error.status == 409 and not isinstance(error, ProviderUnavailable)
    assert error.fields == {"email": "SeQura says this is not an email address", "line1": "SeQura says this is missing"}


async def test_sum_rule_409_names_no_field(world):
    body = minimal()
    body["order"]["cart"]["order_total_with_tax"] = 1
    with pytest.raises(ProviderError) as caught:
        await client_for(world).start_solicitation(body)
    assert "add up to 10450" in caught.value.message and caught.value.fields == {}


async def test_wrong_secret_is_an_auth_error(world):
    with pytest.raises(ProviderError) as caught:
        await client_for(world, secret="wrong").start_solicitation(minimal())
    assert caught.value.status == 401 and caught.value.code == "auth"


async def test_5xx_is_unavailable(world):
    world.sandbox.scenario.server_error = True
    with pytest.raises(ProviderUnavailable):
        await client_for(world).merchant_payment_methods()


@pytest.mark.parametrize("exc", [httpx.ReadTimeout("slow"), httpx.ConnectError("refused"),
                                 httpx.ConnectTimeout("slow")])
async def test_timeouts_and_connection_errors_are_unavailable(exc):
    def handler(request):
        raise exc

    client = SequraClient(httpx.AsyncClient(transport=httpx.MockTransport(handler)), base_url="https://x",
                          account_key="k", secret="s", merchant_ref="m")
    with pytest.raises(ProviderUnavailable):
        await client.start_solicitation({})


async def test_error_entries_may_be_objects_with_a_title():
    assert error_messages({"errors": ["a", {"title": "b"}, {"x": 1}]}) == ["a", "b"]
    assert error_messages("plain") == []
    assert field_errors(["Invalid data: invoice_address.surnames is missing"]) == {
        "invoice_surname": "SeQura says this is missing"}
    assert field_errors(["Invalid data: customer.ip_number is missing", "Cart has changed"]) == {}


async def test_payment_methods_for_the_merchant_and_the_order(world):
    client = client_for(world)
    merchant = await client.merchant_payment_methods()
    assert {m.product for _, m in merchant.methods()} == {"i1", "sp1", "pp3"}
    uri = await client.start_solicitation(minimal())
    order = await client.order_payment_methods(uri)
    pp3 = next(m for _, m in order.methods() if m.product == "pp3")
    assert pp3.min_amount == 5000 and pp3.ends_at.year == 2222
    fr = await client.merchant_payment_methods("dummy_automated_tests_fr")
    assert [m.product for _, m in fr.methods()] == ["pp3"]


async def test_credit_agreements_reproduce_the_spec_example(world):
    plans = await client_for(world).credit_agreements(Money(15000))
    three = plans.plans("pp3")[0]
    assert three.instalment_count == 3
    assert (three.instalment_amount.value, three.instalment_amount.string) == (5000, "50,00 €")
    assert three.instalment_fee.value == 300 and three.instalment_total.value == 5300
    assert (three.grand_total.value, three.grand_total.string) == (15900, "159,00 €")
    assert three.cost_of_credit.value == 900
    assert abs(three.apr.value - 10408) <= 2
    assert [p.instalment_count for p in plans.plans("pp3")] == [3, 6, 12]
    assert plans.plans("i1") == []
    assert [p.instalment_count for p in (await client_for(world).credit_agreements(Money(40000))).plans("pp3")] == [
        3, 6, 12, 18, 24]


def test_euro_formatting():
    assert catalogue.euros(200000) == "2.000,00 €" and catalogue.euros(-5) == "-0,05 €"


async def test_form_by_sms_and_order_update_through_the_client(world):
    client = client_for(world)
    uri = await client.start_solicitation(minimal())
    await client.send_form(uri, "pp3")
    assert world.sandbox.outbox[-1].to == "666666666"
    with pytest.raises(ProviderError) as caught:
        await client.send_form(uri, "pp5", campaign="temporary")
    assert caught.value.status == 409
    with pytest.raises(ProviderError) as caught:
        await client.update_order("A14/12345", {"order": {}})
    assert caught.value.status == 404


async def test_order_update_quotes_the_reference_as_one_segment():
    paths = []

    def handler(request):
        paths.append(request.url.raw_path)
        return httpx.Response(204)

    client = SequraClient(httpx.AsyncClient(transport=httpx.MockTransport(handler)), base_url="https://x",
                          account_key="k", secret="s", merchant_ref="m")
    await client.update_order("A14/12345", {"order": {}})
    assert paths == [b"/merchants/m/orders/A14%2F12345"]


async def test_credentials_and_delivery_report_through_the_client(world):
    client = client_for(world)
    assert "dummy_automated_tests_pt" in {m["ref"] for m in await client.credentials()}
    await client.delivery_report({"delivery_report": {"merchant": {"id": "dummy_automated_tests"}, "orders": [],
                                                      "broken_orders": [], "statistics": {"orders": []}}})
    with pytest.raises(ProviderError) as caught:
        await client.delivery_report({"delivery_report": {"merchant": {"id": "someone"}}})
    assert caught.value.status == 403


async def test_delivery_reports_at_both_paths(world):
    body = {"delivery_report": {"merchant": {"id": "dummy_automated_tests"}, "orders": [], "broken_orders": [],
                                "statistics": {"orders": []}, "platform": {}}}
    for path in ("/orders/delivery_reports", "/delivery_reports"):
        response = await world.http.post(f"{BASE}{path}", json=body, auth=("cartwheel", "cartwheel-sandbox"))
        assert response.status_code == 204

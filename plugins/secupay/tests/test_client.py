import httpx
import pytest

from plugins.secupay.client import SecupayClient, SecupayError, clean_reason
from shop.payments.contract import ProviderError, ProviderUnavailable

from .conftest import example_body


async def paid(client, sandbox, method="creditcard", **changes):
    stx = await client.create_smart_transaction(example_body(**changes))
    sandbox.pay(sandbox.stx[stx["id"]], method)
    stx = await client.get_smart_transaction(stx["id"])
    return stx, stx["transactions"][0]["id"]


@pytest.mark.anyio
async def test_read_smart_and_payment_transaction(client, sandbox):
    stx, pci_id = await paid(client, sandbox)
    assert stx["status"] == "ok" and stx["payment_method"] == "creditcard"
    pci = await client.get_payment_transaction(pci_id)
    assert pci["object"] == "payment.transactions" and pci["amount"] == 2690 and pci["currency"] == "EUR"
    assert pci["details"]["status_simple"] == 1 and pci["details"]["status_simple_text"] == "accepted"
    assert (await client.check_status(pci_id))["amount"] == 2690
    assert (await client.check_status(pci["transaction_hash"]))["status_simple"] == 1


@pytest.mark.anyio
async def test_partial_then_full_refund(client, sandbox):
    _, pci_id = await paid(client, sandbox)
    answer = await client.cancel_payment_transaction(pci_id, reduce_amount_by=1000, reason="Broken pen!")
    original, refund = answer
    assert original["id"] == pci_id and original["details"]["status_simple"] == 1
    assert refund["amount"] == -1000 and refund["product"] == "Erstattung"
    assert refund["parents"][0]["id"] == pci_id and refund["parents"][0]["ref_type_id"] == 19
    assert [r["id"] for r in original["related_transactions"]] == [refund["id"]]
    assert (await client.check_status(pci_id))["amount"] == 1690
    with pytest.raises(SecupayError) as error:
        await client.cancel_payment_transaction(pci_id, reduce_amount_by=1691)
    assert error.value.status == 403 and "remaining amount 1690" in error.value.message
    original, refund = await client.cancel_payment_transaction(pci_id)  # everything left
    assert refund["amount"] == -1690 and original["details"]["status_simple"] == 5
    assert (await client.check_status(pci_id))["amount"] == 0
    with pytest.raises(SecupayError):
        await client.cancel_payment_transaction(pci_id, reduce_amount_by=1)


@pytest.mark.anyio
async def test_authorised_card_lowered_once_then_captured(client, sandbox):
    _, pci_id = await paid(client, sandbox, payment_context={"auto_capture": False})
    assert (await client.get_payment_transaction(pci_id))["details"]["status_simple"] == 2
    answer = await client.cancel_payment_transaction(pci_id, reduce_amount_by=690)
    assert len(answer) == 1 and answer[0]["details"]["amount"] == 2000  # lowered, no refund transaction
    with pytest.raises(SecupayError) as error:
        await client.cancel_payment_transaction(pci_id, reduce_amount_by=100)
    assert "only once" in error.value.message
    captured = await client.capture(pci_id)
    assert captured["details"]["status_simple"] == 1
    with pytest.raises(SecupayError) as error:
        await client.capture(pci_id)
    assert error.value.code == "1003" and error.value.error == "ProductNotAllowedException"


@pytest.mark.anyio
async def test_invoice_capture_with_shipping_information(client, sandbox):
    stx, pci_id = await paid(client, sandbox, "invoice")
    assert stx["payment_instructions"]["purpose"].startswith("TA ")
    assert (await client.get_payment_transaction(pci_id))["details"]["status_simple"] == 14
    info = {"carrier": "DHL", "tracking_id": "0034", "invoice_number": "R-1", "order_id": "ORD-1"}
    assert await client.set_shipping_information(pci_id, info) == {"result": True}
    captured = await client.capture(pci_id, shipping_information={"shipped_at": "2026-11-23T10:00:00+01:00"})
    assert captured["status"] == 86 and captured["details"]["status_simple"] == 1
    assert captured["invoice_number"] == "R-1"
    instructions = await client.get_payment_instructions(pci_id)
    assert instructions["payment_instructions"]["iban"] == "DE81850400611005523759"


@pytest.mark.anyio
async def test_cancel_smart_transaction_only_before_payment(client, sandbox):
    stx = await client.create_smart_transaction(example_body())
    assert (await client.cancel_smart_transaction(stx["id"]))["status"] == "cancelled"
    _, pci_id = await paid(client, sandbox)
    paid_stx = sandbox.pci[pci_id].stx_id
    with pytest.raises(SecupayError) as error:
        await client.cancel_smart_transaction(paid_stx)
    assert error.value.status == 403


@pytest.mark.anyio
async def test_start_prepaid_and_test_changed_payment_status(client, sandbox):
    stx = await client.create_smart_transaction(example_body())
    stx = await client.start_smart_transaction(stx["id"], "prepaid")
    assert stx["status"] == "pending" and stx["payment_method"] == "prepaid"
    pci_id = stx["transactions"][0]["id"]
    await client.test_changed_payment_status("prepaid", pci_id, 1)
    assert (await client.get_smart_transaction(stx["id"]))["status"] == "ok"
    with pytest.raises(SecupayError) as error:
        await client.test_changed_payment_status("debit", pci_id, 1)  # not a debit
    assert error.value.status == 404


@pytest.mark.anyio
async def test_list_by_merchant_ref(client):
    await client.create_smart_transaction(example_body(merchantRef="ORD-7"))
    await client.create_smart_transaction(example_body(merchantRef="ORD-8"))
    found = await client.list_smart_transactions(q="merchantRef:ORD-7")
    assert found["count"] == 1 and found["data"][0]["merchantRef"] == "ORD-7"


@pytest.mark.anyio
async def test_error_body_becomes_plain_words(client):
    with pytest.raises(SecupayError) as error:
        await client.create_smart_transaction(example_body(basket_info={"sum": 1, "currency": "EUR"}))
    exc = error.value
    assert not isinstance(exc, ProviderUnavailable)
    assert exc.message.startswith("secupay found a mistake in the payment data: basket_info.sum: 1 does not equal")
    assert exc.fields == {"basket_info.sum": "1 does not equal the sum of the basket items 2690"}
    assert exc.code == "1001" and len(exc.support_id) == 32 and "Code 1001" in exc.user_text


@pytest.mark.anyio
async def test_server_error_is_unavailable(client, sandbox):
    sandbox.scenarios.api = "error"
    with pytest.raises(ProviderUnavailable) as error:
        await client.get_smart_transaction("STX_X")
    assert error.value.status == 500


def fake_api(handler):
    def route(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/oauth/token"):
            return httpx.Response(200, json={"access_token": "a" * 26, "expires_in": 1200})
        return handler(request)

    return SecupayClient(httpx.AsyncClient(transport=httpx.MockTransport(route)), base_url="http://x",
                         client_id="i", client_secret="s")


@pytest.mark.anyio
@pytest.mark.parametrize("answer", [
    lambda r: (_ for _ in ()).throw(httpx.ReadTimeout("slow", request=r)),
    lambda r: (_ for _ in ()).throw(httpx.ConnectError("down", request=r)),
    lambda r: httpx.Response(502, text="<html>Bad gateway</html>"),
    lambda r: httpx.Response(200, text="<html>proxy page</html>"),
])
async def test_transport_failures_are_unavailable(answer):
    client = fake_api(answer)
    with pytest.raises(ProviderUnavailable):
        await client.get_smart_transaction("STX_X")


@pytest.mark.anyio
async def test_non_json_refusal_is_a_provider_error():
    client = fake_api(lambda r: httpx.Response(418, text="teapot"))
    with pytest.raises(ProviderError) as error:
        await client.get_smart_transaction("STX_X")
    assert "HTTP 418" in error.value.message and not isinstance(error.value, ProviderUnavailable)


@pytest.mark.anyio
async def test_create_is_never_retried_after_a_timeout():
    calls = []

    def answer(request):
        calls.append(request)
        raise httpx.ReadTimeout("slow", request=request)

    with pytest.raises(ProviderUnavailable):
        await fake_api(answer).create_smart_transaction(example_body())
    assert len(calls) == 1


def test_reason_is_cleaned_for_the_bank_purpose():
    assert clean_reason("Rückgabe: 2× Stift; danke!") == "R ckgabe: 2  Stift  danke"
    assert len(clean_reason("x" * 300)) == 100


@pytest.mark.anyio
async def test_prepare_debit_with_a_bank_account(client):
    stx = await client.create_smart_transaction(example_body(payment_context={"auto_capture": False}))
    container = {"type": "bank_account", "private": {"owner": "Max Mustermann", "iban": "DE37503240001000000524"}}
    with pytest.raises(SecupayError) as error:
        await client.prepare_smart_transaction(stx["id"], "debit", {"container": {
            "type": "bank_account", "private": {"owner": "Max", "iban": "DE37503240001000000525"}}})
    assert error.value.fields == {"container.private.iban": "invalid IBAN"}
    prepared = await client.prepare_smart_transaction(stx["id"], "debit", {"container": container})
    assert prepared["status"] == "approved" and prepared["container"]["private"]["iban"] == "DE37**************0524"
    assert (await client.start_smart_transaction(stx["id"], "debit"))["status"] == "ok"


@pytest.mark.anyio
async def test_prepare_card_answers_an_iframe_url(client):
    stx = await client.create_smart_transaction(example_body())
    prepared = await client.prepare_smart_transaction(stx["id"], "creditcard", {
        "callback_urls": {"success_url": "http://shop.test/ok", "failure_url": "http://shop.test/no"}})
    assert prepared["status"] == "created" and "payment-method=creditcard" in prepared["iframe_url"]


@pytest.mark.anyio
async def test_set_delivery_and_abort(client, sandbox):
    stx, _ = await paid(client, sandbox, intent="order")
    shipped = await client.set_delivery(stx["id"], {"type": "shipping", "shipped_by": "DHL", "tracking_code": "1"})
    assert shipped["status"] == "shipped" and shipped["delivery_options"]["shipped_by"] == "DHL"
    with pytest.raises(SecupayError):
        await client.set_delivery(stx["id"], {"type": "teleport"})
    fresh = await client.create_smart_transaction(example_body())
    assert (await client.abort_smart_transaction(fresh["id"]))["status"] == "cancelled"


@pytest.mark.anyio
async def test_unknown_fields_are_echoed(client):
    stx = await client.create_smart_transaction(example_body(communications={"action_type": "x", "template_id": "y"}))
    assert stx["communications"] == {"action_type": "x", "template_id": "y"}

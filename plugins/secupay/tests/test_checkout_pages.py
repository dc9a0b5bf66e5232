"""The hosted Smart Checkout, clicked through as a shopper would."""

import json

import pytest

from .conftest import example_body


async def new_stx(client, **changes):
    return await client.create_smart_transaction(example_body(**changes))


def path(url: str) -> str:
    return url.split("sandbox.test", 1)[1]


CARD = {"holder": "Max Mustermann", "expiry": "12/40", "cvc": "123"}


@pytest.mark.anyio
async def test_general_link_offers_the_contract_methods(http, client):
    stx = await new_stx(client)
    page = await http.get(path(stx["payment_links"]["general"]))
    assert page.status_code == 200
    for method in ("creditcard", "debit", "paypal", "prepaid", "invoice"):
        assert f'data-method="{method}"' in page.text
    assert 'id="abort"' in page.text


@pytest.mark.anyio
async def test_card_success_then_back_to_the_shop(http, client, sandbox, inbox):
    stx = await new_stx(client)
    assert (await http.get(path(stx["payment_links"]["creditcard"]))).status_code == 200
    page = await http.post(f"/checkout/{stx['id']}/pay/creditcard", data={**CARD, "number": "4111 1111 1111 1111"})
    assert page.status_code == 200 and 'href="http://shop.test/s"' in page.text
    read = await client.get_smart_transaction(stx["id"])
    assert read["status"] == "ok" and read["container"]["private"]["pan"] == "411111XXXXXX1111"
    await sandbox.pusher.drain()
    assert len(inbox.requests) == 1
    push = json.loads(inbox.requests[0].content)
    assert push["object"] == "event.pushes" and push["data"][0]["id"] == read["transactions"][0]["id"]
    assert str(inbox.requests[0].url) == "http://shop.test/cb"


@pytest.mark.anyio
async def test_declined_card_then_retry(http, client):
    stx = await new_stx(client)
    page = await http.post(f"/checkout/{stx['id']}/pay/creditcard", data={**CARD, "number": "4000000000000002"})
    assert "declined" in page.text or "abgelehnt" in page.text
    assert (await client.get_smart_transaction(stx["id"]))["status"] == "created"
    await http.post(f"/checkout/{stx['id']}/pay/creditcard", data={**CARD, "number": "4111111111111111"})
    assert (await client.get_smart_transaction(stx["id"]))["status"] == "ok"


@pytest.mark.anyio
@pytest.mark.parametrize("fields,field", [
    ({"number": "4111111111111112"}, "number"), ({"number": "4111111111111111", "expiry": "01/20"}, "expiry"),
    ({"number": "4111111111111111", "cvc": "1"}, "cvc"), ({"number": "4111111111111111", "holder": ""}, "holder"),
])
async def test_card_form_checks(http, client, fields, field):
    stx = await new_stx(client)
    page = await http.post(f"/checkout/{stx['id']}/pay/creditcard", data={**CARD, **fields})
    assert page.status_code == 422 and 'class="error"' in page.text
    assert (await client.get_smart_transaction(stx["id"]))["status"] == "created"


@pytest.mark.anyio
async def test_three_d_secure_challenge(http, client):
    stx = await new_stx(client)
    answer = await http.post(f"/checkout/{stx['id']}/pay/creditcard", data={**CARD, "number": "4000000000003220"})
    assert answer.status_code == 303 and answer.headers["location"].endswith(f"/checkout/{stx['id']}/3ds")
    assert "3-D Secure" in (await http.get(f"/checkout/{stx['id']}/3ds")).text
    failed = await http.post(f"/checkout/{stx['id']}/3ds", data={"action": "confirm", "code": "0000"})
    assert failed.status_code == 303
    assert (await client.get_smart_transaction(stx["id"]))["status"] == "created"
    await http.post(f"/checkout/{stx['id']}/pay/creditcard", data={**CARD, "number": "4000000000003220"})
    await http.post(f"/checkout/{stx['id']}/3ds", data={"action": "confirm", "code": "1234"})
    assert (await client.get_smart_transaction(stx["id"]))["status"] == "ok"


@pytest.mark.anyio
async def test_card_processing_error_goes_to_the_error_url(http, client):
    stx = await new_stx(client)
    answer = await http.post(f"/checkout/{stx['id']}/pay/creditcard", data={**CARD, "number": "4000000000000119"})
    assert answer.status_code == 303 and answer.headers["location"] == "http://shop.test/e"
    assert (await client.get_smart_transaction(stx["id"]))["status"] == "failed"


@pytest.mark.anyio
async def test_debit_checks_iban_and_mandate(http, client):
    stx = await new_stx(client)
    bad = await http.post(f"/checkout/{stx['id']}/pay/debit",
                          data={"owner": "Max", "iban": "DE37503240001000000525", "mandate": "yes"})
    assert bad.status_code == 422 and "IBAN" in bad.text
    no_mandate = await http.post(f"/checkout/{stx['id']}/pay/debit",
                                 data={"owner": "Max", "iban": "DE37 5032 4000 1000 0005 24"})
    assert no_mandate.status_code == 422 and "mandate" in no_mandate.text
    ok = await http.post(f"/checkout/{stx['id']}/pay/debit",
                         data={"owner": "Max", "iban": "DE37 5032 4000 1000 0005 24", "mandate": "yes"})
    assert ok.status_code == 200
    read = await client.get_smart_transaction(stx["id"])
    assert read["status"] == "ok" and read["container"]["type"] == "bank_account"
    assert read["container"]["private"]["iban"] == "DE37**************0524"


@pytest.mark.anyio
async def test_prepaid_shows_transfer_instructions_and_girocode(http, client):
    stx = await new_stx(client)
    page = await http.post(f"/checkout/{stx['id']}/pay/prepaid")
    assert "DE81850400611005523759" in page.text and "TA " in page.text
    read = await client.get_smart_transaction(stx["id"])
    assert read["status"] == "pending"
    qr = await http.get(path(read["payment_instructions"]["girocode_url"]))
    assert qr.status_code == 200 and qr.headers["content-type"].startswith("image/svg+xml")


@pytest.mark.anyio
@pytest.mark.parametrize("action,status", [("approve", "ok"), ("deny", "failed"), ("cancel", "created")])
async def test_paypal_like_page(http, client, action, status):
    stx = await new_stx(client)
    to_paypal = await http.post(f"/checkout/{stx['id']}/pay/paypal")
    assert to_paypal.status_code == 303 and to_paypal.headers["location"].endswith("/paypal")
    assert "PayPal" in (await http.get(f"/checkout/{stx['id']}/paypal")).text
    await http.post(f"/checkout/{stx['id']}/paypal", data={"action": action})
    assert (await client.get_smart_transaction(stx["id"]))["status"] == status


@pytest.mark.anyio
async def test_abort_goes_to_abort_url_else_error_url(http, client):
    stx = await new_stx(client)
    answer = await http.get(f"/checkout/{stx['id']}/abort")
    assert answer.status_code == 303 and answer.headers["location"] == "http://shop.test/a"
    assert (await client.get_smart_transaction(stx["id"]))["status"] == "created"
    only_error = await new_stx(client, application_context={"return_urls": {"url_error": "http://shop.test/e"}})
    answer = await http.get(f"/checkout/{only_error['id']}/abort")
    assert answer.headers["location"] == "http://shop.test/e"
    none = await new_stx(client, application_context={})
    assert 'id="abort"' not in (await http.get(path(none["payment_links"]["general"]))).text


@pytest.mark.anyio
async def test_paid_transaction_cannot_be_paid_twice(http, client, sandbox):
    stx = await new_stx(client)
    await http.post(f"/checkout/{stx['id']}/pay/creditcard", data={**CARD, "number": "4111111111111111"})
    again = await http.post(f"/checkout/{stx['id']}/pay/creditcard", data={**CARD, "number": "4111111111111111"})
    assert again.status_code == 200 and len(sandbox.pci) == 1


@pytest.mark.anyio
async def test_control_page_actions(http, client, sandbox):
    stx = await new_stx(client)
    await http.post(f"/checkout/{stx['id']}/pay/prepaid")
    page = await http.get("/")
    assert stx["id"] in page.text and "transfer received" in page.text
    answer = await http.post(f"/control/stx/{stx['id']}/receive")
    assert answer.status_code == 303
    assert (await client.get_smart_transaction(stx["id"]))["status"] == "ok"
    other = await new_stx(client)
    await http.post(f"/control/stx/{other['id']}/fail")
    assert (await client.get_smart_transaction(other["id"]))["status"] == "failed"
    third = await new_stx(client)
    await http.post(f"/control/stx/{third['id']}/cancel")
    assert (await client.get_smart_transaction(third["id"]))["status"] == "cancelled"
    await http.post("/control/scenarios", data={"outcome": "reject", "push": "lost", "api": "normal",
                                                "token_refusal": "401", "prepaid_simple": "10", "token_lifetime": "60"})
    assert (sandbox.scenarios.outcome, sandbox.scenarios.push, sandbox.scenarios.token_refusal,
            sandbox.scenarios.prepaid_simple, sandbox.scenarios.token_lifetime) == ("reject", "lost", 401, 10, 60)


@pytest.mark.anyio
async def test_reject_and_review_scenarios(http, client, sandbox):
    sandbox.scenarios.outcome = "reject"
    stx = await new_stx(client)
    answer = await http.post(f"/checkout/{stx['id']}/pay/creditcard", data={**CARD, "number": "4111111111111111"})
    assert answer.status_code == 303 and answer.headers["location"] == "http://shop.test/e"
    sandbox.scenarios.outcome = "review"
    stx = await new_stx(client)
    await http.post(f"/checkout/{stx['id']}/pay/creditcard", data={**CARD, "number": "4111111111111111"})
    assert (await client.get_smart_transaction(stx["id"]))["status"] == "pending"
    await http.post(f"/control/stx/{stx['id']}/accept")
    assert (await client.get_smart_transaction(stx["id"]))["status"] == "ok"


@pytest.mark.anyio
async def test_customer_form_when_the_shop_sent_none(http, client):
    stx = await new_stx(client, customer={})
    page = await http.get(path(stx["payment_links"]["debit"]))
    assert 'id="continue"' in page.text and 'name="next" value="debit"' in page.text
    blocked = await http.post(f"/checkout/{stx['id']}/pay/debit",
                              data={"owner": "Max", "iban": "DE37503240001000000524", "mandate": "yes"})
    assert blocked.status_code == 303  # back to the form: no payment without a customer
    incomplete = await http.post(f"/checkout/{stx['id']}/customer", data={"email": "max@example.org", "next": "debit"})
    assert incomplete.status_code == 422
    answer = await http.post(f"/checkout/{stx['id']}/customer", data={
        "email": "erika@example.org", "salutation": "Mrs.", "forename": "Erika", "surname": "Musterfrau",
        "street": "Hauptstraße 5", "postal_code": "10115", "city": "Berlin", "country": "de", "next": "debit"})
    assert answer.status_code == 303 and "payment-method=debit" in answer.headers["location"]
    read = await client.get_smart_transaction(stx["id"])
    contact = read["customer"]["contact"]
    assert contact["name"] == "Erika Musterfrau"
    assert contact["address"] == {"street": "Hauptstraße", "street_number": "5", "postal_code": "10115",
                                  "city": "Berlin", "country": "DE"}
    assert 'id="pay"' in (await http.get(answer.headers["location"])).text


@pytest.mark.anyio
async def test_card_needs_no_address(http, client):
    body_customer = {"contact": {"forename": "Max", "surname": "Mustermann", "email": "max@example.org"}}
    stx = await new_stx(client, customer=body_customer)
    assert 'id="pay"' in (await http.get(path(stx["payment_links"]["creditcard"]))).text
    assert 'id="continue"' in (await http.get(path(stx["payment_links"]["invoice"]))).text


@pytest.mark.anyio
async def test_sandbox_works_mounted_anywhere(inbox):
    import httpx
    from starlette.applications import Starlette
    from starlette.routing import Mount

    from plugins.secupay.client import SecupayClient
    from plugins.secupay.sandbox import create_sandbox
    from plugins.secupay.settings import EXAMPLE_CLIENT_ID, EXAMPLE_CLIENT_SECRET

    shop = Starlette(routes=[Mount("/sandbox/secupay", app=create_sandbox(None))])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=shop), base_url="http://shop.test") as http:
        client = SecupayClient(http, base_url="http://shop.test/sandbox/secupay", client_id=EXAMPLE_CLIENT_ID,
                               client_secret=EXAMPLE_CLIENT_SECRET)
        stx = await client.create_smart_transaction(example_body(application_context={}))
        link = stx["payment_links"]["creditcard"]
        assert link.startswith("http://shop.test/sandbox/secupay/checkout?payment-method=creditcard&stx=")
        page = await http.get(link)
        assert f'action="http://shop.test/sandbox/secupay/checkout/{stx["id"]}/pay/creditcard"' in page.text
        assert (await http.get("http://shop.test/sandbox/secupay/")).status_code == 200


@pytest.mark.anyio
async def test_back_office_refund_is_seen_by_the_shop(http, client, sandbox, plugin):
    from shop.money import Money
    from shop.payments.contract import StartContext

    from .conftest import make_payment, started_payment

    payment = make_payment()
    started = await plugin.start(payment, StartContext())
    payment = started_payment(payment, started)
    sandbox.pay(sandbox.stx[started.reference], "creditcard")
    assert (await http.post(f"/control/stx/{started.reference}/refund", data={"amount": "12,50"})).status_code == 303
    bad = await http.post(f"/control/stx/{started.reference}/refund", data={"amount": "lots"})
    assert "amount" in bad.headers["location"]
    seen = await plugin.fetch(payment)
    assert [r.amount for r in seen.refunds] == [Money(1250)]


@pytest.mark.anyio
async def test_control_state_as_json(http, client, sandbox):
    paid = await new_stx(client)
    await http.post(f"/checkout/{paid['id']}/pay/creditcard", data={**CARD, "number": "4111 1111 1111 1111"})
    waiting = await new_stx(client)
    await sandbox.pusher.drain()
    snapshot = (await http.get("/control/state.json")).json()
    assert snapshot["token_fetches"] == sandbox.token_fetches == 1
    rows = {t["id"]: t for t in snapshot["transactions"]}
    assert rows[paid["id"]]["status"] == "ok" and rows[paid["id"]]["pci"]["simple"] == 1
    assert rows[paid["id"]]["payment_method"] == "creditcard" and rows[paid["id"]]["amount"] == 2690
    assert rows[waiting["id"]]["status"] == "created" and rows[waiting["id"]]["pci"] is None
    [push] = snapshot["pushes"]
    assert push["stx_id"] == paid["id"] and push["pci_id"] == rows[paid["id"]]["pci"]["id"]
    assert push["state"] == "delivered" and push["attempts"] == ["200"]

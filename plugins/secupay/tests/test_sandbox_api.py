"""Every rule the sandbox's API enforces, seen on the wire."""

import pytest

from plugins.secupay.settings import EXAMPLE_CLIENT_ID, EXAMPLE_CLIENT_SECRET

from .conftest import example_body

GOOD = {"grant_type": "client_credentials", "client_id": EXAMPLE_CLIENT_ID, "client_secret": EXAMPLE_CLIENT_SECRET}


async def bearer(http) -> dict:
    token = (await http.post("/oauth/token", json=GOOD)).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


# --------------------------------------------------------------------------- OAuth

@pytest.mark.anyio
async def test_token_in_json_and_in_form_encoding(http):
    for response in (await http.post("/oauth/token", json=GOOD), await http.post("/oauth/token", data=GOOD)):
        assert response.status_code == 200
        body = response.json()
        assert body["expires_in"] == 1200 and body["token_type"] == "bearer"
        assert len(body["access_token"]) == 26 and body["access_token"].isalnum()


@pytest.mark.anyio
async def test_token_with_http_basic_credentials(http):
    response = await http.post("/oauth/token", data={"grant_type": "client_credentials"},
                               auth=(EXAMPLE_CLIENT_ID, EXAMPLE_CLIENT_SECRET))
    assert response.status_code == 200


@pytest.mark.anyio
@pytest.mark.parametrize("body,error,text", [
    ({**GOOD, "client_secret": "0" * 64}, "invalid_client", "The client credentials are invalid"),
    ({**GOOD, "client_id": "1" * 32}, "invalid_client", "The client credentials are invalid"),
    ({"grant_type": "client_credentials"}, "invalid_client",
     "Client credentials were not found in the headers or body"),
    ({"client_id": EXAMPLE_CLIENT_ID, "client_secret": EXAMPLE_CLIENT_SECRET}, "invalid_request",
     "The grant type was not specified in the request"),
    ({**GOOD, "grant_type": "password"}, "unsupported_grant_type", 'Grant type "password" not supported'),
])
async def test_token_refusals(http, body, error, text):
    response = await http.post("/oauth/token", json=body)
    assert response.status_code == 400
    assert response.json() == {"error": error, "error_description": text}


@pytest.mark.anyio
@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer qb56tjj1bcvo9n2nj4u38k84lo"},
                                     {"Authorization": "Basic abc"}])
async def test_api_refuses_missing_or_wrong_token(http, headers):
    response = await http.get("/api/v2/Smart/Transactions/STX_X", headers=headers)
    assert response.status_code == 403
    body = response.json()
    assert body["status"] == "error" and body["error"] == "ProductNotAllowedException"
    assert body["error_details"] == "Valid auth token required" and body["code"] == 2003
    assert "Code 2003" in body["error_user"] and len(body["supportId"]) == 32


@pytest.mark.anyio
async def test_expired_token_is_refused_and_401_scenario(http, sandbox):
    auth = await bearer(http)
    now = sandbox.clock()
    sandbox.clock = lambda: now + 1201
    assert (await http.get("/api/v2/Smart/Transactions", headers=auth)).status_code == 403
    sandbox.scenarios.token_refusal = 401
    response = await http.get("/api/v2/Smart/Transactions", headers=auth)
    assert response.status_code == 401 and response.json()["code"] == 2003


# --------------------------------------------------------------------------- create validation

def without(body: dict, *path: str) -> dict:
    target = body
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return body


def basket_item(**changes):
    body = example_body()
    body["basket"]["products"][0].update(changes)
    return body


CASES = [
    ("no payload", None, 400, "ProductFormatException", "no payload"),
    ("missing contract", without(example_body(), "contract"), 400, "ProductFormatException", "contract.id"),
    ("foreign contract", example_body(contract={"id": "GCR_2H69XY35227V2VKP9WRA3SJ0W95RP0"}), 403,
     "ProductNotAllowedException", "not a contract of this client"),
    ("sum does not add up", example_body(basket_info={"sum": 3190, "currency": "EUR"}), 400,
     "ProductFormatException", "basket_info.sum: 3190 does not equal"),
    ("missing sum", example_body(basket_info={"currency": "EUR"}), 400, "ProductFormatException", "basket_info.sum"),
    ("amount as a float", example_body(basket_info={"sum": 26.90, "currency": "EUR"}), 400,
     "ProductFormatException", "must be an integer"),
    ("amount as a string", example_body(basket_info={"sum": "2690", "currency": "EUR"}), 400,
     "ProductFormatException", "must be an integer"),
    ("zero amount", without(example_body(basket_info={"sum": 0}), "basket"), 400, "ProductFormatException",
     "more than 0"),
    ("negative amount", without(example_body(basket_info={"sum": -5}), "basket"), 400, "ProductFormatException",
     "more than 0"),
    ("bad currency", example_body(basket_info={"sum": 2690, "currency": "euro"}), 400, "ProductFormatException",
     "ISO 4217"),
    ("currency not in contract", example_body(basket_info={"sum": 2690, "currency": "USD"}), 400,
     "ProductFormatException", "USD is not available"),
    ("item without desc", basket_item(desc=""), 400, "ProductFormatException", "desc: missing"),
    ("item without tax", basket_item(tax=None), 400, "ProductFormatException", "tax: missing"),
    ("item price as float", basket_item(priceOne=15.95), 400, "ProductFormatException", "priceOne: must be an integer"),
    ("item quantity zero", basket_item(quantity=0), 400, "ProductFormatException", "quantity"),
    ("item negative price", basket_item(priceOne=-1595), 400, "ProductFormatException", "priceOne"),
    ("unknown item type", basket_item(item_type="gift"), 400, "ProductFormatException", "item_type"),
    ("duplicate item id", basket_item(id=2), 400, "ProductFormatException", "used twice"),
    ("bad dob", example_body(customer={"contact": {"forename": "Max", "dob": "31.12.1965"}}), 400,
     "ProductFormatException", "invalid dob format"),
    ("bad country", example_body(customer={"contact": {"address": {"country": "Germany"}}}), 400,
     "ProductFormatException", "alpha-2"),
    ("relative return URL", example_body(application_context={"return_urls": {"url_success": "/ok"}}), 400,
     "ProductFormatException", "absolute"),
    ("return URL too long", example_body(application_context={"return_urls": {
        "url_success": "https://shop.test/" + "x" * 2000}}), 400, "ProductFormatException", "2000"),
    ("unknown checkout template", example_body(application_context={"checkout_template": "COT_X"}), 400,
     "ProductFormatException", "checkout template"),
    ("auto_capture not a bool", example_body(payment_context={"auto_capture": "yes"}), 400,
     "ProductFormatException", "auto_capture"),
    ("unknown method", example_body(payment_context={"payment_methods": ["bitcoin"]}), 400,
     "ProductFormatException", "payment_methods"),
    ("unknown intent", example_body(intent="rent"), 400, "ProductFormatException", "intent"),
]


@pytest.mark.anyio
@pytest.mark.parametrize("name,body,status,error,text", CASES, ids=[c[0] for c in CASES])
async def test_create_is_validated(http, sandbox, name, body, status, error, text):
    auth = await bearer(http)
    response = await http.post("/api/v2/Smart/Transactions", json=body, headers=auth)
    assert response.status_code == status, response.text
    answer = response.json()
    assert answer["status"] == "error" and answer["error"] == error
    assert text in answer["error_details"]
    assert set(answer) == {"status", "error", "error_details", "error_user", "code", "supportId"}
    assert sandbox.stx == {}


@pytest.mark.anyio
async def test_create_echoes_and_fills_in(http):
    body = example_body(customer={"contact": {"forename": "Max", "surname": "Mustermann", "phone": "+49 555 5555555"}},
                        merchantRef="ORD-1")
    answer = (await http.post("/api/v2/Smart/Transactions", json=body, headers=await bearer(http))).json()
    assert answer["object"] == "smart.transactions" and answer["id"].startswith("STX_") and len(answer["id"]) == 34
    assert answer["status"] == "created"
    assert answer["customer"]["id"].startswith("PCU_")
    assert answer["customer"]["contact"]["name"] == "Max Mustermann"
    assert answer["customer"]["contact"]["phone"] == "+495555555555"
    assert answer["basket"]["products"][0]["item_type"] == "article"
    assert answer["basket"]["type"] == "default"
    assert answer["merchantRef"] == "ORD-1"
    assert answer["payment_context"]["auto_capture"] is True
    assert set(answer["payment_links"]) == {"creditcard", "debit", "paypal", "prepaid", "invoice", "general"}
    assert "payment-method=prepay&" in answer["payment_links"]["prepaid"]


@pytest.mark.anyio
async def test_payment_methods_limit_the_links(http):
    body = example_body(payment_context={"payment_methods": ["creditcard"]})
    answer = (await http.post("/api/v2/Smart/Transactions", json=body, headers=await bearer(http))).json()
    assert set(answer["payment_links"]) == {"creditcard", "general"}


@pytest.mark.anyio
async def test_unknown_ids_are_not_found(http):
    auth = await bearer(http)
    for path in ("/api/v2/Smart/Transactions/STX_NOPE", "/api/v2/Payment/Transactions/PCI_NOPE"):
        response = await http.get(path, headers=auth)
        assert response.status_code == 404
        assert response.json()["error"] == "ProductNotFoundException"


@pytest.mark.anyio
async def test_update_only_while_created(http, sandbox):
    auth = await bearer(http)
    stx = (await http.post("/api/v2/Smart/Transactions", json=example_body(), headers=auth)).json()
    changed = example_body(merchantRef="ORD-2")
    response = await http.put(f"/api/v2/Smart/Transactions/{stx['id']}", json=changed, headers=auth)
    assert response.status_code == 200 and response.json()["merchantRef"] == "ORD-2"
    sandbox.pay(sandbox.stx[stx["id"]], "creditcard")
    response = await http.put(f"/api/v2/Smart/Transactions/{stx['id']}", json=changed, headers=auth)
    assert response.status_code == 403 and response.json()["error"] == "ProductNotAllowedException"


@pytest.mark.anyio
async def test_error_and_slow_scenarios(http, sandbox):
    auth = await bearer(http)
    sandbox.scenarios.api = "error"
    response = await http.post("/api/v2/Smart/Transactions", json=example_body(), headers=auth)
    assert response.status_code == 500 and response.json()["error"] == "ProductInternalException"


@pytest.mark.anyio
async def test_reads_mask_the_payment_instrument_as_secuconnect_does(http, sandbox):
    """Whatever reached the sandbox whole, a read shows the card number and IBAN masked and no code."""
    headers = await bearer(http)
    created = (await http.post("/api/v2/Smart/Transactions", json=example_body(), headers=headers)).json()
    stx = sandbox.get_stx(created["id"])
    sandbox.pay(stx, "creditcard", container={"type": "credit_card", "private": {
        "owner": "Max Mustermann", "pan": "4111111111111111", "cvc": "123", "expiration_date": "12/30"}},
        payment_data={"pan": "4111 1111 1111 1111", "iban": "DE37503240001000000524", "cvc": "123"})
    read = (await http.get(f"/api/v2/Smart/Transactions/{created['id']}", headers=headers)).json()
    assert read["container"]["private"] == {"owner": "Max Mustermann", "pan": "411111XXXXXX1111",
                                            "expiration_date": "12/30"}
    pci = (await http.get(f"/api/v2/Payment/Transactions/{read['transactions'][0]['id']}", headers=headers)).json()
    assert pci["payment_data"] == {"pan": "411111XXXXXX1111", "iban": "DE37**************0524"}
    assert "4111111111111111" not in str(read) + str(pci)

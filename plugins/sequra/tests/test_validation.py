"""Every sandbox validation rule, starting from the spec's own example payloads (§5.11, §5.12)."""

from __future__ import annotations

import copy
import json

import httpx
import pytest

from plugins.sequra.sandbox import create_sandbox
from plugins.sequra.sandbox.validation import check_order, check_update, sum_rule

pytestmark = pytest.mark.anyio
AUTH = ("cartwheel", "cartwheel-sandbox")
HEADERS = {"Sequra-Merchant-Id": "dummy_automated_tests", "Accept": "application/json"}

# §5.11, the minimal valid solicitation, as the spec prints it.
MINIMAL = {"order": {
    "state": "",
    "merchant": {"id": "dummy_automated_tests",
                 "notify_url": "https://shop.example/pay/sequra/cb/TOKEN",
                 "notification_parameters": {"order": "1042", "signature": "<hex>"},
                 "return_url": "https://shop.example/pay/sequra/return/TOKEN?sq_product=SQ_PRODUCT_CODE",
                 "abort_url": "https://shop.example/checkout/payment",
                 "events_webhook": {"url": "https://shop.example/pay/sequra/ev/TOKEN",
                                    "parameters": {"order": "1042", "signature": "<hex>"}}},
    "merchant_reference": {"order_ref_1": "1042"},
    "cart": {"currency": "EUR", "gift": False, "order_total_with_tax": 10450, "cart_ref": "c-77",
             "items": [
                 {"type": "product", "reference": "SKU1", "name": "Shirt", "price_with_tax": 5000, "quantity": 2,
                  "total_with_tax": 10000, "downloadable": False},
                 {"type": "handling", "reference": "std", "name": "Shipping", "total_with_tax": 450}]},
    "delivery_method": {"name": "Standard", "home_delivery": True},
    "delivery_address": {"given_names": "Fulano", "surnames": "De Tal", "company": "",
                         "address_line_1": "Carrer d'Alí Bei, 7", "address_line_2": "", "postal_code": "08010",
                         "city": "Barcelona", "country_code": "ES", "mobile_phone": "666666666"},
    "invoice_address": {"given_names": "Fulano", "surnames": "De Tal", "company": "",
                        "address_line_1": "Carrer d'Alí Bei, 7", "address_line_2": "", "postal_code": "08010",
                        "city": "Barcelona", "country_code": "ES"},
    "customer": {"given_names": "Fulano", "surnames": "De Tal", "email": "test@sequra.es", "logged_in": "unknown",
                 "language_code": "es-ES", "ip_number": "203.0.113.9", "user_agent": "Mozilla/5.0 ..."},
    "gui": {"layout": "desktop"},
    "platform": {"name": "our-shop", "version": "1.0", "uname": "Linux", "db_name": "postgresql",
                 "db_version": "16"}}}

# §5.12's sum-rule example: 200 + 295 - 1500 + 6060 = 5055, but the order says 5097.
SUM_ITEMS = [
    {"type": "product", "reference": "a", "name": "A", "price_with_tax": 200, "quantity": 1, "total_with_tax": 200,
     "downloadable": False},
    {"type": "handling", "reference": "h", "name": "Shipping", "total_with_tax": 295},
    {"type": "discount", "reference": "d", "name": "Discount", "total_with_tax": -1500},
    {"type": "product", "reference": "b", "name": "B", "price_with_tax": 6060, "quantity": 1,
     "total_with_tax": 6060, "downloadable": False},
]
SUM_MESSAGE = ("Invalid data: items' total_with_tax add up to 5055 (200+295+-1500+6060) "
               "but order_total_with_tax is 5097. The diff is 42.")


def minimal():
    return copy.deepcopy(MINIMAL)


@pytest.fixture
async def api():
    app = create_sandbox(httpx.AsyncClient())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sb.test",
                                 auth=AUTH, headers=HEADERS) as client:
        client.state = app.state.sandbox
        yield client


async def test_the_spec_example_is_accepted_with_an_absolute_location(api):
    response = await api.post("/orders", json=minimal())
    assert response.status_code == 200 and response.content == b""  # as SeQura's quick guide says
    location = response.headers["location"]
    assert location.startswith("http://sb.test/orders/") and len(location.rsplit("/", 1)[1]) == 36


async def test_the_sum_rule_message_is_reproduced_exactly(api):
    body = minimal()
    body["order"]["cart"].update(items=SUM_ITEMS, order_total_with_tax=5097)
    response = await api.post("/orders", json=body)
    assert response.status_code == 409
    assert response.json() == {"errors": [SUM_MESSAGE]}


def test_the_order_update_variant_names_the_cart():
    assert sum_rule(SUM_ITEMS, 5097, "shipped_cart") == SUM_MESSAGE.replace(
        "Invalid data: ", "Invalid data: In shipped_cart, ")


def delete(path):
    def change(order):
        *parents, last = path.split(".")
        target = order
        for key in parents:
            target = target[int(key)] if key.isdigit() else target[key]
        del target[last]
    return change


def put(path, value):
    def change(order):
        *parents, last = path.split(".")
        target = order
        for key in parents:
            target = target[int(key)] if key.isdigit() else target[key]
        if last.isdigit():
            target[int(last)] = value
        else:
            target[last] = value
    return change


RULES = [
    # missing required keys
    (delete("state"), "Invalid data: state is missing"),
    (delete("merchant.id"), "Invalid data: merchant.id is missing"),
    (put("merchant.id", ""), "Invalid data: merchant.id is missing"),
    (delete("cart.currency"), "Invalid data: cart.currency is missing"),
    (delete("cart.gift"), "Invalid data: cart.gift is missing"),
    (delete("cart.order_total_with_tax"), "Invalid data: cart.order_total_with_tax is missing"),
    (delete("cart.items"), "Invalid data: cart.items is missing"),
    (put("cart.items", []), "Invalid data: cart.items must hold at least one product or service"),
    (delete("cart.items.0.downloadable"), "Invalid data: cart.items[0].downloadable is missing"),
    (delete("cart.items.1.name"), "Invalid data: cart.items[1].name is missing"),
    (delete("delivery_method"), "Invalid data: delivery_method.name is missing"),
    (delete("delivery_address.postal_code"), "Invalid data: delivery_address.postal_code is missing"),
    (delete("invoice_address"), "Invalid data: invoice_address is missing"),
    (delete("customer.email"), "Invalid data: customer.email is missing"),
    (delete("customer.ip_number"), "Invalid data: customer.ip_number is missing"),
    (delete("customer.logged_in"), "Invalid data: customer.logged_in is missing"),
    (delete("gui"), "Invalid data: gui.layout is missing"),
    (delete("platform.db_version"), "Invalid data: platform.db_version is missing"),
    (put("merchant_reference", {}), "Invalid data: merchant_reference.order_ref_1 is missing"),
    (put("merchant.events_webhook", {"parameters": {}}), "Invalid data: merchant.events_webhook.url is missing"),
    # wrong JSON types, non-integer money
    (put("cart.items.0.price_with_tax", 50.0), "Invalid data: cart.items[0].price_with_tax must be an integer"),
    (put("cart.items.1.total_with_tax", "450"), "Invalid data: cart.items[1].total_with_tax must be an integer"),
    (put("cart.order_total_with_tax", 104.5), "Invalid data: cart.order_total_with_tax must be an integer"),
    (put("cart.items.0.quantity", True), "Invalid data: cart.items[0].quantity must be an integer"),
    (put("cart.gift", "no"), "Invalid data: cart.gift must be true or false"),
    (put("cart.items.0.downloadable", 0), "Invalid data: cart.items[0].downloadable must be true or false"),
    (put("delivery_address.city", 8010), "Invalid data: delivery_address.city must be a string"),
    (put("merchant.notification_parameters", {"order": 1042}),
     "Invalid data: merchant.notification_parameters must map strings to strings"),
    # values and formats
    (put("cart.items.1.type", "gift_wrap"), "Invalid data: cart.items[1].type 'gift_wrap' is not a known item type"),
    (put("cart.currency", "USD"), "Invalid data: cart.currency 'USD' is not supported"),
    (put("delivery_address.country_code", "DE"),
     "Invalid data: delivery_address.country_code 'DE' is not allowed for this merchant"),
    (put("customer.email", "not-an-email"), "Invalid data: customer.email is not an email address"),
    (put("customer.language_code", "es"), "Invalid data: customer.language_code must look like es-ES"),
    (put("customer.logged_in", "yes"), 'Invalid data: customer.logged_in must be true, false or "unknown"'),
    (put("customer.date_of_birth", "01/01/2000"), "Invalid data: customer.date_of_birth must be a date YYYY-MM-DD"),
    (put("gui.layout", "watch"), "Invalid data: gui.layout 'watch' is not a layout"),
    (put("merchant.notify_url", "http://shop.example/cb"), "Invalid data: merchant.notify_url must be an https URL"),
    (put("state", "shipped"), "Invalid data: state 'shipped' is not a state"),
    (put("cart.items.1.total_with_tax", -450), "Invalid data: cart.items[1].total_with_tax must not be negative for handling"),
]


@pytest.mark.parametrize("change, message", RULES, ids=[m.removeprefix("Invalid data: ") for _, m in RULES])
async def test_each_rule_answers_409_with_the_error_body(api, change, message):
    body = minimal()
    change(body["order"])
    response = await api.post("/orders", json=body)
    assert response.status_code == 409
    assert message in response.json()["errors"]


@pytest.mark.parametrize("total", [0, -5])
def test_the_total_must_be_positive(total):
    order = minimal()["order"]
    order["cart"]["order_total_with_tax"] = total
    assert "Invalid data: cart.order_total_with_tax must be greater than 0" in check_order(order, ("ES",))


def service(**ends):
    return {"type": "service", "reference": "s", "name": "Course", "price_with_tax": 10000, "quantity": 1,
            "total_with_tax": 10000, "downloadable": True, **ends}


@pytest.mark.parametrize("ends, message", [
    ({}, "needs exactly one of ends_on and ends_in"),
    ({"ends_on": "2027-01-01", "ends_in": "P1Y"}, "needs exactly one of ends_on and ends_in"),
    ({"ends_on": "1/1/2027"}, "ends_on must be a date YYYY-MM-DD"),
    ({"ends_in": "1 year"}, "ends_in must be an ISO 8601 duration"),
    ({"ends_in": "P"}, "ends_in must be an ISO 8601 duration"),
])
def test_service_items(ends, message):
    order = minimal()["order"]
    order["cart"].update(items=[service(**ends)], order_total_with_tax=10000)
    assert any(message in e for e in check_order(order, ("ES",)))


@pytest.mark.parametrize("ends", [{"ends_on": "2027-01-01"}, {"ends_in": "P1Y"}, {"ends_in": "P3Y6M4DT12H30M5S"}])
def test_valid_services(ends):
    order = minimal()["order"]
    order["cart"].update(items=[service(**ends)], order_total_with_tax=10000)
    assert check_order(order, ("ES",)) == []


def test_a_discount_must_not_be_positive():
    order = minimal()["order"]
    order["cart"]["items"].append({"type": "discount", "reference": "d", "name": "D", "total_with_tax": 5})
    order["cart"]["order_total_with_tax"] = 10455
    assert "Invalid data: cart.items[2].total_with_tax must not be positive for discount" in check_order(order, ("ES",))


def test_addresses_may_be_missing_when_the_merchant_says_so():
    order = minimal()["order"]
    del order["delivery_address"], order["invoice_address"]
    order["merchant"]["options"] = {"addresses_may_be_missing": True}
    assert check_order(order, ("ES",)) == []


def test_legacy_delivery_method_inside_the_cart_is_accepted():
    order = minimal()["order"]
    order["cart"]["delivery_method"] = order.pop("delivery_method")
    assert check_order(order, ("ES",)) == []


def test_item_type_defaults_to_product():
    order = minimal()["order"]
    del order["cart"]["items"][0]["type"]
    assert check_order(order, ("ES",)) == []


def test_http_callback_urls_are_allowed_on_loopback_only():
    order = minimal()["order"]
    order["merchant"]["notify_url"] = "http://127.0.0.1:8000/pay/sequra/cb/x"
    assert check_order(order, ("ES",)) == []


def test_strict_switch_checks_price_times_quantity():
    order = minimal()["order"]
    order["cart"]["items"][0]["price_with_tax"] = 4999
    assert check_order(order, ("ES",)) == []
    assert "Invalid data: cart.items[0].total_with_tax is not price_with_tax times quantity" in check_order(
        order, ("ES",), strict_lines=True)


def test_order_update_checks_each_cart():
    update = {"merchant": {"id": "m"}, "shipped_cart": {"currency": "EUR", "order_total_with_tax": 5097,
                                                         "items": SUM_ITEMS},
              "unshipped_cart": {"currency": "EUR", "order_total_with_tax": 0, "items": []}}
    assert check_update(update) == [SUM_MESSAGE.replace("Invalid data: ", "Invalid data: In shipped_cart, ")]


# ------------------------------------------------------------------ transport-level rules


async def test_unparseable_json_is_400(api):
    response = await api.post("/orders", content=b"{nope", headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and response.json() == {"errors": ["Invalid JSON"]}


async def test_wrong_content_type_is_400(api):
    response = await api.post("/orders", content=json.dumps(MINIMAL), headers={"Content-Type": "text/plain"})
    assert response.status_code == 400


async def test_wrong_credentials_get_the_plain_text_401(api):
    response = await api.post("/orders", json=minimal(), auth=("cartwheel", "wrong"))
    assert response.status_code == 401 and response.text.startswith("HTTP Basic: Access denied.")
    assert (await api.post("/orders", json=minimal(), auth=None, headers={"Authorization": ""})).status_code == 401


async def test_wrong_credentials_on_credentials_get_json(api):
    response = await api.get("/merchants/credentials", auth=("x", "y"))
    assert response.status_code == 401 and response.json() == {"errors": ["Access denied"]}


async def test_a_merchant_ref_of_another_account_is_403(api):
    body = minimal()
    body["order"]["merchant"]["id"] = "test"
    response = await api.post("/orders", json=body)
    assert response.status_code == 403 and response.json() == {"errors": ["Bad merchant id 'test' for cartwheel"]}


async def test_every_test_merchant_ref_is_known(api):
    refs = {m["ref"] for m in (await api.get("/merchants/credentials")).json()}
    assert refs == {"dummy_automated_tests", "dummy_automated_tests_fr", "dummy_automated_tests_it",
                    "dummy_automated_tests_pt", "dummy_services_automated_tests"}
    body = minimal()
    body["order"]["merchant"]["id"] = "dummy_automated_tests_fr"
    assert (await api.post("/orders", json=body)).status_code == 409  # ES address at a French merchant
    for key in ("delivery_address", "invoice_address"):
        body["order"][key]["country_code"] = "FR"
    assert (await api.post("/orders", json=body)).status_code == 200


async def test_unknown_order_on_form_v2_is_html_404(api):
    response = await api.get("/orders/nope/form_v2", headers={"Accept": "text/html"})
    assert response.status_code == 404 and "doesn't exist" in response.text


async def test_form_v2_refuses_a_product_the_amount_does_not_fit(api):
    body = minimal()
    body["order"]["cart"]["items"][0].update(quantity=1, total_with_tax=1000)
    body["order"]["cart"]["order_total_with_tax"] = 1450  # under pp3's 50 € minimum
    location = (await api.post("/orders", json=body)).headers["location"]
    assert (await api.get(f"{location}/form_v2", params={"product": "pp3"})).status_code == 404
    assert (await api.get(f"{location}/form_v2", params={"product": "i1", "ajax": "1"})).status_code == 200
    assert (await api.get(f"{location}/form_v2", params={"product": "zz9"})).status_code == 404


async def test_unknown_order_on_payment_methods_is_403(api):
    response = await api.get("/orders/test/payment_methods")
    assert response.status_code == 403 and response.json() == {"errors": ["Bad order id 'test' for cartwheel"]}


async def test_order_update_for_a_foreign_merchant_is_403(api):
    response = await api.put("/merchants/someone_else/orders/1042", json={"order": {}})
    assert response.status_code == 403 and response.json() == {"errors": ["You do not have access to this URL"]}


async def test_order_update_for_an_unconfirmed_order_is_404(api):
    response = await api.put("/merchants/dummy_automated_tests/orders/1042", json={"order": {}})
    assert response.status_code == 404


async def test_confirming_an_order_never_approved_is_an_invalid_transition(api):
    location = (await api.post("/orders", json=minimal())).headers["location"]
    body = minimal()
    body["order"]["state"] = "confirmed"
    response = await api.put(location, json=body)
    assert response.status_code == 409
    assert response.json() == {"errors": ["Invalid state transition from solicited to confirmed"]}


async def test_on_hold_after_approval_is_an_invalid_transition(api):
    location = (await api.post("/orders", json=minimal())).headers["location"]
    api.state.orders[location.rsplit("/", 1)[1]].state = "approved"
    body = minimal()
    body["order"]["state"] = "on_hold"
    assert (await api.put(location, json=body)).json() == {
        "errors": ["Invalid state transition from approved to on_hold"]}
    body["order"]["state"] = "confirmed"
    assert (await api.put(location, json=body)).status_code == 200
    assert (await api.put(location, json=body)).status_code == 200  # the same state again is idempotent


@pytest.mark.parametrize("change, what", [
    (put("cart.order_total_with_tax", 10451), "order_total_with_tax"),
    (put("customer.email", "other@sequra.es"), "customer.email"),
    (put("delivery_address.postal_code", "08011"), "delivery_address.postal_code"),
])
async def test_what_changed_means(api, change, what):
    location = (await api.post("/orders", json=minimal())).headers["location"]
    api.state.orders[location.rsplit("/", 1)[1]].state = "approved"
    body = minimal()
    body["order"]["state"] = "confirmed"
    change(body["order"])
    if what == "order_total_with_tax":
        body["order"]["cart"]["items"][1]["total_with_tax"] = 451
    response = await api.put(location, json=body)
    assert response.status_code == 409
    assert response.json()["errors"][0].startswith("Cart has changed: ")
    assert what in response.json()["errors"][0]


async def test_names_and_item_order_may_change(api):
    location = (await api.post("/orders", json=minimal())).headers["location"]
    api.state.orders[location.rsplit("/", 1)[1]].state = "approved"
    body = minimal()
    body["order"]["state"] = "confirmed"
    body["order"]["cart"]["items"].reverse()
    body["order"]["customer"]["given_names"] = "Mengano"
    assert (await api.put(location, json=body)).status_code == 200


async def test_server_error_scenario_is_500(api):
    api.state.scenario.server_error = True
    assert (await api.post("/orders", json=minimal())).status_code == 500


async def test_the_ipn_carries_order_ref_1_empty_until_known_then_the_shops_reference():
    """SeQura's own IPN fixture carries order_ref_1; before step 4 it is empty."""
    from urllib.parse import parse_qs

    from plugins.sequra.sandbox.flow import ipn_request
    from plugins.sequra.sandbox.state import SandboxOrder

    merchant = {"id": "m", "notify_url": "http://shop.test/ipn", "notification_parameters": {"signature": "s"}}
    order = SandboxOrder("u-1", "cartwheel", "m", {"merchant": merchant}, "http://sb.test", product="i1")
    fields = parse_qs(ipn_request(order, "approved").body.decode(), keep_blank_values=True)
    assert fields["order_ref_1"] == [""] and fields["order_ref"] == ["u-1"] and fields["signature"] == ["s"]
    order.order_ref_1 = "CW2026-00042"
    assert "order_ref_1=CW2026-00042" in ipn_request(order, "approved").body.decode()


async def test_an_order_ref_1_sent_with_the_solicitation_is_kept(api):
    body = minimal()
    body["order"]["merchant_reference"] = {"order_ref_1": "ERP-77"}
    response = await api.post("/orders", json=body)
    assert response.status_code == 200
    uuid = response.headers["location"].rsplit("/", 1)[1]
    assert api.state.orders[uuid].order_ref_1 == "ERP-77"

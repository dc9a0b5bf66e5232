"""Bad input gets a clear 4xx and changes nothing."""

import httpx
import pytest
from sqlmodel import func, select
from starlette.routing import Route

from shop.models import CartLine, Order, Payment
from shop.testing.shopper import Shopper

pytestmark = pytest.mark.anyio


def count(app, model) -> int:
    with app.state.db() as session:
        return session.exec(select(func.count()).select_from(model)).one()


async def test_a_post_without_a_csrf_token_is_refused(app, shopper):
    response = await shopper.post("/cart/add", {"sku": "PEN-BLUE", "quantity": "1"}, csrf=False)
    assert response.status_code == 403
    assert "did not come from this shop" in response.text
    assert count(app, CartLine) == 0
    response = await shopper.post("/cart/add", {"sku": "PEN-BLUE", "quantity": "1", "csrf_token": "forged"}, csrf=False)
    assert response.status_code == 403 and count(app, CartLine) == 0


@pytest.mark.parametrize("quantity", ["-1", "0", "100", "1000000", "two", "1.5", ""])
async def test_a_bad_quantity_is_refused(app, shopper, quantity):
    response = await shopper.post("/cart/add", {"sku": "PEN-BLUE", "quantity": quantity},
                                  headers={"HX-Request": "true"})
    assert response.status_code == 400
    assert "Quantity must be" in response.text
    assert count(app, CartLine) == 0


async def test_more_than_the_stock_is_refused(app, shopper):
    response = await shopper.post("/cart/add", {"sku": "POSTER-MAP", "quantity": "4"}, headers={"HX-Request": "true"})
    assert response.status_code == 409 and "Only 3" in response.text
    assert count(app, CartLine) == 0


async def test_an_unknown_product_is_refused(app, shopper):
    response = await shopper.post("/cart/add", {"sku": "NO-SUCH-THING", "quantity": "1"},
                                  headers={"HX-Request": "true"})
    assert response.status_code == 404 and "does not exist" in response.text
    assert (await shopper.get("/products/NO-SUCH-THING")).status_code == 404


async def test_a_tampered_price_field_is_refused(app, shopper):
    response = await shopper.post("/cart/add", {"sku": "PEN-BLUE", "quantity": "1", "price": "0.01"})
    assert response.status_code == 400 and "set by the shop" in response.text
    assert count(app, CartLine) == 0
    await shopper.add("PEN-BLUE")
    await shopper.get("/checkout")
    from shop.testing.shopper import CUSTOMER
    response = await shopper.post("/checkout", {**CUSTOMER, "method": "banktransfer:banktransfer", "total": "1"})
    assert response.status_code == 400 and count(app, Order) == 0


async def test_checkout_errors_are_shown_next_to_their_fields_and_place_no_order(app, shopper):
    await shopper.add("PEN-BLUE")
    await shopper.get("/checkout")
    response = await shopper.post("/checkout", {"email": "nope", "phone": "call me", "country_code": "XX",
                                                "date_of_birth": "2020-01-01", "method": ""})
    assert response.status_code == 422
    for message in ("does not look right (name@example.com)", "Use digits", "Please enter the first name",
                    "Please choose a country", "at least 18", "Please choose how to pay"):
        assert message in response.text
    assert 'aria-invalid="true"' in response.text
    assert count(app, Order) == 0


async def test_an_unknown_payment_method_is_refused(app, shopper):
    await shopper.add("PEN-BLUE")
    response = await shopper.checkout("nosuchpay:x")
    assert response.status_code == 422 and count(app, Order) == 0


async def test_another_shoppers_order_is_not_found(app, shopper):
    await shopper.add("PEN-BLUE")
    order_id = await shopper.order_id_from(await shopper.checkout("banktransfer:banktransfer"))
    assert (await shopper.get(f"/orders/{order_id}")).status_code == 200
    stranger = Shopper(app)
    try:
        for path in (f"/orders/{order_id}", f"/orders/{order_id}/status", f"/orders/{order_id}/confirmation"):
            assert (await stranger.get(path)).status_code == 404
        response = await stranger.post(f"/orders/{order_id}/pay", {"method": "banktransfer:banktransfer"})
        assert response.status_code == 404
        assert count(app, Payment) == 1
    finally:
        await stranger.aclose()


async def test_error_pages_leak_nothing_and_headers_are_set(app, shopper):
    response = await shopper.get("/no/such/page")
    assert response.status_code == 404 and "Traceback" not in response.text
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    newcomer = Shopper(app)
    try:
        cookie = (await newcomer.get("/")).headers["set-cookie"].lower()
    finally:
        await newcomer.aclose()
    assert "httponly" in cookie and "samesite=lax" in cookie


async def test_a_server_error_page_says_nothing_of_the_inside(app):
    async def broken(request):
        raise RuntimeError("secret internals")

    app.router.routes.insert(0, Route("/boom", broken))
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
                               base_url="http://127.0.0.1:8000")
    try:
        response = await client.get("/boom")
    finally:
        await client.aclose()
    assert response.status_code == 500
    assert "secret internals" not in response.text and "Something went wrong" in response.text


async def test_admin_pages_need_the_password(app, shopper):
    response = await shopper.get("/admin/")
    assert response.status_code == 303 and response.headers["location"].startswith("/admin/login")
    await shopper.get("/admin/login")
    response = await shopper.post("/admin/login", {"password": "wrong-password", "next": "/admin/"})
    assert response.status_code == 401 and "not right" in response.text
    await shopper.login_admin()
    assert (await shopper.get("/admin/")).status_code == 200

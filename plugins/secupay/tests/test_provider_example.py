"""secuconnect's own example request from its Smart Checkout guide, sent as written there
(only the return URLs are ours). The guide's prose says €49.85; the items add up to €44.85."""

import pytest

EXAMPLE = {
    "is_demo": True,
    "contract": {"id": "GCR_KTSST836QYITQJM1JGYIZ4F4OLKI04"},
    "customer": {"contact": {
        "forename": "Max", "surname": "Mustermann", "phone": "+49 555 5555555", "mobile": "+49 177 5555555",
        "address": {"street": "Musterstr.", "street_number": "11", "additional_address_data": "App. 302",
                    "postal_code": "09123", "city": "Musterstadt", "country": "DE"},
        "email": "max@example.org", "dob": "1965-12-31"}},
    "intent": "sale",
    "basket": {"products": [
        {"id": 1, "desc": "ACME ball pen Modern Line 8050", "priceOne": 1595, "tax": 19, "quantity": 2},
        {"id": 2, "desc": "ACME pen case Modern Line", "priceOne": 1795, "tax": 19, "quantity": 1},
        {"id": 3, "item_type": "coupon", "desc": "Coupon €5.00", "quantity": 1, "priceOne": 500, "tax": 19},
    ]},
    "basket_info": {"sum": 4485},
    "application_context": {
        "checkout_template": "COT_WD0DE66HN2XWJHW8JM88003YG0NEA2",
        "return_urls": {"url_success": "https://shop.example.com/SUCCEESS",
                        "url_error": "https://shop.example.com/FAILURE",
                        "url_abort": "https://shop.example.com/DENIAL"}},
    "payment_context": {"auto_capture": True},
}


@pytest.mark.anyio
async def test_the_guides_example_is_accepted(client):
    answer = await client.create_smart_transaction(EXAMPLE)
    assert answer["status"] == "created"
    assert answer["basket_info"] == {"sum": 4485, "currency": "EUR"}  # EUR filled in
    assert answer["is_demo"] is True
    assert [p["item_type"] for p in answer["basket"]["products"]] == ["article", "article", "coupon"]
    assert answer["customer"]["contact"]["mobile"] == "+491775555555"
    assert answer["payment_links"]["general"].endswith(
        f"stx={answer['id']}&contract=GCR_KTSST836QYITQJM1JGYIZ4F4OLKI04&server=sandbox")


@pytest.mark.anyio
async def test_the_guides_prose_total_would_not_add_up(client):
    from shop.payments.contract import ProviderError

    with pytest.raises(ProviderError) as error:
        await client.create_smart_transaction({**EXAMPLE, "basket_info": {"sum": 4985}})
    assert error.value.fields == {"basket_info.sum": "4985 does not equal the sum of the basket items 4485"}

import json

from shop.payments.recorder import redact, redact_url


def test_json_secrets_and_personal_data_are_masked_keys_kept():
    body = json.dumps({"client_secret": "s3cr3t", "grant_type": "client_credentials",
                       "customer": {"email": "ada@example.com", "given_names": "Ada", "surname": "L",
                                    "phone": "+34600", "date_of_birth": "1980-01-01"},
                       "address": {"line1": "Calle Mayor 1", "postal_code": "28013", "city": "Madrid"},
                       "amount": 4485, "token_type": "bearer", "access_token": "abc.def"})
    masked = json.loads(redact(body, "application/json"))
    assert masked["client_secret"] == masked["access_token"] == "***"
    assert masked["customer"] == {k: "***" for k in masked["customer"]}
    assert masked["address"]["line1"] == masked["address"]["postal_code"] == "***"
    assert masked["address"]["city"] == "***" and masked["amount"] == 4485
    assert masked["token_type"] == "bearer" and masked["grant_type"] == "client_credentials"


def test_form_and_soap_bodies_are_masked():
    assert redact("signature=abc&order_ref=1&email=a%40b.c", "application/x-www-form-urlencoded") == \
        "signature=%2A%2A%2A&order_ref=1&email=%2A%2A%2A"
    soap = ("<soap:Envelope><soap:Body><ns:getPaymentStatus><context><initiatorPrincipalId><id>T1</id>"
            "<type>TERMINALID</type><userId>9900</userId></initiatorPrincipalId><password>12345678</password>"
            "</context><msisdn>46701234567</msisdn></ns:getPaymentStatus></soap:Body></soap:Envelope>")
    masked = redact(soap, "text/xml")
    assert "12345678" not in masked and "46701234567" not in masked and "<id>T1</id>" in masked


def test_query_strings_are_masked():
    assert redact_url("https://x/cb?token=abc&order=1") == "https://x/cb?token=%2A%2A%2A&order=1"
    assert redact_url("https://x/plain") == "https://x/plain"


def test_everything_inside_a_persons_details_is_masked_but_product_names_are_kept():
    body = json.dumps({"customer": {"contact": {"name": "Ada Lovelace", "companyname": "Engines Ltd",
                                                "country": "DE"}},
                       "payment_data": {"owner": "Ada Lovelace", "iban": "DE02120300000000202051"},
                       "basket": [{"name": "Ballpoint pen", "quantity": 2}]})
    masked = json.loads(redact(body, "application/json"))
    assert masked["customer"]["contact"] == {"name": "***", "companyname": "***", "country": "DE"}
    assert masked["payment_data"] == {"owner": "***", "iban": "***"}
    assert masked["basket"] == [{"name": "Ballpoint pen", "quantity": 2}]

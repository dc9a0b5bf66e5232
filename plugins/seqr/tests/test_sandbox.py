"""The sandbox's own rules: the commit window, notifications, SOAP faults, the app, the control page."""

from __future__ import annotations

import asyncio

import pytest

from plugins.seqr import codes
from plugins.seqr.client import Invoice
from plugins.seqr.sandbox import soap
from plugins.seqr.sandbox.state import TEST_PIN
from shop.money import Money

from .conftest import ENDPOINT

pytestmark = pytest.mark.anyio


def invoice(**kw) -> Invoice:
    kw.setdefault("notification_url", "http://shop.test/pay/seqr/cb/tok?order=1")
    kw.setdefault("back_url", "http://shop.test/pay/seqr/return/tok/back")
    return Invoice(title="Order 1", total=Money(1000, "EUR"), client_invoice_id="1", **kw)


async def settle(sb):
    for _ in range(20):
        if not sb.tasks:
            return
        await asyncio.sleep(0)
    await asyncio.gather(*sb.tasks)


# ----------------------------------------------------------------------------- commit window


async def test_unread_paid_is_reversed_after_the_window(client, sb):
    sent = await client.send_invoice(invoice())
    sb.scan(sent.reference)
    sb.confirm(sent.reference, TEST_PIN)
    sb.clock.advance(19.9)
    sb.sweep()
    assert sb.invoices[sent.reference].status == "PAID"
    sb.clock.advance(0.2)
    state = await client.get_payment_status(sent.reference)
    assert (state.status, state.ers_reference, state.receipt, state.version) == ("CANCELED", None, None, 2)
    [(_, msisdn, text)] = sb.sms
    assert msisdn == sb.payer_msisdn and "reversed" in text


async def test_read_in_time_commits_for_good(client, sb):
    sent = await client.send_invoice(invoice())
    sb.scan(sent.reference)
    sb.confirm(sent.reference, TEST_PIN)
    sb.clock.advance(5)
    assert (await client.get_payment_status(sent.reference)).status == "PAID"
    sb.clock.advance(3600)
    assert (await client.get_payment_status(sent.reference)).status == "PAID"
    assert sb.sms == []


async def test_shortened_window(client, sb):
    sb.scenarios.commit_window_seconds = 2
    sent = await client.send_invoice(invoice())
    sb.scan(sent.reference)
    sb.confirm(sent.reference, TEST_PIN)
    sb.clock.advance(2)
    assert (await client.get_payment_status(sent.reference)).status == "CANCELED"


async def test_end_window_from_the_control_page(client, sb, http):
    sent = await client.send_invoice(invoice())
    sb.scan(sent.reference)
    sb.confirm(sent.reference, TEST_PIN)
    r = await http.post(f"/control/invoice/{sent.reference}/end_window")
    assert r.status_code == 303
    assert sb.invoices[sent.reference].status == "CANCELED" and len(sb.sms) == 1
    page = (await http.get("/")).text
    assert "reversed" in page and sent.reference in page


# ----------------------------------------------------------------------------- payer outcomes


async def test_wrong_pin_is_refused(client, sb):
    sent = await client.send_invoice(invoice())
    sb.scan(sent.reference)
    assert sb.confirm(sent.reference, "0000") == "wrong_pin"
    assert sb.invoices[sent.reference].status == "ISSUED"


async def test_bank_declines(client, sb):
    sb.scenarios.bank = "decline"
    sent = await client.send_invoice(invoice())
    sb.scan(sent.reference)
    assert sb.confirm(sent.reference, TEST_PIN) == "failed"
    assert (await client.get_payment_status(sent.reference)).status == "FAILED"
    assert sb.notifications == []  # SEQR notifies on PAID only


async def test_payer_cancels(client, sb):
    sent = await client.send_invoice(invoice())
    sb.scan(sent.reference)
    assert sb.payer_cancel(sent.reference)
    assert (await client.get_payment_status(sent.reference)).status == "CANCELED"
    assert (await client.cancel_invoice(sent.reference)).result_code == codes.INVOICE_ALREADY_CANCELED


async def test_cannot_pay_twice(client, sb):
    sent = await client.send_invoice(invoice())
    sb.scan(sent.reference)
    sb.confirm(sent.reference, TEST_PIN)
    assert sb.confirm(sent.reference, TEST_PIN) == "not_payable"


# ----------------------------------------------------------------------------- notifications


async def test_notification_can_be_posted_with_a_form_body(client, sb, shop):
    sb.scenarios.notification_body = "form"
    sent = await client.send_invoice(invoice())
    sb.scan(sent.reference)
    sb.confirm(sent.reference, TEST_PIN)
    assert shop.received == []  # sent from a background task, not inline
    await settle(sb)
    [request] = shop.received
    assert request.method == "POST"
    assert str(request.url) == "http://shop.test/pay/seqr/cb/tok?order=1"
    assert request.content == f"invoiceReference={sent.reference}&clientInvoiceId=1".encode()
    assert sb.notifications[0].outcome == "sent"


async def test_posts_only_to_the_shops_own_address(client, sb, shop, http):
    """Told to post elsewhere (a notificationUrl, a webshop URL), the sandbox does not: it would
    reach, and show, whatever its host reaches."""
    sb.shop_origins = frozenset({"http://shop.test"})
    sent = await client.send_invoice(invoice(notification_url="http://127.0.0.1:6379/x"))
    sb.scan(sent.reference)
    sb.confirm(sent.reference, TEST_PIN)
    await settle(sb)
    assert shop.received == [] and sb.notifications[0].outcome == "not sent: not the shop's address"
    sb.webshops["probe"] = "http://127.0.0.1:6379/createPurchase"
    r = await http.post("/app/instant", data={"w": "probe", "t": "X"})
    assert r.status_code == 502 and "is not on the shop" in r.text and shop.received == []
    await http.post("/control/webshop", data={"webshop_id": "probe2", "url": "http://127.0.0.1:6379/"})
    await http.post("/control/webshop", data={"webshop_id": "shop", "url": "http://SHOP.test:80/createPurchase"})
    assert "probe2" not in sb.webshops and "shop" in sb.webshops


async def test_the_notification_is_an_empty_post_by_default(client, sb, shop):
    """SEQR's Instant Checkout guide: "notificationURL will be called (empty HTTPS POST)"."""
    assert sb.scenarios.notification_body == "empty"
    sent = await client.send_invoice(invoice())
    sb.scan(sent.reference)
    sb.confirm(sent.reference, TEST_PIN)
    await settle(sb)
    assert shop.received[0].content == b""


async def test_notification_lost(client, sb, shop):
    sb.scenarios.notification = "lost"
    sent = await client.send_invoice(invoice())
    sb.scan(sent.reference)
    sb.confirm(sent.reference, TEST_PIN)
    await settle(sb)
    assert shop.received == [] and sb.notifications[0].outcome == "lost"


async def test_notification_repeated(client, sb, shop):
    sb.scenarios.notification, sb.scenarios.repeat_count = "repeated", 3
    sent = await client.send_invoice(invoice())
    sb.scan(sent.reference)
    sb.confirm(sent.reference, TEST_PIN)
    await settle(sb)
    assert len(shop.received) == 3


async def test_notification_late(client, sb, shop):
    sb.scenarios.notification, sb.scenarios.late_seconds = "late", 0.05
    sent = await client.send_invoice(invoice())
    sb.scan(sent.reference)
    sb.confirm(sent.reference, TEST_PIN)
    await asyncio.sleep(0.01)
    assert shop.received == [] and sb.notifications[0].outcome.startswith("late")
    await settle(sb)
    assert len(shop.received) == 1


async def test_failed_delivery_is_only_logged(client, sb, shop):
    shop.status = 500
    sent = await client.send_invoice(invoice())
    sb.scan(sent.reference)
    sb.confirm(sent.reference, TEST_PIN)
    await settle(sb)
    assert sb.notifications[0].attempts == ["HTTP 500"]
    assert sb.notifications[0].outcome == "refused"
    assert (await client.get_payment_status(sent.reference)).status == "PAID"


async def test_failed_delivery_can_be_retried(client, sb, shop):
    shop.statuses = [500, 503]
    sb.scenarios.notification_retries, sb.scenarios.notification_retry_seconds = 5, 0
    sent = await client.send_invoice(invoice())
    sb.scan(sent.reference)
    sb.confirm(sent.reference, TEST_PIN)
    await settle(sb)
    assert sb.notifications[0].attempts == ["HTTP 500", "HTTP 503", "HTTP 200"]
    assert sb.notifications[0].outcome == "sent"


async def test_no_notification_without_url(client, sb, shop):
    sent = await client.send_invoice(invoice(notification_url=""))
    sb.scan(sent.reference)
    sb.confirm(sent.reference, TEST_PIN)
    await settle(sb)
    assert shop.received == [] and sb.notifications == []


# ----------------------------------------------------------------------------- SOAP edges


SOAP = b"""<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>%s</s:Body></s:Envelope>"""
CTX = (b"<context><clientRequestTimeout>0</clientRequestTimeout><initiatorPrincipalId><id>public_test_shop_terminal"
       b"</id><type>TERMINALID</type></initiatorPrincipalId><password>12345678</password></context>")


@pytest.mark.parametrize("body", [
    b"not xml",
    b"<Envelope/>",
    SOAP % b"",
    SOAP % b'<x:sendInvoice xmlns:x="urn:other"/>',
    SOAP % b'<x:noSuchOperation xmlns:x="http://external.interfaces.ers.seamless.com/"/>',
    SOAP % (b'<x:getPaymentStatus xmlns:x="http://external.interfaces.ers.seamless.com/">' + CTX
            + b"<invoiceReference>1</invoiceReference><invoiceVersion>zero</invoiceVersion></x:getPaymentStatus>"),
    SOAP % (b'<x:sendInvoice xmlns:x="http://external.interfaces.ers.seamless.com/">' + CTX
            + b"<invoice><paymentMode>CASH</paymentMode></invoice></x:sendInvoice>"),
    SOAP % (b'<x:sendInvoice xmlns:x="http://external.interfaces.ers.seamless.com/">' + CTX
            + b"<invoice><totalAmount><currency>EUR</currency><value>ten</value></totalAmount></invoice>"
            + b"</x:sendInvoice>"),
])
async def test_unreadable_input_is_a_client_fault(http, body):
    r = await http.post(ENDPOINT, content=body, headers={"content-type": "text/xml", "SOAPAction": '""'})
    assert r.status_code == 500
    assert b"<faultcode>soap:Client</faultcode>" in r.content


async def test_answer_shape_is_cxf_like(http):
    body = SOAP % (b'<x:getPaymentStatus xmlns:x="http://external.interfaces.ers.seamless.com/">' + CTX
                   + b"<invoiceReference>404</invoiceReference><invoiceVersion>0</invoiceVersion></x:getPaymentStatus>")
    r = await http.post(ENDPOINT, content=body)
    assert r.status_code == 200
    text = r.text
    assert "<soap:Envelope" in text and "<ns2:getPaymentStatusResponse" in text
    assert ("<return><resultCode>54</resultCode><resultDescription>INVALID_INVOICE_REFERENCE</resultDescription>"
            "<version>0</version></return>") in text


async def test_other_ers_operations_are_unsupported(http):
    body = SOAP % (b'<x:requestTopup xmlns:x="http://external.interfaces.ers.seamless.com/">' + CTX
                   + b"</x:requestTopup>")
    r = await http.post(ENDPOINT, content=body)
    assert "<resultCode>91</resultCode>" in r.text
    nop = await http.post(ENDPOINT, content=SOAP % b'<x:benchmarkingNop xmlns:x="http://external.interfaces.ers.seamless.com/"/>')
    assert "<resultCode>0</resultCode>" in nop.text


async def test_success_status_always_has_customer_tokens(client, http):
    sent = await client.send_invoice(invoice())
    body = SOAP % (b'<x:getPaymentStatus xmlns:x="http://external.interfaces.ers.seamless.com/">' + CTX
                   + b"<invoiceReference>" + sent.reference.encode() + b"</invoiceReference>"
                   b"<invoiceVersion>0</invoiceVersion></x:getPaymentStatus>")
    text = (await http.post(ENDPOINT, content=body)).text
    assert "<status>ISSUED</status><customerTokens/><version>0</version>" in text


async def test_old_path_and_get_without_wsdl(http):
    assert (await http.get("/extclientproxy/service/v2?wsdl")).status_code == 200
    assert (await http.get("/soap/merchant/cashregister-2")).status_code == 405


def test_fault_helper_is_soap_11():
    assert b'xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"' in soap.fault("x")


# ----------------------------------------------------------------------------- the phone app


async def test_the_app_speaks_the_phones_language_swedish_or_english(client, sb, http):
    sent = await client.send_invoice(invoice())
    swedish = await http.get(f"/app/invoice/{sent.reference}", headers={"accept-language": "sv-SE,sv;q=0.9"})
    assert '<html lang="sv">' in swedish.text and "Bekräfta" in swedish.text and "10,00\xa0€" in swedish.text
    german = await http.get(f"/app/invoice/{sent.reference}", headers={"accept-language": "de-DE"})
    assert '<html lang="en">' in german.text and "Confirm" in german.text  # no German app: English
    wrong = await http.post(f"/app/invoice/{sent.reference}/pay", data={"pin": "9999"},
                            headers={"accept-language": "sv"})
    assert "Fel PIN-kod" in wrong.text
    control = await http.get("/", headers={"accept-language": "sv"})
    assert '<html lang="en">' in control.text  # the control page is the operator's, in English



async def test_app_pays_through_qr_code(client, sb, http, shop):
    sent = await client.send_invoice(invoice())
    r = await http.get("/app", params={"code": sent.qr_code})
    assert r.status_code == 303 and r.headers["location"].endswith(f"/app/invoice/{sent.reference}")
    page = await http.get(f"/app/invoice/{sent.reference}")
    assert "€10.00" in page.text and "Confirm" in page.text
    assert sb.invoices[sent.reference].scanned_at is not None
    pin = await http.get(f"/app/invoice/{sent.reference}/pin")
    assert TEST_PIN in pin.text  # the test PIN is documented on the page
    wrong = await http.post(f"/app/invoice/{sent.reference}/pay", data={"pin": "9999"})
    assert wrong.status_code == 403 and "Wrong PIN" in wrong.text
    done = await http.post(f"/app/invoice/{sent.reference}/pay", data={"pin": TEST_PIN})
    assert done.status_code == 200 and "Paid" in done.text
    assert 'href="http://shop.test/pay/seqr/return/tok/back"' in done.text
    await settle(sb)
    assert len(shop.received) == 1


@pytest.mark.parametrize("scheme", ["SEQR", "seqr", "SEQR-DEMO", "http"])
async def test_app_opens_deep_links(client, http, scheme):
    sent = await client.send_invoice(invoice())
    r = await http.get("/app", params={"code": f"{scheme}://SEQR.SE/R{sent.reference}"})
    assert r.headers["location"].endswith(f"/app/invoice/{sent.reference}")


async def test_app_lists_open_invoices_and_cancels(client, http, sb):
    sent = await client.send_invoice(invoice())
    home = await http.get("/app")
    assert sent.reference in home.text
    r = await http.post(f"/app/invoice/{sent.reference}/cancel")
    assert "Cancelled" in r.text and "back to the shop" in r.text
    assert sb.invoices[sent.reference].status == "CANCELED"
    assert sent.reference not in (await http.get("/app")).text


async def test_app_rejects_unknown_codes(http):
    assert (await http.get("/app", params={"code": "hello"})).status_code == 400
    assert (await http.get("/app/invoice/42")).status_code == 404


async def test_app_shows_waiting_for_amount(client, http):
    sent = await client.send_invoice(invoice(acknowledgment_mode="REQUIRE_ACKNOWLEDGMENT"))
    page = await http.get(f"/app/invoice/{sent.reference}")
    assert "Waiting for amount" in page.text


async def test_instant_checkout(client, http, sb, shop):
    sent = await client.send_invoice(invoice())
    shop.create_purchase_answer = {"invoiceReferenceId": sent.reference}
    sb.webshops["cartwheel"] = "http://shop.test/pay/seqr/createPurchase"
    r = await http.get("/app", params={"code": "HTTP://SEQR.SE/000/ic?w=cartwheel&t=MUG-1"})
    assert r.status_code == 303
    page = await http.get(r.headers["location"])
    assert sb.address["street"] in page.text and "MUG-1" in page.text
    r = await http.post("/app/instant", data={"w": "cartwheel", "t": "MUG-1"})
    assert r.status_code == 303 and r.headers["location"].endswith(f"/app/invoice/{sent.reference}")
    [call] = shop.received
    assert call.headers["content-type"] == "application/json;charset=UTF-8"
    import json

    payload = json.loads(call.content)
    assert payload["purchaseToken"] == "MUG-1" and payload["zip"] == sb.address["zip"]
    assert set(payload) == {"purchaseToken", "clientName", "street", "city", "country", "state", "zip",
                            "email", "msisdn"}


async def test_instant_checkout_errors(http, sb, shop):
    r = await http.post("/app/instant", data={"w": "unknown", "t": "X"})
    assert r.status_code == 502 and "No createPurchase URL" in r.text
    sb.webshops["cartwheel"] = "http://shop.test/pay/seqr/createPurchase"
    shop.create_purchase_answer = {"errorCode": "INVOICING_ERROR"}
    r = await http.post("/app/instant", data={"w": "cartwheel", "t": "X"})
    assert "INVOICING_ERROR" in r.text
    shop.create_purchase_answer = {"errorCode": "INVOICING_ERROR", "errorMessage": "Enamel mug is sold out."}
    r = await http.post("/app/instant", data={"w": "cartwheel", "t": "X"})
    assert r.status_code == 502 and "INVOICING_ERROR: Enamel mug is sold out." in r.text


# ----------------------------------------------------------------------------- the control page


async def test_control_page_sets_scenarios(http, sb):
    assert (await http.get("/")).status_code == 200
    r = await http.post("/control/scenarios", data={
        "soap": "slow", "slow_seconds": "3", "notification": "repeated", "repeat_count": "2",
        "notification_body": "form", "bank": "decline", "refunds": "deny", "commit_window_seconds": "5",
        "late_seconds": "1", "report_delay_seconds": "0"})
    assert r.status_code == 303
    sc = sb.scenarios
    assert (sc.soap, sc.slow_seconds, sc.notification, sc.repeat_count, sc.notification_body, sc.bank,
            sc.refunds, sc.commit_window_seconds, sc.check_row_sum) == (
        "slow", 3.0, "repeated", 2, "form", "decline", "deny", 5.0, False)
    await http.post("/control/scenarios", data={"soap": "nonsense"})
    assert sc.soap == "slow"


async def test_control_page_acts_as_payer(client, http, sb, shop):
    sent = await client.send_invoice(invoice())
    await http.post(f"/control/invoice/{sent.reference}/pay")
    assert sb.invoices[sent.reference].status == "PAID"
    await http.post(f"/control/invoice/{sent.reference}/notify")
    await settle(sb)
    assert len(shop.received) == 2
    other = await client.send_invoice(invoice())
    await http.post(f"/control/invoice/{other.reference}/cancel")
    assert sb.invoices[other.reference].status == "CANCELED"


async def test_control_clock_and_webshops(http, sb):
    before = sb.clock.now()
    await http.post("/control/clock", data={"seconds": "30"})
    assert (sb.clock.now() - before).total_seconds() >= 30
    await http.post("/control/webshop", data={"webshop_id": "w1", "url": "http://shop.test/createPurchase"})
    assert sb.webshops["w1"] == "http://shop.test/createPurchase"


def test_unknown_option_is_refused():
    from plugins.seqr.sandbox import create_sandbox

    with pytest.raises(TypeError):
        create_sandbox(None, commit_window=3)
    assert create_sandbox(None, commit_window_seconds=3).state.sandbox.scenarios.commit_window_seconds == 3


async def test_reservation_lapses(client, sb):
    sent = await client.send_invoice(invoice(payment_mode="RESERVATION_REQUIRED"))
    sb.scan(sent.reference)
    sb.confirm(sent.reference, TEST_PIN)
    sb.clock.advance(sb.scenarios.reservation_seconds)
    assert (await client.get_payment_status(sent.reference)).status == "CANCELED"
    await _expect_code(codes.INVOICE_STATE_NOT_RESERVED, client.commit_reservation(sent.reference))


async def test_server_expiry_is_off_by_default(client, sb):
    sent = await client.send_invoice(invoice())
    sb.clock.advance(86400)
    assert (await client.get_payment_status(sent.reference)).status == "ISSUED"
    sb.scenarios.expire_after_seconds = 60
    state = await client.get_payment_status(sent.reference)
    assert (state.status, state.version) == ("EXPIRED", 1)


async def _expect_code(code, awaitable):
    from plugins.seqr.client import SeqrError

    with pytest.raises(SeqrError) as info:
        await awaitable
    assert info.value.result_code == code


async def test_pages_work_under_a_mount(app, client):
    import httpx
    from starlette.applications import Starlette
    from starlette.routing import Mount

    parent = Starlette(routes=[Mount("/sandbox/seqr", app=app)])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=parent), base_url="http://shop.test") as http:
        sent = await client.send_invoice(invoice())
        r = await http.get("/sandbox/seqr/app", params={"code": sent.qr_code})
        assert r.headers["location"] == f"http://shop.test/sandbox/seqr/app/invoice/{sent.reference}"
        page = await http.get(r.headers["location"])
        assert f'href="http://shop.test/sandbox/seqr/app/invoice/{sent.reference}/pin"' in page.text
        control = await http.get("/sandbox/seqr/")
        assert 'action="http://shop.test/sandbox/seqr/control/scenarios"' in control.text

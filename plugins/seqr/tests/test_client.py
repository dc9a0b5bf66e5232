"""The zeep client against the sandbox in-process: every merchant operation and its result codes."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from plugins.seqr import codes
from plugins.seqr.client import Invoice, InvoiceRow, Principal, ReportNotReady, SeqrClient, SeqrError
from plugins.seqr.sandbox.state import TEST_PIN
from shop.money import Money
from shop.payments.contract import ProviderUnavailable

from .conftest import ENDPOINT

pytestmark = pytest.mark.anyio

EUR = "EUR"


def invoice(total=2500, rows=True, **kw) -> Invoice:
    row_list = (
        InvoiceRow("Mug", 2, Money(1000, EUR), Money(2000, EUR), sku="MUG", tax_rate=Decimal("25")),
        InvoiceRow("Shipping", 1, Money(500, EUR), Money(500, EUR)),
    ) if rows else ()
    kw.setdefault("notification_url", "http://shop.test/cb/tok")
    return Invoice(title="Order 1", total=Money(total, kw.pop("currency", EUR)), rows=row_list, **kw)


async def paid(client, sb, **kw):
    sent = await client.send_invoice(invoice(**kw))
    sb.scan(sent.reference)
    assert sb.confirm(sent.reference, TEST_PIN) == "paid"
    state = await client.get_payment_status(sent.reference)
    return sent, state


async def expect(code: int, awaitable):
    with pytest.raises(SeqrError) as info:
        await awaitable
    assert info.value.result_code == code
    assert info.value.code == str(code)
    assert info.value.message == codes.message(code)
    return info.value


# ----------------------------------------------------------------------------- credentials


@pytest.mark.parametrize("principal, code", [
    (Principal("public_test_shop_terminal", "wrong-password"), codes.AUTHENTICATION_FAILED),
    (Principal("no_such_terminal", "12345678"), codes.INVALID_INITIATOR_PRINCIPAL_ID),
    (Principal("short_password_terminal", "123"), codes.ACCESS_DENIED),
    (Principal("nobody", "1234", "RESELLERUSER", "9900"), codes.INITIATOR_PRINCIPAL_NOT_FOUND),
])
async def test_credentials_are_checked_on_every_operation(http, principal, code):
    client = SeqrClient(http, ENDPOINT, principal)
    err = await expect(code, client.send_invoice(invoice()))
    assert err.description == codes.NAMES[code]
    await expect(code, client.get_payment_status("1"))
    await expect(code, client.cancel_invoice("1"))


async def test_unregistered_terminal_is_in_a_bad_state(http, client):
    reg = SeqrClient(http, ENDPOINT, Principal("x", "x"),
                     reseller=Principal("public_test_shop", "1234", "RESELLERUSER", "9900"))
    terminal_id = await reg.register_terminal("Store 1/Till 4", "s3cret-pass", "Till 4")
    till = SeqrClient(http, ENDPOINT, Principal(terminal_id, "s3cret-pass"))
    await till.assign_seqr_id("ABC123456")
    await till.unregister_terminal()
    await expect(codes.INVALID_INITIATOR_PRINCIPAL_STATE, till.send_invoice(invoice()))


async def test_reseller_joined_id_form_is_accepted(http):
    reg = SeqrClient(http, ENDPOINT, Principal("x", "x"),
                     reseller=Principal("public_test_shop/9900", "1234", "RESELLERUSER"))
    assert len(await reg.register_terminal("T", "long-enough", "Till")) == 32


# ----------------------------------------------------------------------------- sendInvoice / status


async def test_send_invoice_and_read_it(client, sb):
    sent = await client.send_invoice(invoice(client_invoice_id="1001"))
    assert sent.reference.isdigit() and len(sent.reference) == 17
    assert sent.qr_code == f"HTTP://SEQR.SE/R{sent.reference}"
    assert sent.deep_link == f"SEQR://SEQR.SE/R{sent.reference}"
    state = await client.get_payment_status(sent.reference)
    assert (state.status, state.version, state.ers_reference, state.receipt) == ("ISSUED", 0, None, None)
    stored = sb.invoices[sent.reference].data
    assert stored["total"] == Decimal("25.00") and stored["currency"] == "EUR"
    assert [r["sku"] for r in stored["rows"]] == ["MUG", None]
    assert stored["acknowledgment_mode"] == "NO_ACKNOWLEDGMENT"


async def test_every_call_sends_its_own_client_reference(client, sb):
    """SEQR's docs mark clientReference required (its certification script sends it): at most
    32 characters, unique per call."""
    sent = await client.send_invoice(invoice(client_invoice_id="1002"))
    await client.get_payment_status(sent.reference)
    first, second = sb.client_references[-2:]
    assert first and second and first != second and len(first) <= 32


async def test_paid_status_carries_receipt_and_reference(client, sb):
    sent, state = await paid(client, sb, client_invoice_id="1001")
    assert state.status == "PAID" and state.version == 1
    assert len(state.ers_reference) == 25
    receipt = state.receipt
    assert receipt.payment_reference == state.ers_reference
    assert receipt.invoice_reference == sent.reference
    assert receipt.client_invoice_id == "1001"
    assert receipt.total == Money(2500, EUR)
    assert receipt.receiver_name == "Cartwheel demo shop"
    assert sb.invoices[sent.reference].committed


@pytest.mark.parametrize("kw", [
    {"currency": "USD"},  # the terminal takes EUR and SEK only
    {"total": 2600},  # rows add up to 25.00
])
async def test_bad_invoice_data_is_49(client, kw):
    await expect(codes.INVALID_INVOICE_DATA, client.send_invoice(invoice(**kw)))


async def test_row_sum_check_can_be_switched_off(client, sb):
    sb.scenarios.check_row_sum = False
    assert (await client.send_invoice(invoice(total=2600))).reference


async def test_bad_notification_url_is_64(client):
    await expect(codes.INVALID_NOTIFICATION_URL, client.send_invoice(invoice(notification_url="ftp://shop/cb")))


async def test_zero_amount_is_rejected(client):
    await expect(codes.REJECTED_AMOUNT, client.send_invoice(invoice(total=0, rows=False)))


async def test_unknown_reference_is_54(client):
    await expect(codes.INVALID_INVOICE_REFERENCE, client.get_payment_status("99999"))


async def test_another_terminals_invoice_is_unknown(http, client, sb):
    from plugins.seqr.sandbox.state import Terminal

    sb.add_terminal(Terminal("other", "otherpass", "Other shop"))
    sent = await client.send_invoice(invoice())
    other = SeqrClient(http, ENDPOINT, Principal("other", "otherpass"))
    await expect(codes.INVALID_INVOICE_REFERENCE, other.get_payment_status(sent.reference))


# ----------------------------------------------------------------------------- cancel / update


async def test_cancel_codes(client, sb):
    sent = await client.send_invoice(invoice())
    assert (await client.cancel_invoice(sent.reference)).result_code == 0
    assert (await client.get_payment_status(sent.reference)).status == "CANCELED"
    # twice: 95, which the client counts as done
    assert (await client.cancel_invoice(sent.reference)).result_code == codes.INVOICE_ALREADY_CANCELED
    await expect(codes.INVALID_INVOICE_REFERENCE, client.cancel_invoice("123"))

    busy = await client.send_invoice(invoice())
    sb.scan(busy.reference)  # the payer has it open in the app
    await expect(codes.CANNOT_CANCEL_INVOICE_IN_PROGRESS, client.cancel_invoice(busy.reference))
    sb.clock.advance(sb.scenarios.payer_busy_seconds)  # ... and walked away
    assert (await client.cancel_invoice(busy.reference)).result_code == 0

    done, _ = await paid(client, sb)
    await expect(codes.CANNOT_CANCEL_PAID_INVOICE, client.cancel_invoice(done.reference))


async def test_update_invoice(client, sb):
    sent = await client.send_invoice(invoice())
    await client.update_invoice(sent.reference, invoice(total=500, rows=False))
    assert sb.invoices[sent.reference].total == Decimal("5.00")
    await expect(codes.INVALID_INVOICE_DATA, client.update_invoice(sent.reference, invoice(currency="USD")))
    await expect(codes.INVALID_INVOICE_REFERENCE, client.update_invoice("1", invoice()))
    done, _ = await paid(client, sb)
    await expect(codes.SYSTEM_ERROR, client.update_invoice(done.reference, invoice()))
    busy = await client.send_invoice(invoice())
    sb.scan(busy.reference)
    await expect(codes.PAYMENT_IN_PROGRESS, client.update_invoice(busy.reference, invoice()))


async def test_acknowledgment_waits_for_update(client, sb):
    sent = await client.send_invoice(invoice(acknowledgment_mode="REQUIRE_ACKNOWLEDGMENT"))
    sb.scan(sent.reference)
    state = await client.get_payment_status(sent.reference)
    assert (state.status, state.version) == ("PENDING_ISSUER_ACKNOWLEDGE", 1)
    assert sb.confirm(sent.reference, TEST_PIN) == "not_payable"
    await client.update_invoice(sent.reference, invoice())
    assert (await client.get_payment_status(sent.reference)).status == "ISSUED"
    sb.scan(sent.reference)
    assert sb.confirm(sent.reference, TEST_PIN) == "paid"


# ----------------------------------------------------------------------------- reservations


async def test_commit_reservation(client, sb):
    sent = await client.send_invoice(invoice(payment_mode="RESERVATION_REQUIRED"))
    await expect(codes.INVOICE_STATE_NOT_RESERVED, client.commit_reservation(sent.reference))
    sb.scan(sent.reference)
    assert sb.confirm(sent.reference, TEST_PIN) == "reserved"
    assert (await client.get_payment_status(sent.reference)).status == "RESERVED"
    await expect(codes.REJECTED_AMOUNT, client.commit_reservation(sent.reference, Money(9999, EUR)))
    await client.commit_reservation(sent.reference, Money(2000, EUR))
    state = await client.get_payment_status(sent.reference)
    assert state.status == "PAID" and state.receipt.total == Money(2000, EUR)
    await expect(codes.INVOICE_STATE_NOT_RESERVED, client.commit_reservation(sent.reference))


# ----------------------------------------------------------------------------- refunds and receipts


async def test_refunds_partial_full_and_over(client, sb):
    _, state = await paid(client, sb)
    first = await client.refund_payment(state.ers_reference, Money(1000, EUR))
    assert len(first.ers_reference) == 25 and first.ers_reference != state.ers_reference
    await expect(codes.SUM_OF_REFUNDS_TOO_HIGH, client.refund_payment(state.ers_reference, Money(1501, EUR)))
    await client.refund_payment(state.ers_reference, Money(1500, EUR))
    await expect(codes.SUM_OF_REFUNDS_TOO_HIGH, client.refund_payment(state.ers_reference, Money(1, EUR)))
    # refunds leave the invoice PAID
    assert (await client.get_payment_status(state.receipt.invoice_reference)).status == "PAID"


async def test_refund_codes(client, sb):
    await expect(codes.INVALID_ERS_REFERENCE, client.refund_payment("2015102910184861801032678", Money(100, EUR)))
    _, state = await paid(client, sb)
    await expect(codes.REJECTED_AMOUNT, client.refund_payment(state.ers_reference, Money(0, EUR)))
    await expect(codes.INVALID_INVOICE_DATA, client.refund_payment(state.ers_reference, Money(100, "SEK")))
    small = Money(100, EUR)
    sb.scenarios.refunds = "deny"
    await expect(codes.RECEIVER_ACCOUNT_DOES_NOT_ALLOW_REFUNDS, client.refund_payment(state.ers_reference, small))
    sb.scenarios.refunds = "forbid"
    await expect(codes.RESELLER_NOT_ALLOWED_TO_DO_REFUND, client.refund_payment(state.ers_reference, small))


async def test_refund_of_uncommitted_payment_is_unknown(client, sb):
    sent = await client.send_invoice(invoice())
    sb.scan(sent.reference)
    sb.confirm(sent.reference, TEST_PIN)
    ers = sb.invoices[sent.reference].ers_reference  # not yet read by the shop: not final
    await expect(codes.INVALID_ERS_REFERENCE, client.refund_payment(ers, Money(100, EUR)))


async def test_submit_payment_receipt(client, sb):
    sent, state = await paid(client, sb)
    answer = await client.submit_payment_receipt(state.ers_reference, b"<html>receipt</html>")
    assert answer.result_code == 0 and answer.ers_reference
    assert sb.invoices[sent.reference].receipts[0]["receiptType"] == "PAYMENT_RECEIPT"
    refund = await client.refund_payment(state.ers_reference, Money(100, EUR))
    await client.submit_payment_receipt(refund.ers_reference, b"refund", receipt_type="OTHER")
    await expect(codes.INVALID_ERS_REFERENCE, client.submit_payment_receipt("1", b"x"))


# ----------------------------------------------------------------------------- reporting


async def test_mark_period_and_reports(client, sb):
    _, first = await paid(client, sb)
    _, second = await paid(client, sb)
    period = await client.mark_transaction_period()
    with pytest.raises(ReportNotReady):
        await client.execute_report("Reconciliation/STD_RECON_003.xml", period)
    sb.clock.advance(sb.scenarios.report_delay_seconds)
    details = await client.execute_report("Reconciliation/STD_RECON_003.xml", period)
    assert [r["ErsReference"] for r in details.rows()] == [first.ers_reference, second.ers_reference]
    assert details.title == f"STD_RECON_003_{period}.xml"
    assert details.content.decode() == details.content_string
    summary = await client.execute_report("Reconciliation/Shop.xml", period)
    assert summary.rows() == [{"SalesCount": "2", "SalesTotal": "50.00000"}]
    # the next period holds only what was paid since
    _, third = await paid(client, sb)
    later = await client.mark_transaction_period()
    sb.clock.advance(5)
    rows = (await client.execute_report("Reconciliation/STD_RECON_003.xml", later)).rows()
    assert [r["ErsReference"] for r in rows] == [third.ers_reference]


async def test_terminal_reports_need_the_terminal(client, sb):
    await paid(client, sb)
    shop_period = await client.mark_transaction_period()
    sb.clock.advance(5)
    await expect(codes.REJECTED_BUSINESS_LOGIC, client.execute_report("Reconciliation/STD_RECON_006.xml", shop_period))
    period = await client.mark_transaction_period(terminal_id="public_test_shop_terminal")
    sb.clock.advance(5)
    report = await client.execute_report("Reconciliation/STD_RECON_006.xml", period,
                                         terminal_id="public_test_shop_terminal")
    assert report.rows() == [{"SalesCount": "1", "SalesTotal": "25.00000"}]
    await expect(codes.INVALID_ERS_REFERENCE, client.execute_report("Reconciliation/Shop.xml", "404"))
    await expect(codes.REJECTED_BUSINESS_LOGIC, client.execute_report("Reconciliation/NOPE.xml", period))


async def test_reports_with_terminal_credentials(http, sb):
    terminal_only = SeqrClient(http, ENDPOINT, Principal("public_test_shop_terminal", "12345678"))
    period = await terminal_only.mark_transaction_period()
    assert len(period) == 25


# ----------------------------------------------------------------------------- terminals


async def test_register_terminal_codes(http, client):
    await expect(codes.INVALID_NEW_PASSWORD, client.register_terminal("T", "12", "Till"))
    terminal_only = SeqrClient(http, ENDPOINT, Principal("x", "x"),
                               reseller=Principal("public_test_shop_terminal", "12345678"))
    await expect(codes.ACCESS_DENIED, terminal_only.register_terminal("T", "long-enough", "Till"))


async def test_cash_register_holds_one_invoice(http, client):
    terminal_id = await client.register_terminal("Till 1", "till-password", "Till 1")
    till = SeqrClient(http, ENDPOINT, Principal(terminal_id, "till-password"))
    first = await till.send_invoice(invoice())
    await till.send_invoice(invoice())
    assert (await till.get_payment_status(first.reference)).status == "CANCELED"


async def test_assign_seqr_id_codes(http, client):
    await client.assign_seqr_id("SHOP0001")
    await expect(codes.INVALID_SEQR_ID, client.assign_seqr_id("not alnum!"))
    terminal_id = await client.register_terminal("Till 2", "till-password", "Till 2")
    till = SeqrClient(http, ENDPOINT, Principal(terminal_id, "till-password"))
    await expect(codes.INVALID_SEQR_ID, till.assign_seqr_id("SHOP0001"))  # taken


# ----------------------------------------------------------------------------- the wire failing


@pytest.mark.parametrize("mode, status, code", [("fault", None, "fault"), ("unavailable", 503, None),
                                                ("busy", None, "93")])
async def test_faults_5xx_and_busy_are_unavailable(client, sb, mode, status, code):
    sb.scenarios.soap = mode
    with pytest.raises(ProviderUnavailable) as info:
        await client.get_payment_status("1")
    assert (info.value.status, info.value.code) == (status, code)


async def test_slow_answer_times_out(http, sb):
    sb.scenarios.soap, sb.scenarios.slow_seconds = "slow", 5
    # ASGITransport ignores timeouts, so the clock here is the transport's own.
    slow = httpx.AsyncClient(transport=_Timeout(http), base_url=str(http.base_url))
    client = SeqrClient(slow, ENDPOINT, Principal("public_test_shop_terminal", "12345678"), timeout=0.2)
    with pytest.raises(ProviderUnavailable, match="in time"):
        await client.send_invoice(invoice())


class _Timeout(httpx.AsyncBaseTransport):
    """Honours the request's read timeout in front of an in-process app, as a socket would."""

    def __init__(self, http: httpx.AsyncClient):
        self.inner = http._transport

    async def handle_async_request(self, request):
        import anyio

        timeout = request.extensions["timeout"]["read"]
        try:
            with anyio.fail_after(timeout):
                return await self.inner.handle_async_request(request)
        except TimeoutError:
            raise httpx.ReadTimeout("timed out", request=request) from None


async def test_connection_error_is_unavailable():
    def refuse(request):
        raise httpx.ConnectError("refused", request=request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(refuse)) as http:
        client = SeqrClient(http, ENDPOINT, Principal("public_test_shop_terminal", "12345678"))
        with pytest.raises(ProviderUnavailable, match="could not be reached"):
            await client.get_payment_status("1")


@pytest.mark.parametrize("code", [codes.SYSTEM_BUSY, codes.SERVICE_UNAVAILABLE])
async def test_busy_codes_are_unavailable(client, monkeypatch, sb, code):
    monkeypatch.setattr(sb, "payment_status", lambda *a: (code, None))
    with pytest.raises(ProviderUnavailable):
        await client.get_payment_status("1")


async def test_garbage_answer_is_unavailable():
    async with httpx.AsyncClient(transport=httpx.MockTransport(lambda r: httpx.Response(200, text="<html>"))) as http:
        client = SeqrClient(http, ENDPOINT, Principal("public_test_shop_terminal", "12345678"))
        with pytest.raises(ProviderUnavailable):
            await client.get_payment_status("1")


async def test_client_does_not_touch_the_shared_client(http):
    before = dict(http.headers)
    SeqrClient(http, ENDPOINT, Principal("a", "b"))
    assert dict(http.headers) == before


async def test_ping(http, sb):
    anyone = SeqrClient(http, ENDPOINT, Principal("nobody", "nothing"))
    assert (await anyone.ping()).result_code == 0
    sb.scenarios.soap = "unavailable"
    with pytest.raises(ProviderUnavailable):
        await anyone.ping()


async def test_receipt_echoes_the_invoice_as_paid(client, sb):
    sent, _ = await paid(client, sb, client_invoice_id="1001")
    ret = await client.service.getPaymentStatus(context=client.context(), invoiceReference=sent.reference,
                                                invoiceVersion=0)
    echoed = ret.receipt.invoice
    assert (echoed.title, echoed.clientInvoiceId, echoed.acknowledgmentMode) == ("Order 1", "1001", "NO_ACKNOWLEDGMENT")
    mug = echoed.invoiceRows.invoiceRow[0]
    assert (mug.itemDescription, mug.itemQuantity, mug.itemSKU, mug.itemTaxRate) == ("Mug", 2, "MUG", 25)
    assert (mug.itemUnitPrice.value, mug.itemUnitPrice.currency, mug.itemTotalAmount.value) == (10, "EUR", 20)
    assert echoed.notificationUrl == "http://shop.test/cb/tok"

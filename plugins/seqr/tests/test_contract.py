import asyncio
import dataclasses

import pytest

from shop.payments.contract import PaymentStatus
from shop.testing.contract import ContractKit


class TestContract(ContractKit):
    plugin_id = "seqr"

    @pytest.mark.anyio
    async def test_soap_calls_are_named_and_redacted_in_the_event_log(self, kit):
        paid = await kit.pay()
        calls = await kit.events(paid.id, "call")
        assert [e.operation for e in calls][:2] == ["sendInvoice", "getPaymentStatus"]
        assert "<password>***</password>" in calls[0].body
        assert "12345678" not in "\n".join(e.body for e in await kit.events())

    @pytest.mark.anyio
    async def test_reconciler_cancels_an_invoice_left_unpaid(self, kit):
        payment, started = await kit.start_payment()
        kit.plugin.settings = dataclasses.replace(kit.plugin.settings, payment_timeout_seconds=1)
        await asyncio.sleep(1.1)
        counts = await kit.app.state.reconciler.run_once()
        assert counts["timed_out"] == 1
        timed_out = await kit.payment(payment.id)
        assert timed_out.status == PaymentStatus.EXPIRED and "not paid within 1 second," in timed_out.detail
        assert kit.driver.sandbox.invoices[started.reference].status == "CANCELED"

    @pytest.mark.anyio
    async def test_a_lost_notification_and_a_late_read_find_the_payment_reversed(self, kit):
        payment, started = await kit.start_payment()
        await kit.driver.pay(await kit.attempt(payment), started)  # held: never delivered
        kit.driver.advance(20)
        assert await kit.app.state.attempts.refresh(payment.id, source="reconciler")
        assert (await kit.payment(payment.id)).status == PaymentStatus.CANCELLED
        assert len(kit.driver.sandbox.sms) == 1

    @pytest.mark.anyio
    async def test_end_of_day_and_a_report_in_the_back_office(self, kit):
        paid = await kit.pay()
        kit.driver.sandbox.scenarios.report_delay_seconds = 0
        await kit.shopper.login_admin()
        page = await kit.shopper.get("/admin/seqr/")
        assert page.status_code == 200 and "Close the period" in page.text
        closed = await kit.shopper.post("/admin/seqr/close", {"scope": "shop"})
        assert closed.status_code == 303
        period_id = kit.plugin.periods[0][0]
        report = await kit.shopper.get("/admin/seqr/", params={"report": "Reconciliation/STD_RECON_003.xml",
                                                               "period": period_id})
        assert report.status_code == 200
        assert (await kit.attempt(paid)).data["ers_reference"] in report.text
        assert 'id="seqr-report"' in report.text

    @pytest.mark.anyio
    async def test_back_office_buttons(self, kit):
        payment, started = await kit.start_payment()
        await kit.shopper.login_admin()
        number = (await kit.order_of(payment)).number
        page = await kit.shopper.get(f"/admin/orders/{number}")
        assert "Update SEQR invoice" in page.text
        done = await kit.shopper.post(f"/admin/orders/{number}/payments/{payment.id}/action/update_invoice",
                                      {"title": "Renamed", "new_total": ""})
        assert done.status_code == 303
        assert kit.driver.sandbox.invoices[started.reference].data["title"] == "Renamed"
        paid = await kit.pay()
        [action] = kit.plugin.admin_actions(await kit.attempt(paid))
        assert action.name == "send_receipt"
        assert "sent" in await kit.plugin.admin_action("send_receipt", await kit.attempt(paid), {})
        receipts = kit.driver.sandbox.invoices[paid.reference].receipts
        assert receipts and receipts[0]["receiptType"] == "PAYMENT_RECEIPT"

    @pytest.mark.anyio
    async def test_the_order_page_shows_the_code_and_the_app_link(self, kit):
        payment, started = await kit.start_payment()
        page = await kit.shopper.get(f"/orders/{(await kit.order_of(payment)).public_id}")
        assert page.status_code == 200
        assert f'href="SEQR://SEQR.SE/R{started.reference}"' in page.text
        assert "<svg" in page.text  # the QR code of HTTP://SEQR.SE/R<ref>

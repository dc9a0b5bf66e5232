from dataclasses import replace
from datetime import timedelta

import pytest

from plugins.sequra.settling import Intent
from shop.models import Payment
from shop.payments.contract import CallbackOutcome, PaymentStatus
from shop.testing.contract import ContractKit, Kit


class TestContract(ContractKit):
    plugin_id = "sequra"

    @pytest.mark.anyio
    async def test_a_failed_read_back_asks_the_provider_to_retry_and_changes_nothing(self, kit: Kit):
        """SeQura's version of the kit's check. SeQura never sends an IPN again, whatever the
        answer (spec §8.5, §17.1): a 503 would leave SeQura holding an approved order the shop
        never confirms. So a failed confirm PUT is answered as accepted, changes no status, and
        the shop retries it itself: the reconciler's pass confirms it, once."""
        payment, started = await kit.start_payment()
        callback = await kit.driver.pay(await kit.attempt(payment), started)
        kit.driver.break_read_back(True)
        response = await kit.deliver(callback)
        assert response.status_code == kit.reply_status(CallbackOutcome.ACCEPTED)
        assert (await kit.payment(payment.id)).status == PaymentStatus.PENDING
        kit.driver.break_read_back(False)
        await kit.app.state.db.run(back_off_passed, kit.app.state.db, payment.id)
        assert (await kit.app.state.reconciler.run_once())["settled"] == 1
        assert (await kit.payment(payment.id)).status == PaymentStatus.PAID
        assert await kit.moves_to(payment.id, "paid") == 1


def back_off_passed(db, payment_id: int) -> None:
    with db() as session:
        row = session.get(Payment, payment_id)
        owed = Intent.of(row.data)
        row.data = {**row.data, **replace(owed, due=owed.due - timedelta(hours=1)).as_data()}
        session.add(row)
        session.commit()

import pytest

from plugins.seqr.status import STATUSES, to_payment_status
from shop.payments.contract import PaymentStatus as S

EXPECTED = {
    "ISSUED": S.PENDING,
    "PENDING_ISSUER_ACKNOWLEDGE": S.PENDING,
    "PAID": S.PAID,
    "RESERVED": S.AUTHORIZED,
    "CANCELED": S.CANCELLED,
    "FAILED": S.FAILED,
    "EXPIRED": S.EXPIRED,
}


@pytest.mark.parametrize("seqr, ours", EXPECTED.items())
def test_each_status(seqr, ours):
    assert to_payment_status(seqr) is ours


def test_table_is_exactly_the_expected_one():
    # test_wsdl checks the table's keys against the WSDL's invoiceStatus enumeration
    assert STATUSES == EXPECTED


@pytest.mark.parametrize("word", ["PARTIALLY_PAID", "paid", "", "CANCELLED"])
def test_unknown_words_raise(word):
    with pytest.raises(ValueError):
        to_payment_status(word)

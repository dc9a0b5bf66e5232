import pytest

from plugins.secupay.status import SIMPLE_STATUS, SIMPLE_TEXT, STX_STATUS, payment_status, stx_status
from shop.payments.contract import PaymentStatus as S

# Written out again on purpose: a change to the table must be a change to this test too.
EXPECTED_STX = {
    "created": S.PENDING, "processing": S.PENDING, "approved": S.AUTHORIZED, "pending": S.PENDING,
    "ok": S.PAID, "received": S.PAID, "shipped": S.PAID, "collection": S.PAID, "collected": S.PAID,
    "failed": S.FAILED, "cancelled": S.CANCELLED,
}
EXPECTED_SIMPLE = {
    0: S.PENDING, 1: S.PAID, 2: S.AUTHORIZED, 3: S.FAILED, 4: S.PAID, 5: S.CANCELLED, 6: S.PAID,
    7: S.CANCELLED, 8: S.PENDING, 9: S.PAID, 10: S.PENDING, 11: S.AUTHORIZED, 12: S.FAILED,
    13: S.PENDING, 14: S.AUTHORIZED, 15: S.AUTHORIZED, 16: S.FAILED,
}


def test_stx_table_is_the_documented_set():
    assert STX_STATUS == EXPECTED_STX


@pytest.mark.parametrize("word,expected", sorted(EXPECTED_STX.items()))
def test_every_stx_status(word, expected):
    assert stx_status(word) is expected
    assert stx_status(word.upper()) is expected
    assert payment_status(word, None) is expected


def test_simple_table_covers_every_simple_status():
    assert SIMPLE_STATUS == EXPECTED_SIMPLE
    assert set(SIMPLE_TEXT) == set(SIMPLE_STATUS)


@pytest.mark.parametrize("simple,expected", sorted(EXPECTED_SIMPLE.items()))
def test_every_simple_status(simple, expected):
    assert payment_status("ok", simple, "creditcard") is expected


def test_unknown_words_are_pending_not_errors():
    assert stx_status(None) is S.PENDING
    assert stx_status("brand-new") is S.PENDING
    assert payment_status("pending", 99) is S.PENDING  # unknown simple status: the STX decides


@pytest.mark.parametrize("simple", [2, 10])
def test_prepaid_waiting_is_pending_in_both_readings(simple):
    assert payment_status("pending", simple, "prepaid") is S.PENDING


def test_card_authorised_is_authorized():
    assert payment_status("approved", 2, "creditcard") is S.AUTHORIZED


def test_void_after_refunds_stays_paid_for_the_ledger_to_count():
    assert payment_status("ok", 5, "creditcard", refunded=True) is S.PAID
    assert payment_status("ok", 5, "creditcard", refunded=False) is S.CANCELLED


def test_cancelled_smart_transaction_wins():
    assert payment_status("cancelled", 2, "creditcard") is S.CANCELLED

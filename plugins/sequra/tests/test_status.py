from __future__ import annotations

import pytest

from plugins.sequra.status import CONFIRM_STATE, EVENTS, IPN_STATES, STATUS, to_status
from shop.payments.contract import PaymentStatus as S

EXPECTED = {
    "solicited": S.PENDING, "approved": S.PENDING, "needs_review": S.PENDING, "on_hold": S.PENDING,
    "confirmed": S.PAID, "shipped": S.PAID, "rejected": S.FAILED, "cancelled": S.CANCELLED,
    "cancel": S.CANCELLED, "risk_assessment": None,
}


@pytest.mark.parametrize("word", sorted(EXPECTED))
def test_every_word(word):
    assert to_status(word) is EXPECTED[word]


def test_the_table_is_exactly_the_expected_one():
    assert STATUS == EXPECTED


def test_every_word_seQura_sends_or_the_sandbox_uses_is_in_the_table():
    from plugins.sequra.sandbox.api import TRANSITIONS

    words = set(IPN_STATES) | set(EVENTS) | set(CONFIRM_STATE.values()) | set(TRANSITIONS)
    words |= {"solicited", "approved", "needs_review", "rejected", "shipped", "cancelled"}
    assert words <= set(STATUS)


def test_confirm_states():
    assert CONFIRM_STATE == {"approved": "confirmed", "needs_review": "on_hold"}


def test_unknown_words_are_loud():
    with pytest.raises(KeyError):
        to_status("refunded")

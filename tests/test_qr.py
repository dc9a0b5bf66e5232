"""QR codes: the quick mask choice is qrcode's own, and the SVG draws exactly the code's dark modules."""

from __future__ import annotations

import random
import re

import pytest
import qrcode
from qrcode import util

from shop.qr import QuickMaskQRCode, girocode_payload, pack, penalty, qr_svg

ALPHABET = "abcXYZ0123456789 \n.-/€ü"
GIROCODE = girocode_payload(bic="GENODEF1XXX", name="Cartwheel Demo Shop GmbH", iban="DE02 1203 0000 0000 2020 51",
                            amount_cents=123456, currency="EUR", purpose="Order 2026-000123 RF18539007547034")


def payloads(count: int) -> list[str]:
    pick = random.Random(16)
    return [GIROCODE, "SEQR://SEQR.SE/R12345678"] + [
        "".join(pick.choice(ALPHABET) for _ in range(pick.choice((3, 40, 125, 300)))) for _ in range(count)]


@pytest.mark.parametrize("error_correction", [qrcode.constants.ERROR_CORRECT_L, qrcode.constants.ERROR_CORRECT_M,
                                              qrcode.constants.ERROR_CORRECT_H])
def test_every_mask_scores_as_qrcode_scores_it_and_the_same_mask_is_chosen(error_correction):
    for payload in payloads(12):
        reference = qrcode.QRCode(error_correction=error_correction)
        reference.add_data(payload)
        reference.make(fit=True)
        for mask in range(8):
            reference.makeImpl(True, mask)
            rows, columns = pack(reference.modules), pack(zip(*reference.modules, strict=True))
            assert penalty(rows, columns, reference.modules_count) == util.lost_point(reference.modules)
        reference.makeImpl(False, reference.best_mask_pattern())
        quick = QuickMaskQRCode(error_correction=error_correction)
        quick.add_data(payload)
        quick.make(fit=True)
        assert quick.modules == reference.modules, payload


def test_the_svg_draws_the_dark_modules_and_nothing_else():
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(GIROCODE)
    code.make(fit=True)
    size = code.modules_count + 4
    svg = str(qr_svg.__wrapped__(GIROCODE))
    assert f'viewBox="0 0 {size} {size}"' in svg
    drawn = set()
    for x, y, width in re.findall(r"M(\d+),(\d+)h(\d+)v1h-\3z", re.search(r' d="([^"]+)"', svg).group(1)):
        drawn.update((int(y) - 2, int(x) - 2 + i) for i in range(int(width)))
    dark = {(r, c) for r, row in enumerate(code.modules) for c, module in enumerate(row) if module}
    assert drawn == dark

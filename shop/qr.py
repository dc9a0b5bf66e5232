"""QR codes as inline SVG, drawn by the qrcode library."""

from __future__ import annotations

import functools

import qrcode
import qrcode.image.svg
from markupsafe import Markup


@functools.lru_cache(maxsize=256)
def qr_svg(payload: str, error_correction: int = qrcode.constants.ERROR_CORRECT_M) -> Markup:
    """An <svg> element for the payload, sized by its container (it has a viewBox)."""
    code = qrcode.QRCode(error_correction=error_correction, border=2, image_factory=qrcode.image.svg.SvgPathImage)
    code.add_data(payload)
    code.make(fit=True)
    svg = code.make_image().to_string(encoding="unicode")
    return Markup(svg)


def girocode_payload(*, bic: str, name: str, iban: str, amount_cents: int, currency: str, purpose: str) -> str:
    """An EPC069-12 credit transfer (GiroCode) payload: version 002, UTF-8, SCT."""
    if currency != "EUR":
        raise ValueError("a GiroCode transfers euros only")
    amount = f"EUR{amount_cents // 100}.{amount_cents % 100:02d}"
    return "\n".join(["BCD", "002", "1", "SCT", bic, name[:70], iban.replace(" ", ""), amount, "", "", purpose[:140]])

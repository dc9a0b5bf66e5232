"""The stand-in of SEQR's Instant Checkout widget: the script a product page loads
(``seqrQRCode-0.0.1.min.js``, as SEQR's guide names it) and the QR image it draws."""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from shop.qr import qr_svg

from .pages import INSTANT_CODE

SCRIPT = Path(__file__).parent / "assets" / "seqrQRCode.js"


async def script(request: Request) -> Response:
    return Response(SCRIPT.read_text(), media_type="application/javascript",
                    headers={"Cache-Control": "max-age=300", "Access-Control-Allow-Origin": "*"})


async def qr_image(request: Request) -> Response:
    code = request.query_params.get("code", "")
    if not INSTANT_CODE.match(code) or len(code) > 300:
        return PlainTextResponse("not an Instant Checkout code", status_code=400)
    svg = str(qr_svg(code))
    if not svg.startswith("<?xml"):
        svg = '<?xml version="1.0" encoding="UTF-8"?>\n' + svg
    return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "max-age=3600"})


routes = [
    Route("/seqrQRCode-0.0.1.min.js", script, name="instant_widget"),
    Route("/instant/qr.svg", qr_image, name="instant_qr"),
]

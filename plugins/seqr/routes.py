"""The shop's createPurchase for SEQR Instant Checkout, mounted by the core at /pay/seqr/createPurchase.

SEQR's Instant Checkout service calls it when a payer has scanned a product's code and
confirmed the delivery address stored in the app. The shop makes an order of that one product,
sends its SEQR invoice (notificationUrl unique to this purchase, as for any SEQR payment) and
answers the invoice reference; the app then shows the invoice and the payer pays it with the
PIN. From the notification on, it is an ordinary SEQR payment: the core's ledger takes the
stock and queues the order confirmation when getPaymentStatus reads PAID.

Answers (SEQR documents no errors for Instant Checkout; its sibling service's shape is used):
    200 {"invoiceReferenceId": "<invoiceReference>"}
    200 {"errorCode": "INVOICING_ERROR", "errorMessage": "..."}   no order could be invoiced
    400 {"errorCode": "SYSTEM_ERROR", "errorMessage": "..."}      not a JSON object
    500 {"errorCode": "SYSTEM_ERROR", "errorMessage": "..."}      the shop failed
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from shop.checkout import COUNTRIES
from shop.payments import recorder
from shop.payments.contract import Channel, OrderRefused, PluginOrder, StartContext

from .instant import PurchaseRefused, delivery_of, product_of

if TYPE_CHECKING:
    from .plugin import SeqrPlugin

log = logging.getLogger(__name__)

INVOICING_ERROR = "INVOICING_ERROR"
SYSTEM_ERROR = "SYSTEM_ERROR"


def _error(code: str, message: str, status: int = 200) -> JSONResponse:
    return JSONResponse({"errorCode": code, "errorMessage": message}, status_code=status)


def _logged(body: bytes) -> str:
    """The request for the event log: which fields came, the payer's details masked."""
    try:
        payload = json.loads(body or b"null")
    except ValueError:
        return recorder.redact(body)
    if not isinstance(payload, dict):
        return recorder.redact(body)
    return json.dumps({key: value if key == "country" or not value else recorder.MASK
                       for key, value in payload.items()}, ensure_ascii=False)


def routes(plugin: SeqrPlugin) -> list[Route]:
    async def create_purchase(request: Request) -> Response:
        body = await request.body()
        order_id = payment_id = None
        try:
            client = request.client.host if request.client else "unknown"
            response, order_id, payment_id = await _create_purchase(plugin, body, client)
        except Exception:
            log.exception("SEQR createPurchase failed")
            response = _error(SYSTEM_ERROR, "The shop could not take the order; nothing was charged.", 500)
        outcome = json.loads(response.body)
        await plugin.runtime.services.record_incoming(
            operation=f"createPurchase: {outcome.get('errorCode') or 'invoice ' + outcome['invoiceReferenceId']}",
            body=_logged(body), http_status=response.status_code, payment_id=payment_id, order_id=order_id)
        return response

    return [Route("/createPurchase", create_purchase, methods=["POST"], name="seqr_create_purchase")]


async def _create_purchase(plugin: SeqrPlugin, body: bytes, client: str) -> tuple[JSONResponse, int | None, int | None]:
    services = plugin.runtime.services
    try:
        payload = json.loads(body or b"null")
    except ValueError:
        payload = None
    if not isinstance(payload, dict):
        return _error(SYSTEM_ERROR, "Send a JSON object.", 400), None, None
    try:
        token = payload.get("purchaseToken")
        product_id = product_of(token if isinstance(token, str) else "", plugin.instant_secret(),
                                plugin.settings.webshop_id, plugin.settings.instant_token_max_age_seconds)
        customer, address = delivery_of(payload, COUNTRIES)
    except PurchaseRefused as exc:
        return _error(INVOICING_ERROR, str(exc)), None, None

    settings = plugin.settings
    wanted = PluginOrder(items=((product_id, 1),), customer=customer, delivery=address, invoice=address,
                         channel=Channel.ONLINE, expires_in_seconds=settings.instant_order_expiry_seconds,
                         code_hash=hashlib.sha256(token.encode()).hexdigest(), caller=client[:64],
                         unpaid_per_hour=settings.instant_unpaid_orders_per_hour)
    try:
        order = await services.place_order(wanted)
    except OrderRefused as exc:
        return _error(INVOICING_ERROR, str(exc)), None, None

    start = await services.start_payment(order.id, plugin.id, plugin.id, StartContext())
    if start.started is None or not start.started.reference:
        await services.expire_order(order.id, f"SEQR Instant Checkout: no invoice ({start.message})")
        return _error(INVOICING_ERROR, start.message or "SEQR did not take the invoice."), order.id, start.payment_id
    return JSONResponse({"invoiceReferenceId": start.started.reference}), order.id, start.payment_id

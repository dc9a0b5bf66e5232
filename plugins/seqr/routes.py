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
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlmodel import col, func, select
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from shop.checkout import COUNTRIES, OrderDetails, place_order
from shop.models import InstantPurchase, Order, Product, utcnow
from shop.payments import recorder
from shop.payments.contract import Channel, StartContext

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
        services = plugin.runtime.services
        outcome = json.loads(response.body)
        await services.db.write(
            services.recorder.record, kind="callback", direction="in", http_status=response.status_code,
            operation=f"createPurchase: {outcome.get('errorCode') or 'invoice ' + outcome['invoiceReferenceId']}",
            body=_logged(body),
            payment_id=payment_id, order_id=order_id)
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

    try:
        order_id = await services.db.write(_place_order, plugin, product_id, OrderDetails(customer, address, address),
                                           hashlib.sha256(token.encode()).hexdigest(), client[:64])
    except PurchaseRefused as exc:
        return _error(INVOICING_ERROR, str(exc)), None, None

    payment, started, message = await services.attempts.start(order_id, plugin.id, plugin.id, StartContext())
    if started is None or not started.reference:
        await services.ledger.expire_order(order_id, f"SEQR Instant Checkout: no invoice ({message})")
        return _error(INVOICING_ERROR, message or "SEQR did not take the invoice."), order_id, payment.id
    return JSONResponse({"invoiceReferenceId": started.reference}), order_id, payment.id


def _place_order(plugin: SeqrPlugin, product_id: int, details: OrderDetails, token_hash: str, client: str) -> int:
    """The order of one product, its stock held; raises PurchaseRefused with the reason if it cannot."""
    services = plugin.runtime.services
    with services.db() as session:
        # A purchase code is printed on a product page for anyone to read, and createPurchase needs
        # no login: without a limit, a few replays hold a product's whole stock.
        limit = plugin.settings.instant_unpaid_orders_per_hour
        for column, value in ((InstantPurchase.token_hash, token_hash), (InstantPurchase.client, client)):
            if _unpaid_orders(session, column, value) >= limit:
                raise PurchaseRefused("Too many unpaid Instant Checkout orders: pay one of them or try again later.")
        product = session.get(Product, product_id)
        if product is None:
            raise PurchaseRefused("This product is no longer sold.")
        if product.stock < 1:
            raise PurchaseRefused(f"{product.name} is sold out.")
        try:
            order = place_order(session, services.settings, [(product, 1)], details, channel=Channel.ONLINE)
        except ValueError as exc:
            raise PurchaseRefused(str(exc)) from None
        # Nobody waits on a page to try again: an unpaid Instant Checkout order gives its stock
        # back soon, not after the days a shopper's own checkout is kept.
        order.expires_at = utcnow() + timedelta(seconds=plugin.settings.instant_order_expiry_seconds)
        session.add(order)
        session.add(InstantPurchase(order_id=order.id, token_hash=token_hash, client=client))
        session.commit()
        return order.id


def _unpaid_orders(session, column, value: str) -> int:
    """Orders of the last hour from this purchase code (or caller) still awaiting payment."""
    since = utcnow() - timedelta(hours=1)
    return session.exec(select(func.count()).select_from(InstantPurchase)
                        .join(Order, col(Order.id) == InstantPurchase.order_id)
                        .where(column == value, col(InstantPurchase.created_at) > since,
                               Order.status == "awaiting_payment")).one()

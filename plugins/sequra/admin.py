"""SeQura's back-office pages (/admin/sequra/): orders taken by phone or at the till.

The operator builds a cart for a customer and the shop sends SeQura's identification form to
the customer's mobile by SMS (forms-delivery API). The operator never fills the form in: on
the phone the IPN confirms the order as it does online; at an isolated till no IPN arrives,
so the operator presses "Confirm sale" once the customer's phone shows SeQura's approval."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlmodel import select
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from shop.checkout import COUNTRIES, CheckoutForm, draft_of
from shop.i18n import N_, country_name
from shop.i18n import gettext as _
from shop.models import Order, OrderLine, Payment, Product
from shop.money import Money
from shop.payments.contract import Channel, OrderRefused, PaymentStatus, PluginOrder, ProviderError, StartContext
from shop.payments.contract import OrderLine as SnapshotLine
from shop.pricing import basket_lines
from shop.security import checked_form
from shop.web import flash, render

from . import delivery_report

if TYPE_CHECKING:
    from .plugin import SequraPlugin

BASE = "/admin/sequra"
MAX_QUANTITY = 20


def _quantities(form, products: list[Product]) -> tuple[list[tuple[Product, int]], dict[str, str]]:
    items, errors = [], {}
    for product in products:
        raw = str(form.get(f"qty:{product.sku}", "") or "0").strip()
        try:
            quantity = int(raw)
        except ValueError:
            errors[f"qty:{product.sku}"] = _("Enter a whole number.")
            continue
        if quantity < 0 or quantity > MAX_QUANTITY:
            errors[f"qty:{product.sku}"] = _("Between 0 and %(max)s.") % {"max": MAX_QUANTITY}
        elif quantity > product.stock:
            errors[f"qty:{product.sku}"] = _("Only %(stock)s in stock.") % {"stock": product.stock}
        elif quantity:
            items.append((product, quantity))
    return items, errors


def _draft_lines(items: list[tuple[Product, int]], settings) -> list[SnapshotLine]:
    return basket_lines(items, "", settings.shipping_fee_cents, settings.free_shipping_from_cents)


def routes(plugin: SequraPlugin) -> list[Route]:
    # The database work runs in a database thread: products, tracked. Orders and payments are
    # placed and started by the core (runtime.services), as the checkout's are.
    def products(request: Request) -> list[Product]:
        with request.app.state.db() as session:
            return list(session.exec(select(Product).where(Product.stock > 0).order_by(Product.name)))

    async def page(request: Request, *, values=None, errors=None, error: str = "", status_code: int = 200) -> Response:
        values = values or {"country_code": "ES", "channel": "phone", "product": "i1"}
        in_stock = await request.app.state.db.run(products, request)
        return await render(request, "sequra/phone_order.html", {
            "products": in_stock, "values": values, "errors": errors or {}, "error": error,
            "countries": {code: country_name(code) for code in COUNTRIES}, "isolated_only": plugin.settings.isolated_till,
            "product_codes": {code: _(label) for code, label in PRODUCT_CODES.items()}}, status_code=status_code)

    async def show(request: Request) -> Response:
        return await page(request)

    async def submit(request: Request) -> Response:
        state = request.app.state
        form = await checked_form(request)
        raw = {k: str(v).strip() for k, v in form.items() if isinstance(v, str)}
        option = raw.get("product", "i1")
        channel = Channel.TILL if raw.get("channel") == "till" or plugin.settings.isolated_till else Channel.PHONE
        details = CheckoutForm({**raw, "invoice_same": "on", "method": f"{plugin.id}:{option}"})
        errors = dict(details.errors)
        items, quantity_errors = _quantities(form, await state.db.run(products, request))
        errors.update(quantity_errors)
        if not items and not quantity_errors:
            errors["items"] = _("Add at least one product.")
        if option not in PRODUCT_CODES:
            errors["product"] = _("Choose one of SeQura's products.")
        elif items and not errors:
            offered = {o.option_id for o in await plugin.options(draft_of(_draft_lines(items, state.settings)))
                       if not o.unavailable}
            if option not in offered:
                product = _(PRODUCT_CODES[option])
                errors["product"] = (_("SeQura does not offer %(product)s for this amount; it offers %(offered)s.")
                                     % {"product": product, "offered": ", ".join(sorted(offered))} if offered else
                                     _("SeQura does not offer %(product)s for this amount.") % {"product": product})
        if errors:
            return await page(request, values=raw, errors=errors, status_code=422)
        services = plugin.runtime.services
        who = details.details()
        try:
            order = await services.place_order(PluginOrder(
                items=tuple((product.id, quantity) for product, quantity in items), customer=who.customer,
                delivery=who.delivery, invoice=who.invoice, channel=channel))
        except OrderRefused as exc:
            return await page(request, values=raw, error=str(exc), status_code=409)
        number = order.number
        start = await services.start_payment(order.id, plugin.id, option, StartContext(), channel=channel)
        if start.started is None:
            message = start.message
            flash(request, _("Order %(number)s was created, but SeQura refused it: %(message)s")
                  % {"number": number, "message": message}, "error")
            if start.field_errors:
                return await page(request, values=raw, errors=dict(start.field_errors),
                                  error=_("SeQura refused the order: %(message)s") % {"message": message},
                                  status_code=422)
        return RedirectResponse(f"{BASE}/phone-order/{number}", status_code=303)

    def tracked(request: Request) -> dict:
        state = request.app.state
        with state.db() as session:
            order = session.exec(select(Order).where(Order.number == request.path_params["number"])).first()
            if order is None:
                raise HTTPException(404, _("There is no such order."))
            payment = session.exec(select(Payment).where(Payment.order_id == order.id, Payment.plugin == plugin.id)
                                   .order_by(Payment.id.desc())).first()
            lines = session.exec(select(OrderLine).where(OrderLine.order_id == order.id).order_by(OrderLine.id)).all()
            attempt = state.attempts.attempt_of(session, payment, order) if payment else None
        actions = plugin.admin_actions(attempt) if attempt else []
        return {"order": order, "payment": payment, "attempt": attempt, "lines": lines,
                "total": Money(order.total_cents, order.currency), "actions": actions,
                "sms_to": plugin.phone_of(attempt) if attempt else "",
                "final": payment is None or PaymentStatus(payment.status) not in (
                    PaymentStatus.CREATED, PaymentStatus.PENDING)}

    async def status_page(request: Request) -> Response:
        context = await request.app.state.db.run(tracked, request)
        return await render(request, "sequra/phone_order_status.html", context)

    async def status_fragment(request: Request) -> Response:
        context = await request.app.state.db.run(tracked, request)
        html = request.app.state.templates.env.get_template("sequra/phone_order_panel.html").render(
            {**context, "request": request})
        return HTMLResponse(html, headers={"Cache-Control": "no-store"})

    async def report_page(request: Request) -> Response:
        return await render(request, "sequra/delivery_report.html", {"sent": None})

    async def send_report(request: Request) -> Response:
        await checked_form(request)
        try:
            body = await delivery_report.send(plugin)
        except ProviderError as exc:
            flash(request, _("SeQura did not take the delivery report: %(error)s") % {"error": exc.message}, "error")
            return RedirectResponse(f"{BASE}/delivery-report", status_code=303)
        report = body["delivery_report"]
        return await render(request, "sequra/delivery_report.html", {"sent": {
            "shipped": len(report["orders"]), "statistics": len(report["statistics"]["orders"])}})

    return [
        Route("/delivery-report", report_page, name="sequra_delivery_report"),
        Route("/delivery-report", send_report, methods=["POST"]),
        Route("/phone-order", show, name="sequra_phone_order"),
        Route("/phone-order", submit, methods=["POST"]),
        Route("/phone-order/{number}", status_page, name="sequra_phone_order_status"),
        Route("/phone-order/{number}/panel", status_fragment),
    ]


PRODUCT_CODES = {"i1": N_("Pay later in 7 days (i1)"), "sp1": N_("Split in 3, no fees (sp1)"),
                 "pp3": N_("Part payment (pp3)")}

"""The order confirmation e-mail: the lines, the totals, both addresses and the payment method,
as plain text and as HTML (sent as one multipart message).

Written into the outbox by the ledger, in the transaction that makes the sale: the message is
a snapshot of the order as it was sold, whatever happens to the order afterwards."""

from __future__ import annotations

from pathlib import Path

import jinja2
from sqlmodel import Session, select

from shop import i18n
from shop.i18n import gettext as _
from shop.i18n import use_locale
from shop.models import Order, OrderLine, OutboxMessage, Payment
from shop.money import Money
from shop.payments.contract import LineKind, PaymentStatus

_TEMPLATES = jinja2.FileSystemLoader(Path(__file__).resolve().parent.parent / "templates")


def _environment(autoescape: bool) -> jinja2.Environment:
    env = jinja2.Environment(loader=_TEMPLATES, autoescape=autoescape, trim_blocks=True, lstrip_blocks=True,
                             keep_trailing_newline=True, undefined=jinja2.StrictUndefined)
    i18n.install_in(env)  # rendered inside use_locale(order.locale): words, amounts and countries are the order's
    env.filters["money"] = lambda cents, currency: Money(int(cents), currency).display()
    env.filters["country"] = i18n.country_name
    return env


_TEXT = _environment(autoescape=False)
_HTML = _environment(autoescape=True)


def confirmation_context(session: Session, order: Order, payment: Payment, method: str) -> dict:
    lines = session.exec(select(OrderLine).where(OrderLine.order_id == order.id).order_by(OrderLine.id)).all()
    by_kind = {kind: [line for line in lines if line.kind == kind] for kind in LineKind}
    return {
        "order": order,
        "products": by_kind[LineKind.PRODUCT],
        "subtotal_cents": sum(line.unit_price_cents * line.quantity for line in by_kind[LineKind.PRODUCT]),
        "shipping_cents": sum(line.unit_price_cents * line.quantity for line in by_kind[LineKind.SHIPPING]),
        "discounts": by_kind[LineKind.DISCOUNT],
        "delivery": order.delivery_address,
        "invoice": order.invoice_address,
        "method": _(method),
        "locale": order.locale,
        # Authorized: the provider holds the money (an invoice, a card charged on shipping).
        "paid": PaymentStatus(payment.status) == PaymentStatus.PAID,
    }


def confirmation_mail(session: Session, order: Order, payment: Payment, method: str) -> OutboxMessage:
    # In the order's language, whoever's callback got it paid.
    with use_locale(order.locale):
        context = confirmation_context(session, order, payment, method)
        return OutboxMessage(order_id=order.id, recipient=order.email,
                             subject=_("Your order %(number)s is confirmed") % {"number": order.number},
                             body=_TEXT.get_template("mail/confirmation.txt").render(context),
                             html_body=_HTML.get_template("mail/confirmation.html").render(context))

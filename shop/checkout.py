"""The checkout: customer details, addresses, the payment method; then the frozen order."""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from dataclasses import asdict, dataclass
from datetime import date, timedelta

from sqlalchemy import bindparam, delete, text, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, select
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from shop import stock
from shop.cart import cart_hash_of, cart_id, items_of, priced_lines
from shop.countries import COUNTRIES
from shop.db import locked_session
from shop.i18n import N_, country_name, current_locale
from shop.i18n import gettext as _
from shop.models import Cart, Order, OrderLine, Payment, PaymentEvent, Product, utcnow
from shop.orders import failed_field_errors, grant_access, next_step_response
from shop.payments.contract import Address, Channel, Customer, LineKind, OrderSnapshot, PaymentStatus
from shop.pricing import basket_lines, total_of
from shop.security import checked_form
from shop.web import flash, render, start_context

log = logging.getLogger(__name__)
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[A-Za-z]{2,}$")
PHONE = re.compile(r"^\+?[0-9 ()-]{6,20}$")
POSTAL = re.compile(r"^[A-Za-z0-9 -]{3,10}$")
ADDRESS_FIELDS = ("given_names", "surname", "line1", "line2", "postal_code", "city", "country_code", "company")


class CheckoutForm:
    """The posted checkout form, cleaned, with one message per field that is wrong."""

    def __init__(self, form) -> None:
        self.raw = {k: str(v).strip() for k, v in form.items() if isinstance(v, str)}
        self.errors: dict[str, str] = {}
        self.same_invoice = self.raw.get("invoice_same", "") == "on" or "invoice_line1" not in self.raw
        self._validate()

    def get(self, name: str) -> str:
        return self.raw.get(name, "")

    def _need(self, name: str, missing: str, too_long: str, max_length: int = 80) -> str:
        """The field's value, or a message: ``missing`` and ``too_long`` are whole sentences,
        as translations need them (a label spliced into a sentence does not translate)."""
        value = self.get(name)
        if not value:
            self.errors[name] = _(missing)
        elif len(value) > max_length:
            self.errors[name] = _(too_long) % {"max": max_length}
        return value

    def _address(self, prefix: str) -> None:
        self._need(f"{prefix}given_names", N_("Please enter the first name."),
                   N_("The first name is too long (at most %(max)s characters)."))
        self._need(f"{prefix}surname", N_("Please enter the last name."),
                   N_("The last name is too long (at most %(max)s characters)."))
        self._need(f"{prefix}line1", N_("Please enter the street and number."),
                   N_("The street and number is too long (at most %(max)s characters)."), 120)
        self._need(f"{prefix}city", N_("Please enter the city."),
                   N_("The city is too long (at most %(max)s characters)."))
        postal = self._need(f"{prefix}postal_code", N_("Please enter the postcode."),
                            N_("The postcode is too long (at most %(max)s characters)."), 10)
        if postal and not POSTAL.match(postal):
            self.errors[f"{prefix}postal_code"] = _("This postcode does not look right.")
        if self.get(f"{prefix}country_code") not in COUNTRIES:
            self.errors[f"{prefix}country_code"] = _("Please choose a country we deliver to.")

    def _validate(self) -> None:
        email = self._need("email", N_("Please enter your e-mail address."),
                           N_("Your e-mail address is too long (at most %(max)s characters)."), 254)
        if email and not EMAIL.match(email):
            self.errors["email"] = _("This e-mail address does not look right (name@example.com).")
        phone = self._need("phone", N_("Please enter a phone number."),
                           N_("A phone number is too long (at most %(max)s characters)."), 20)
        if phone and not PHONE.match(phone):
            self.errors["phone"] = _("Use digits, spaces and an optional leading +.")
        birth = self.get("date_of_birth")
        if birth:
            try:
                born = date.fromisoformat(birth)
                if not date(1900, 1, 1) < born < date.today() - timedelta(days=365 * 18):
                    self.errors["date_of_birth"] = _("You must be at least 18 years old.")
            except ValueError:
                self.errors["date_of_birth"] = _("Use the form YYYY-MM-DD.")
        self._address("")
        if not self.same_invoice:
            self._address("invoice_")
        if ":" not in self.get("method"):
            self.errors["method"] = _("Please choose how to pay.")

    def details(self) -> OrderDetails:
        customer = Customer(email=self.get("email"), given_names=self.get("given_names"),
                            surname=self.get("surname"), phone=self.get("phone"),
                            date_of_birth=self.get("date_of_birth"))
        return OrderDetails(customer, self.address(), self.address("invoice_"))

    def address(self, prefix: str = "") -> Address:
        if prefix == "invoice_" and self.same_invoice:
            prefix = ""
        values = {name: self.get(f"{prefix}{name}") for name in ADDRESS_FIELDS}
        return Address(**values, phone=self.get("phone"))

    @property
    def method(self) -> tuple[str, str]:
        plugin_id, _colon, option = self.get("method").partition(":")
        return plugin_id, option


DEFAULT_COUNTRY = "DE"  # the country the checkout form starts with


def draft_of(lines, delivery_country: str = "", invoice_country: str = "") -> OrderSnapshot:
    """An order not placed yet, enough for plugins to say what they offer for it: its lines
    and, once the shopper has chosen them, the countries it goes to ("" while unknown)."""
    delivery = Address("", "", "", "", "", delivery_country)
    invoice = Address("", "", "", "", "", invoice_country or delivery_country)
    customer = Customer("", "", "", language=current_locale())  # offers in the language they are shown in
    return OrderSnapshot("draft", tuple(lines), customer, delivery, invoice, "", utcnow())


def countries_chosen(values) -> tuple[str, str]:
    """(delivery, invoice) countries as the checkout form has them now; the invoice goes to the
    delivery country unless the shopper gave another invoice address."""
    delivery = values.get("country_code") or DEFAULT_COUNTRY
    separate = values.get("invoice_same", "") != "on" and values.get("invoice_country_code")
    return delivery, (values.get("invoice_country_code") if separate else delivery)


async def options_for_form(request: Request, lines, values) -> list:
    return await request.app.state.plugins.options_for(draft_of(lines, *countries_chosen(values)))


async def show_checkout(request: Request, form: CheckoutForm | None = None, status_code: int = 200,
                        error: str = "") -> Response:
    settings = request.app.state.settings
    lines = await request.app.state.db.run(_priced_cart, request.app.state.db, cart_id(request), settings)
    if not lines:
        flash(request, _("Your cart is empty: add something first."))
        return RedirectResponse("/", status_code=303)
    values = form.raw if form else request.session.get("checkout_details", {})
    options = await options_for_form(request, lines, values)
    return await render(request, "checkout.html", {
        "lines": lines, "total": total_of(lines, settings.currency), "options": options,
        "count": sum(line.quantity for line in lines if line.kind == LineKind.PRODUCT),
        "countries": {code: country_name(code) for code in COUNTRIES},
        "values": values, "errors": form.errors if form else {}, "error": error,
        "same_invoice": form.same_invoice if form else values.get("invoice_same", "on") == "on"},
        status_code=status_code)


async def checkout_options(request: Request) -> Response:
    """The payment methods for the countries now chosen: swapped in by htmx when the shopper
    changes a country, so that what cannot succeed shows disabled before "Place order"."""
    state = request.app.state
    lines = await state.db.run(_priced_cart, state.db, cart_id(request), state.settings)
    values = dict(request.query_params)
    options = await options_for_form(request, lines, values) if lines else []
    return state.templates.TemplateResponse(request, "_payment_options.html", {
        "options": options, "values": values, "errors": {}}, headers={"Cache-Control": "no-store"})


def unavailable_choice(options, plugin_id: str, option_id: str) -> str:
    """Why the chosen method cannot be used for this order, or "" when it can."""
    chosen = next((o for o in options if (o.plugin_id, o.option_id) == (plugin_id, option_id)), None)
    if chosen is None:
        return _("Please choose one of the payment methods shown.")
    return chosen.unavailable


def _priced_cart(db, cart: str | None, settings) -> tuple:
    return priced_lines(db.engine, cart, settings)


@dataclass(frozen=True)
class OrderDetails:
    """Who the order is for and where it goes: all an order needs besides its items."""

    customer: Customer
    delivery: Address
    invoice: Address


def place_order(session: Session, settings, items: list[tuple[Product, int]], details: OrderDetails, *,
                cart: str | None = None, discount_code: str = "", channel: Channel = Channel.ONLINE) -> Order:
    """Freeze items into an order and hold their stock; raise ValueError with a sentence if it cannot.

    Used by the checkout (items from the shopper's cart) and by plugin routes that take orders
    elsewhere (SEQR Instant Checkout, SeQura's call centre)."""
    if not items:
        raise ValueError(_("Your cart is empty."))
    lines = basket_lines(items, discount_code, settings.shipping_fee_cents, settings.free_shipping_from_cents)
    _cancel_abandoned_orders(session, cart)
    _hold_stock(session, items)  # held for this order until it is paid or expires
    order = Order(number=_next_number(session), public_id=secrets.token_urlsafe(16), cart_id=cart,
                  cart_hash=cart_hash_of(session, cart) if cart else _items_hash(items), channel=channel,
                  currency=settings.currency, locale=current_locale(), total_cents=total_of(lines, settings.currency).minor,
                  email=details.customer.email, given_names=details.customer.given_names,
                  surname=details.customer.surname, phone=details.customer.phone,
                  date_of_birth=details.customer.date_of_birth, delivery_address=asdict(details.delivery),
                  invoice_address=asdict(details.invoice),
                  expires_at=utcnow() + timedelta(seconds=settings.order_expiry_seconds))
    session.add(order)
    session.flush()
    by_sku = {product.sku: product for product, _ in items}
    for line in lines:
        product = by_sku.get(line.reference) if line.kind == LineKind.PRODUCT else None
        session.add(OrderLine(order_id=order.id, kind=line.kind, reference=line.reference, name=line.name,
                              quantity=line.quantity, unit_price_cents=line.unit_price.minor,
                              tax_rate=str(line.tax_rate), product_id=product.id if product else None))
    return order


def _hold_stock(session: Session, items: list[tuple[Product, int]]) -> None:
    """Take the items off the shelf, all or none: a shortage raises, and the caller's rollback
    puts back what was taken before it."""
    quantities: dict[int, int] = {}
    for product, quantity in items:
        quantities[product.id] = quantities.get(product.id, 0) + quantity
    short = stock.hold(session, quantities)
    if short is not None:
        name = next(product.name for product, _ in items if product.id == short)
        raise ValueError(_("Only %(count)s of %(product)s left in stock: please change your cart.")
                         % {"count": stock.left(session, short), "product": name})


def _items_hash(items: list[tuple[Product, int]]) -> str:
    return hashlib.sha256("|".join(sorted(f"{p.sku}:{q}:{p.price_cents}" for p, q in items)).encode()).hexdigest()


def _cancel_abandoned_orders(session: Session, cart: str | None) -> None:
    """A shopper checking out the same cart again gives up the earlier unpaid orders whose
    attempts have all ended; their stock goes back first."""
    if not cart:
        return
    for order in session.exec(select(Order).where(Order.cart_id == cart, Order.status == "awaiting_payment")):
        statuses = session.exec(select(Payment.status).where(Payment.order_id == order.id)).all()
        if any(s in (PaymentStatus.PENDING, PaymentStatus.AUTHORIZED, PaymentStatus.PAID) for s in statuses):
            continue
        # Only if it is still unpaid: money may have moved it on since it was read.
        if session.execute(_CANCEL_IF_UNPAID, {"order_id": order.id}).rowcount == 1:
            set_committed_value(order, "status", "cancelled")
            stock.release(session, order)
    session.flush()


_order = Order.__table__
_CANCEL_IF_UNPAID = update(_order).where(_order.c.id == bindparam("order_id"),
                                         _order.c.status == "awaiting_payment").values(status="cancelled")
# The year's counter, created by its first order and counted up in one statement. Its row stays
# locked until the order is committed: a rolled-back checkout gives its number back.
_NEXT_NUMBER = text("INSERT INTO ordernumbercounter (year, last_number) VALUES (:year, 1) ON CONFLICT (year) "
                    "DO UPDATE SET last_number = ordernumbercounter.last_number + 1 RETURNING last_number")


def _next_number(session: Session) -> str:
    year = utcnow().year
    number = session.execute(_NEXT_NUMBER, {"year": year}).scalar_one()
    return f"CW{year}-{number:05d}"


async def submit_checkout(request: Request) -> Response:
    form = CheckoutForm(await checked_form(request))
    state = request.app.state
    if form.get("action") == "update-options":  # without JS: the methods for the countries typed in
        form.errors.clear()
        return await show_checkout(request, form)
    plugin_id, option = form.method
    if plugin_id and plugin_id not in state.plugins:
        form.errors["method"] = _("Please choose one of the payment methods shown.")
    elif "method" not in form.errors:
        # Checked again here: the page may be older than the cart, or posted without JS.
        lines = await state.db.run(_priced_cart, state.db, cart_id(request), state.settings)
        if reason := unavailable_choice(await options_for_form(request, lines, form.raw), plugin_id, option):
            form.errors["method"] = reason
    if form.errors:
        return await show_checkout(request, form, status_code=422)
    request.session["checkout_details"] = {k: v for k, v in form.raw.items() if k not in ("csrf_token", "method")}
    try:
        order = await state.db.write(_order_from_cart, state, cart_id(request), form.details())
    except ValueError as exc:  # its transaction is rolled back: nothing was held
        return await show_checkout(request, form, status_code=409, error=str(exc))
    grant_access(request, order)
    payment, started, error = await state.attempts.start(order.id, plugin_id, option, start_context(request))
    field_errors = await state.db.run(failed_field_errors, state, payment) if started is None else {}
    if field_errors:
        # The provider refused some of the details: the shopper corrects them on the form, so
        # the order made for this attempt goes (and its stock back on the shelf) rather than
        # stay in the back office as a cancelled order nobody placed.
        await state.db.write(discard_refused_order, state.engine, order.id)
        for name, message in field_errors.items():
            # An invoice address that is the delivery address is typed in the delivery fields.
            field = name.removeprefix("invoice_") if form.same_invoice else name
            form.errors.setdefault(field, message)
        return await show_checkout(request, form, status_code=422)
    return next_step_response(request, order, started, error)


def discard_refused_order(engine, order_id: int) -> bool:
    """Remove an order whose only attempts the provider refused before any money could move,
    with its lines, attempts and their events, and put its stock back. False (and nothing
    changes) if it moved on meanwhile."""
    with locked_session(engine) as session:
        query = select(Order).where(Order.id == order_id)
        if engine.dialect.name == "postgresql":
            query = query.with_for_update()
        order = session.exec(query).one()
        statuses = session.exec(select(Payment.status).where(Payment.order_id == order_id)).all()
        if order.status != "awaiting_payment" or any(s != PaymentStatus.FAILED for s in statuses):
            return False
        stock.release(session, order)
        payment_ids = select(Payment.id).where(Payment.order_id == order_id)
        session.execute(delete(PaymentEvent).where(
            (PaymentEvent.order_id == order_id) | PaymentEvent.payment_id.in_(payment_ids)))
        session.execute(delete(Payment).where(Payment.order_id == order_id))
        session.execute(delete(OrderLine).where(OrderLine.order_id == order_id))
        session.execute(delete(Order).where(Order.id == order_id))
        session.commit()
    log.info("order %s discarded: the provider refused its details at the checkout", order.number)
    return True


def _order_from_cart(state, cart: str | None, details: OrderDetails) -> Order:
    with state.db() as session:
        row = session.get(Cart, cart) if cart else None
        order = place_order(session, state.settings, items_of(session, cart), details, cart=cart,
                            discount_code=row.discount_code if row else "")
        session.commit()
    return order


routes = [
    Route("/checkout", show_checkout, name="checkout"),
    Route("/checkout/options", checkout_options, name="checkout_options"),
    Route("/checkout", submit_checkout, methods=["POST"], name="checkout_submit"),
]



def order_problem(session: Session, order: Order) -> str:
    """Why an order no longer matches the cart and the stock it was made from, or ""."""
    if order.cart_id and items_of(session, order.cart_id) and cart_hash_of(session, order.cart_id) != order.cart_hash:
        return "the cart was changed"
    if not order.stock_held:
        for line in session.exec(select(OrderLine).where(OrderLine.order_id == order.id,
                                                         OrderLine.product_id.is_not(None))):
            product = session.get(Product, line.product_id)
            if product.stock < line.quantity:
                return f"{product.name} is no longer in stock"
    return ""

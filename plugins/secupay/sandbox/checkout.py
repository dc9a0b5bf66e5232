"""The hosted Smart Checkout: method choice, card (with 3-D Secure), SEPA debit, prepaid,
invoice and a PayPal-like page, ending on the shop's return URLs."""

from __future__ import annotations

import io
from pathlib import Path

import qrcode
import qrcode.image.svg
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from . import ids
from . import instruments as ins
from .api import own_base, state
from .errors import ApiError
from .state import MERCHANT, Stx

templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))

TEXT = {
    "en": {"choose": "Choose how to pay", "creditcard": "Credit card", "debit": "SEPA direct debit",
           "paypal": "PayPal", "prepaid": "Prepayment (bank transfer)", "invoice": "Invoice",
           "holder": "Card holder", "card_number": "Card number", "expiry": "Expiry (MM/YY)",
           "owner": "Account holder", "bank": "Bank", "purpose": "Purpose", "amount": "Amount",
           "mandate": "I authorise secupay AG to collect this payment from my account by SEPA direct debit.",
           "pay_now": "Pay now", "abort": "Cancel payment and return to the shop", "order": "order",
           "other_method": "Choose another payment method", "back": "Back to the shop",
           "prepaid_text": "You will receive the bank details for your transfer on the next page.",
           "invoice_text": "Pay by bank transfer after you received your goods.",
           "paypal_text": "You will be taken to PayPal to approve the payment.", "to_paypal": "Continue to PayPal",
           "paid": "Payment successful", "authorised": "Payment authorised",
           "transfer": "Please transfer the amount", "invoice_done": "Purchase on account confirmed",
           "review": "Your payment is being checked", "declined": "The card was declined. Please use another card.",
           "3ds_failed": "The 3-D Secure check failed. Please try again or use another card.",
           "paypal_cancelled": "You cancelled the payment at PayPal.", "closed": "This payment is closed",
           "failed": "The payment failed", "rejected": "The payment was rejected",
           "your_details": "Your details", "salutation": "Salutation", "forename": "First name",
           "surname": "Last name", "street": "Street and number", "postal_code": "Postcode", "city": "City",
           "country": "Country (e.g. DE)", "continue": "Continue"},
    "de": {"choose": "Zahlungsart wählen", "creditcard": "Kreditkarte", "debit": "SEPA-Lastschrift",
           "paypal": "PayPal", "prepaid": "Vorkasse (Überweisung)", "invoice": "Kauf auf Rechnung",
           "holder": "Karteninhaber", "card_number": "Kartennummer", "expiry": "Gültig bis (MM/JJ)",
           "owner": "Kontoinhaber", "bank": "Bank", "purpose": "Verwendungszweck", "amount": "Betrag",
           "mandate": "Ich ermächtige die secupay AG, die Zahlung per SEPA-Lastschrift von meinem Konto einzuziehen.",
           "pay_now": "Jetzt zahlen", "abort": "Zahlung abbrechen und zurück zum Shop", "order": "Bestellung",
           "other_method": "Andere Zahlungsart wählen", "back": "Zurück zum Shop",
           "prepaid_text": "Die Bankverbindung für Ihre Überweisung erhalten Sie auf der nächsten Seite.",
           "invoice_text": "Sie zahlen per Überweisung, nachdem Sie die Ware erhalten haben.",
           "paypal_text": "Sie werden zu PayPal weitergeleitet, um die Zahlung freizugeben.",
           "to_paypal": "Weiter zu PayPal", "paid": "Zahlung erfolgreich", "authorised": "Zahlung autorisiert",
           "transfer": "Bitte überweisen Sie den Betrag", "invoice_done": "Kauf auf Rechnung bestätigt",
           "review": "Ihre Zahlung wird geprüft",
           "declined": "Die Karte wurde abgelehnt. Bitte verwenden Sie eine andere Karte.",
           "3ds_failed": "Die 3-D-Secure-Prüfung ist fehlgeschlagen. Bitte versuchen Sie es erneut.",
           "paypal_cancelled": "Sie haben die Zahlung bei PayPal abgebrochen.",
           "closed": "Diese Zahlung ist abgeschlossen",
           "failed": "Die Zahlung ist fehlgeschlagen", "rejected": "Die Zahlung wurde abgelehnt",
           "your_details": "Ihre Daten", "salutation": "Anrede", "forename": "Vorname", "surname": "Nachname",
           "street": "Straße, Hausnummer", "postal_code": "PLZ", "city": "Ort", "country": "Land (z. B. DE)",
           "continue": "Weiter"},
}
# Spellings of the method in the payment links (as in secuconnect's own example).
LINK_METHODS = {"prepay": "prepaid", "creditcard": "creditcard", "debit": "debit", "paypal": "paypal",
                "invoice": "invoice", "prepaid": "prepaid"}


def money(minor: int, lang: str = "en") -> str:
    text = f"{minor / 100:,.2f}"
    return text.replace(",", " ").replace(".", ",").replace(" ", ".") if lang == "de" else text


def _context(request: Request, stx: Stx, **extra) -> dict:
    sandbox = state(request)
    base = own_base(request)
    link_for = sandbox.links(stx)

    def link(method: str | None) -> str:
        return link_for["general" if method is None else method]

    urls = stx.return_urls
    return {
        "lang": stx.language, "t": TEXT[stx.language], "stx": stx, "base": base, "link": link,
        "money": lambda minor: money(minor, stx.language),
        "merchant": MERCHANT["companyname"], "amount": f"{money(stx.amount, stx.language)} {stx.currency}",
        "ref": stx.request.get("merchantRef"), "products": (stx.request.get("basket") or {}).get("products"),
        "methods": stx.methods, "abort_url": urls.get("url_abort") or urls.get("url_error"),
        "form": {}, "errors": {}, "note": "", "general": True,
        "cards": ins.TEST_CARDS, "ibans": ins.TEST_IBANS, **extra,
    }


def _stx(request: Request, stx_id: str | None) -> Stx | None:
    return state(request).stx.get(stx_id or "")


def _closed(request: Request, stx: Stx) -> Response:
    t = TEXT[stx.language]
    urls = stx.return_urls
    if stx.status in ("failed", "cancelled"):
        return _result(request, stx, t["failed"] if stx.status == "failed" else t["closed"], urls.get("url_error"))
    return _result(request, stx, t["closed"], urls.get("url_success"))


def _result(request: Request, stx: Stx, headline: str, back_url: str | None, text: str = "",
            instructions: dict | None = None, status_code: int = 200) -> Response:
    return templates.TemplateResponse(request, "result.html", _context(
        request, stx, headline=headline, back_url=back_url, text=text, instructions=instructions),
        status_code=status_code)


async def checkout(request: Request) -> Response:
    params = request.query_params
    stx = _stx(request, params.get("stx"))
    if stx is None:
        return Response("Unknown smart transaction", status_code=404, media_type="text/plain")
    if stx.status != "created":
        return _closed(request, stx)
    chosen = params.get("payment-method") or params.get("initPaymentMethod") or params.get("paymentMethod")
    method = LINK_METHODS.get(chosen or "")
    if chosen and method not in stx.methods:
        return Response(f"Payment method {chosen} is not available", status_code=404, media_type="text/plain")
    if missing_customer(stx, method):
        return templates.TemplateResponse(request, "checkout.html", _context(
            request, stx, step="customer", form=_contact(stx), next_method=chosen or ""))
    step = method or ("methods" if len(stx.methods) != 1 else stx.methods[0])
    return templates.TemplateResponse(request, "checkout.html", _context(request, stx, step=step, note=stx.note))


CUSTOMER_FIELDS = ("email", "forename", "surname", "street", "postal_code", "city", "country")
ADDRESS_FIELDS = ("street", "postal_code", "city", "country")


def _contact(stx: Stx) -> dict:
    contact = dict(((stx.request.get("customer") or {}).get("contact")) or {})
    address = contact.pop("address", None) or {}
    street = " ".join(p for p in (address.get("street"), address.get("street_number")) if p)
    return {**contact, **{k: address.get(k) for k in ADDRESS_FIELDS}, "street": street or None}


def missing_customer(stx: Stx, method: str | None) -> bool:
    """Smart Checkout asks for the customer when the shop sent none (or too little of one).
    Debit and invoice also need the address (secupay scores them)."""
    contact = _contact(stx)
    if not all(contact.get(k) for k in ("email", "forename", "surname")):
        return True
    return method in ("debit", "invoice") and not all(contact.get(k) for k in ADDRESS_FIELDS)


async def customer(request: Request) -> Response:
    stx = _stx(request, request.path_params["stx"])
    if stx is None:
        return Response("Unknown smart transaction", status_code=404, media_type="text/plain")
    if stx.status != "created":
        return _closed(request, stx)
    form = {k: str(v).strip() for k, v in (await request.form()).items()}
    locked = bool(((stx.request.get("application_context") or {}).get("locks") or {}).get("customer"))
    known = _contact(stx)
    if locked:  # locked data must not be changed in the checkout
        form.update({k: v for k, v in known.items() if v and k in CUSTOMER_FIELDS})
    errors = {k: "Required." for k in CUSTOMER_FIELDS if not form.get(k)}
    if form.get("email") and "@" not in form["email"]:
        errors["email"] = "Please enter a valid e-mail address."
    if form.get("country") and len(form["country"]) != 2:
        errors["country"] = "Use a two-letter country code such as DE."
    if errors:
        return templates.TemplateResponse(request, "checkout.html", _context(
            request, stx, step="customer", form=form, errors=errors, next_method=form.get("next", "")),
            status_code=422)
    street, _, number = form["street"].rpartition(" ")
    if not street or not any(c.isdigit() for c in number):
        street, number = form["street"], ""
    holder = stx.request.setdefault("customer", {})
    contact = holder.setdefault("contact", {})
    contact.update({k: form[k] for k in ("email", "forename", "surname")})
    if form.get("salutation"):
        contact["salutation"] = form["salutation"]
    contact["address"] = {**(contact.get("address") or {}), "street": street, "street_number": number,
                          "postal_code": form["postal_code"], "city": form["city"], "country": form["country"].upper()}
    stx.updated = ids.now()
    link = state(request).links(stx)
    target = LINK_METHODS.get(form.get("next", ""))
    return RedirectResponse(link[target] if target in link else link["general"], status_code=303)


def _form_page(request: Request, stx: Stx, step: str, form: dict, errors: dict, note: str = "") -> Response:
    return templates.TemplateResponse(request, "checkout.html", _context(
        request, stx, step=step, form=form, errors=errors, note=note), status_code=422 if errors else 200)


def _after_payment(request: Request, stx: Stx) -> Response:
    """The end of the checkout: a result page, or the error URL when the payment failed."""
    t = TEXT[stx.language]
    urls = stx.return_urls
    if stx.status == "failed":
        if urls.get("url_error"):
            return RedirectResponse(urls["url_error"], status_code=303)
        return _result(request, stx, t["rejected"], None)
    if stx.payment_method == "prepaid":
        return _result(request, stx, t["transfer"], urls.get("url_success"), instructions=stx.payment_instructions)
    if stx.payment_method == "invoice":
        return _result(request, stx, t["invoice_done"], urls.get("url_success"), instructions=stx.payment_instructions)
    if stx.status == "pending":
        return _result(request, stx, t["review"], urls.get("url_success"))
    return _result(request, stx, t["paid"] if stx.status == "ok" else t["authorised"], urls.get("url_success"))


async def pay(request: Request) -> Response:
    stx = _stx(request, request.path_params["stx"])
    method = request.path_params["method"]
    if stx is None:
        return Response("Unknown smart transaction", status_code=404, media_type="text/plain")
    if stx.status != "created":
        return _closed(request, stx)
    if method not in stx.methods:
        return Response(f"Payment method {method} is not available", status_code=404, media_type="text/plain")
    if missing_customer(stx, method):
        return RedirectResponse(state(request).links(stx)[method], status_code=303)
    sandbox = state(request)
    form = dict(await request.form())
    t = TEXT[stx.language]
    if method == "creditcard":
        number = ins.digits(form.get("number", ""))
        shown = {"holder": form.get("holder", ""), "number": form.get("number", ""), "expiry": form.get("expiry", "")}
        errors = ins.card_errors(form.get("holder", ""), number, form.get("expiry", ""), form.get("cvc", ""))
        if errors:
            return _form_page(request, stx, method, shown, errors)
        card = {"owner": form["holder"].strip(), "pan": f"{number[:6]}{'X' * (len(number) - 10)}{number[-4:]}",
                "expiration_date": form["expiry"].strip(), "brand": ins.card_brand(number)}
        if number.endswith(ins.DECLINE_SUFFIX):
            return _form_page(request, stx, method, shown, {}, note=t["declined"])
        if number.endswith(ins.ERROR_SUFFIX):
            sandbox.fail(stx, "card processing error")
            return _after_payment(request, stx)
        if number.endswith(ins.CHALLENGE_SUFFIX):
            state(request).pending_cards[stx.id] = card
            return RedirectResponse(f"{own_base(request)}/checkout/{stx.id}/3ds", status_code=303)
        return _pay_card(request, stx, card)
    if method == "debit":
        shown = {"owner": form.get("owner", ""), "iban": form.get("iban", ""), "mandate": bool(form.get("mandate"))}
        errors = ins.debit_errors(shown["owner"], shown["iban"], shown["mandate"])
        if errors:
            return _form_page(request, stx, method, shown, errors)
        iban = ins.digits(shown["iban"]).upper()
        sandbox.pay(stx, "debit", container={"type": "bank_account", "private": {
            "owner": shown["owner"].strip(), "iban": ins.mask_iban(iban)}},
            payment_data={"owner": shown["owner"].strip(), "iban": ins.mask_iban(iban)})
        return _after_payment(request, stx)
    if method == "paypal":
        return RedirectResponse(f"{own_base(request)}/checkout/{stx.id}/paypal", status_code=303)
    sandbox.pay(stx, method)  # prepaid, invoice
    return _after_payment(request, stx)


def _pay_card(request: Request, stx: Stx, card: dict) -> Response:
    state(request).pay(stx, "creditcard", container={"type": "credit_card", "private": card},
                       payment_data={"pan": card["pan"], "owner": card["owner"]})
    return _after_payment(request, stx)


async def three_ds(request: Request) -> Response:
    stx = _stx(request, request.path_params["stx"])
    if stx is None:
        return Response("Unknown smart transaction", status_code=404, media_type="text/plain")
    if stx.status != "created":
        return _closed(request, stx)
    card = state(request).pending_cards.get(stx.id)
    if card is None:
        return RedirectResponse(state(request).links(stx)["creditcard"], status_code=303)
    if request.method == "GET":
        return templates.TemplateResponse(request, "external.html", _context(
            request, stx, step="3ds", masked=card["pan"]))
    form = await request.form()
    state(request).pending_cards.pop(stx.id, None)
    if form.get("action") == "confirm" and form.get("code", "").strip() == ins.THREE_DS_CODE:
        return _pay_card(request, stx, card)
    stx.note = TEXT[stx.language]["3ds_failed"]
    return RedirectResponse(state(request).links(stx)["creditcard"], status_code=303)


async def paypal(request: Request) -> Response:
    stx = _stx(request, request.path_params["stx"])
    if stx is None:
        return Response("Unknown smart transaction", status_code=404, media_type="text/plain")
    if stx.status != "created":
        return _closed(request, stx)
    if request.method == "GET":
        return templates.TemplateResponse(request, "external.html", _context(request, stx, step="paypal"))
    action = (await request.form()).get("action")
    sandbox = state(request)
    if action == "approve":
        sandbox.pay(stx, "paypal", payment_data={"payer": "buyer@example.org"})
        return _after_payment(request, stx)
    if action == "deny":
        sandbox.fail(stx, "declined by PayPal")
        return _after_payment(request, stx)
    stx.note = TEXT[stx.language]["paypal_cancelled"]
    return RedirectResponse(sandbox.links(stx)["general"], status_code=303)


async def abort(request: Request) -> Response:
    stx = _stx(request, request.path_params["stx"])
    if stx is None:
        return Response("Unknown smart transaction", status_code=404, media_type="text/plain")
    urls = stx.return_urls
    # An abandoned checkout leaves the transaction "created"; the shop decides what it means.
    target = urls.get("url_abort") or urls.get("url_error")
    if not target:
        return Response("This checkout offers no way back to the shop.", media_type="text/plain")
    return RedirectResponse(target, status_code=303)


async def girocode(request: Request) -> Response:
    stx = _stx(request, request.query_params.get("stx"))
    if stx is None or not stx.payment_instructions:
        return ApiError(404, "ProductNotFoundException", "no payment instructions", 1002).response()
    pci = state(request).pci[stx.pci_id]
    data = stx.payment_instructions
    payload = "\n".join(["BCD", "002", "1", "SCT", data["bic"], data["owner"][:70], data["iban"],
                         f"EUR{(pci.amount - pci.reduced) / 100:.2f}", "", "", data["purpose"][:140]])
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, image_factory=qrcode.image.svg.SvgPathImage)
    qr.add_data(payload)
    out = io.BytesIO()
    qr.make_image().save(out)
    # secuconnect's format is undocumented (probably PNG); the sandbox answers SVG, needing no imaging library.
    return Response(out.getvalue(), media_type="image/svg+xml")


def routes() -> list[Route]:
    return [
        Route("/checkout", checkout, methods=["GET"]),
        Route("/checkout/{stx}/customer", customer, methods=["POST"]),
        Route("/checkout/{stx}/pay/{method}", pay, methods=["POST"]),
        Route("/checkout/{stx}/3ds", three_ds, methods=["GET", "POST"]),
        Route("/checkout/{stx}/paypal", paypal, methods=["GET", "POST"]),
        Route("/checkout/{stx}/abort", abort, methods=["GET"]),
        Route("/qr/epc", girocode, methods=["GET"]),
    ]

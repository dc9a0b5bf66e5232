"""SOAP 1.1 on the wire for the SEQR sandbox: read request envelopes, write CXF-shaped answers.

Requests are read by element name (children unqualified, wrapper in SEQR's namespace), so both
the 2013 WSDL's and the v2.6 element orders are accepted. Answers follow the schema order, omit
what is null, always carry the primitives, and use HTTP 200 with a resultCode for every business
error; a SOAP fault (HTTP 500, soap:Client) is only for input that cannot be read at all.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from lxml import etree

from .. import codes
from .state import PAID, Invoice, SeqrSandbox

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
NS = "http://external.interfaces.ers.seamless.com/"
ENUMS = {
    "paymentMode": {"IMMEDIATE_DEBIT", "RESERVATION_DESIRED", "RESERVATION_REQUIRED",
                    "RESERVATION_REQUIRED_PRELIMINARY_AMOUNT"},
    "acknowledgmentMode": {"NO_ACKNOWLEDGMENT", "OPTIONAL_ACKNOWLEDGMENT", "REQUIRE_ACKNOWLEDGMENT"},
}
REPORTING = ("TERMINALID", "RESELLERUSER")

Fields = list[tuple[str, Any]]  # an element's children in order; a value that is a list nests


class Malformed(Exception):
    """Input a CXF server could not unmarshal: answered with a soap:Client fault."""


# --------------------------------------------------------------------------- reading


def parse_envelope(body: bytes) -> tuple[str, etree._Element]:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        root = etree.fromstring(body, parser)
    except etree.XMLSyntaxError as exc:
        raise Malformed(f"Unmarshalling Error: {exc}") from None
    if root.tag != f"{{{SOAP_ENV}}}Envelope":
        raise Malformed(f"Unmarshalling Error: expected a SOAP 1.1 Envelope, found {root.tag}")
    body_el = root.find(f"{{{SOAP_ENV}}}Body")
    wrappers = [c for c in (body_el if body_el is not None else []) if isinstance(c.tag, str)]
    if not wrappers:
        raise Malformed("Unmarshalling Error: the SOAP Body is empty")
    name = etree.QName(wrappers[0])
    if name.namespace != NS:
        raise Malformed(f"Unexpected wrapper element {{{name.namespace}}}{name.localname} found.")
    return name.localname, wrappers[0]


def _children(el: etree._Element | None, name: str) -> list[etree._Element]:
    if el is None:
        return []
    return [c for c in el if isinstance(c.tag, str) and c.tag == name]  # unqualified only


def _child(el: etree._Element | None, name: str) -> etree._Element | None:
    found = _children(el, name)
    return found[0] if found else None


def _text(el: etree._Element | None, name: str) -> str | None:
    c = _child(el, name)
    return None if c is None else (c.text or "")


def _int(el: etree._Element | None, name: str) -> int | None:
    raw = _text(el, name)
    if raw is None:
        return None
    try:
        return int(raw.strip())
    except ValueError:
        raise Malformed(f"Unmarshalling Error: Not a number: {raw}") from None


def _decimal(el: etree._Element | None, name: str) -> Decimal | None:
    raw = _text(el, name)
    if raw is None:
        return None
    try:
        value = Decimal(raw.strip())
    except InvalidOperation:
        raise Malformed(f"Unmarshalling Error: Not a decimal: {raw}") from None
    if not value.is_finite():
        raise Malformed(f"Unmarshalling Error: Not a decimal: {raw}")
    return value


def _enum(el: etree._Element | None, name: str) -> str | None:
    raw = _text(el, name)
    if raw is not None and raw not in ENUMS[name]:
        raise Malformed(f"Unmarshalling Error: No enum constant {name}.{raw}")
    return raw


def _amount(el: etree._Element | None) -> tuple[Decimal | None, str | None]:
    return _decimal(el, "value"), _text(el, "currency")


def _optional_amount(el: etree._Element | None) -> tuple[Decimal | None, str | None] | None:
    return None if el is None else _amount(el)


def context_from(wrapper: etree._Element) -> dict[str, Any] | None:
    ctx = _child(wrapper, "context")
    if ctx is None:
        return None
    _int(ctx, "clientRequestTimeout")  # only checked for being a number
    principal = _child(ctx, "initiatorPrincipalId")
    return {
        "initiatorPrincipalId": None if principal is None else {
            "id": _text(principal, "id"), "type": _text(principal, "type"), "userId": _text(principal, "userId")},
        "password": _text(ctx, "password"),
        "clientId": _text(ctx, "clientId"),
        "clientReference": _text(ctx, "clientReference"),
    }


def invoice_from(el: etree._Element | None) -> dict[str, Any]:
    if el is None:
        return {}
    rows = []
    for row in _children(_child(el, "invoiceRows"), "invoiceRow"):
        total, currency = _amount(_child(row, "itemTotalAmount"))
        rows.append({
            "description": _text(row, "itemDescription"),
            "discount": _optional_amount(_child(row, "itemDiscount")),
            "ean": _text(row, "itemEAN"),
            "quantity": _decimal(row, "itemQuantity"),
            "sku": _text(row, "itemSKU"),
            "tax_rate": _decimal(row, "itemTaxRate"),
            "total": total,
            "currency": currency,
            "unit": _text(row, "itemUnit"),
            "unit_price": _optional_amount(_child(row, "itemUnitPrice")),
        })
    total, currency = _amount(_child(el, "totalAmount"))
    return {
        "payment_mode": _enum(el, "paymentMode"),
        "acknowledgment_mode": _enum(el, "acknowledgmentMode"),
        "issue_date": _text(el, "issueDate"),
        "title": _text(el, "title"),
        "client_invoice_id": _text(el, "clientInvoiceId"),
        "rows": rows,
        "total": total,
        "currency": currency,
        "cashier_id": _text(el, "cashierId"),
        "footer": _text(el, "footer"),
        "back_url": _text(el, "backURL"),
        "notification_url": _text(el, "notificationUrl"),
        "commit_reservation_timeout": _int(el, "commitReservationTimeout"),
    }


def parameters_from(wrapper: etree._Element) -> dict[str, str]:
    entries = _children(_child(_child(wrapper, "parameters"), "parameter"), "entry")
    return {(_text(e, "key") or ""): (_text(e, "value") or "") for e in entries}


# --------------------------------------------------------------------------- writing


def _number(value: Decimal) -> str:
    return format(value, "f")


def _build(parent: etree._Element, fields: Fields) -> None:
    for name, value in fields:
        if value is None:
            continue  # JAXB omits nulls
        child = etree.SubElement(parent, name)
        if isinstance(value, list):
            _build(child, value)
        elif isinstance(value, bool):
            child.text = "true" if value else "false"
        elif isinstance(value, Decimal):
            child.text = _number(value)
        else:
            child.text = str(value)


def envelope(operation: str, ret: Fields) -> bytes:
    env = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soap": SOAP_ENV})
    body = etree.SubElement(env, f"{{{SOAP_ENV}}}Body")
    wrapper = etree.SubElement(body, f"{{{NS}}}{operation}Response", nsmap={"ns2": NS})
    _build(wrapper, [("return", ret)])
    return etree.tostring(env, xml_declaration=True, encoding="UTF-8")


def fault(message: str, code: str = "soap:Client") -> bytes:
    env = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soap": SOAP_ENV})
    body = etree.SubElement(env, f"{{{SOAP_ENV}}}Body")
    f = etree.SubElement(body, f"{{{SOAP_ENV}}}Fault")
    etree.SubElement(f, "faultcode").text = code
    etree.SubElement(f, "faultstring").text = message
    return etree.tostring(env, xml_declaration=True, encoding="UTF-8")


def base(code: int, ers_reference: str | None = None) -> Fields:
    return [("ersReference", ers_reference), ("resultCode", code), ("resultDescription", codes.description(code))]


def amount_fields(value: Decimal | None, currency: str | None) -> Fields | None:
    if value is None and currency is None:
        return None
    return [("currency", currency), ("value", value)]


def invoice_fields(data: dict[str, Any]) -> Fields:
    rows = [("invoiceRow", [
        ("itemDescription", r["description"]),
        ("itemDiscount", amount_fields(*r["discount"]) if r["discount"] else None),
        ("itemEAN", r["ean"]),
        ("itemQuantity", r["quantity"]),
        ("itemSKU", r["sku"]),
        ("itemTaxRate", r["tax_rate"]),
        ("itemTotalAmount", amount_fields(r["total"], r["currency"])),
        ("itemUnit", r["unit"]),
        ("itemUnitPrice", amount_fields(*r["unit_price"]) if r["unit_price"] else None),
    ]) for r in data.get("rows") or []]
    return [
        ("paymentMode", data.get("payment_mode")),
        ("acknowledgmentMode", data.get("acknowledgment_mode")),
        ("issueDate", data.get("issue_date")),
        ("title", data.get("title")),
        ("clientInvoiceId", data.get("client_invoice_id")),
        ("invoiceRows", rows or None),
        ("totalAmount", amount_fields(data.get("total"), data.get("currency"))),
        ("cashierId", data.get("cashier_id")),
        ("footer", data.get("footer")),
        ("backURL", data.get("back_url")),
        ("notificationUrl", data.get("notification_url")),
        # only echoed when the merchant sent it: 2013-WSDL clients do not know the element
        ("commitReservationTimeout", data.get("commit_reservation_timeout")),
    ]


def _datetime(value) -> str | None:
    return value.isoformat(timespec="milliseconds") if value else None


def receipt_fields(sandbox: SeqrSandbox, inv: Invoice) -> Fields:
    terminal = sandbox.terminals.get(inv.terminal_id)
    return [
        ("terminalId", inv.terminal_id),
        ("paymentDate", _datetime(inv.confirmed_at)),
        ("clientInvoiceId", inv.data.get("client_invoice_id")),
        ("invoiceReference", inv.reference),
        ("paymentReference", inv.ers_reference),
        ("payerTerminalId", inv.payer_terminal_id or None),
        ("receiverName", terminal.name if terminal else None),
        ("invoice", invoice_fields(inv.data)),
    ]


# --------------------------------------------------------------------------- operations


def _send_invoice(sb: SeqrSandbox, principal, w) -> Fields:
    code, inv = sb.send_invoice(principal.terminal, invoice_from(_child(w, "invoice")))
    if inv is None:
        return base(code)
    return base(code) + [("invoiceQRCode", f"HTTP://SEQR.SE/R{inv.reference}"), ("invoiceReference", inv.reference)]


def _get_payment_status(sb: SeqrSandbox, principal, w) -> Fields:
    _int(w, "invoiceVersion")  # any version is accepted; most clients always send 0
    code, inv = sb.payment_status(principal.terminal, _text(w, "invoiceReference"))
    if inv is None:
        return base(code) + [("version", 0)]
    paid = inv.status == PAID
    return base(code, inv.ers_reference if paid else None) + [
        ("status", inv.status),
        ("receipt", receipt_fields(sb, inv) if paid else None),
        ("customerTokens", []),
        ("version", inv.version),
    ]


def _update_invoice(sb: SeqrSandbox, principal, w) -> Fields:
    return base(sb.update_invoice(principal.terminal, _text(w, "invoiceReference"),
                                  invoice_from(_child(w, "invoice"))))


def _cancel_invoice(sb: SeqrSandbox, principal, w) -> Fields:
    return base(sb.cancel_invoice(principal.terminal, _text(w, "invoiceReference")))


def _refund_payment(sb: SeqrSandbox, principal, w) -> Fields:
    code, ref = sb.refund(principal.terminal, _text(w, "ersReference"), invoice_from(_child(w, "invoice")))
    return base(code, ref)


def _commit_reservation(sb: SeqrSandbox, principal, w) -> Fields:
    amount_el = _child(w, "amount")  # v2.6 only
    amount = _amount(amount_el) if amount_el is not None else None
    return base(sb.commit_reservation(principal.terminal, _text(w, "invoiceReference"), amount))


def _submit_payment_receipt(sb: SeqrSandbox, principal, w) -> Fields:
    doc = _child(w, "receiptDocument")
    document = {"mimeType": _text(doc, "mimeType"), "receiptData": _text(doc, "receiptData"),
                "receiptType": _text(doc, "receiptType")}
    code, ref = sb.submit_receipt(principal.terminal, _text(w, "ersReference"), document)
    return base(code, ref)


def _mark_transaction_period(sb: SeqrSandbox, principal, w) -> Fields:
    code, period_id = sb.mark_period(principal, parameters_from(w))
    # The docs call the period id this operation's "ersReference": both carry it.
    return base(code, period_id) + [("transactionPeriodId", period_id)]


def _execute_report(sb: SeqrSandbox, principal, w) -> Fields:
    code, report = sb.execute_report(principal, _text(w, "reportId"), parameters_from(w))
    if report is None:
        return base(code)
    return base(code) + [("report", [(k, report[k]) for k in ("title", "mimeType", "content", "contentString")])]


def _register_terminal(sb: SeqrSandbox, principal, w) -> Fields:
    code, terminal_id = sb.register_terminal(principal, _text(w, "externalTerminalId"), _text(w, "password"),
                                             _text(w, "name"))
    return base(code) + [("terminalId", terminal_id)]


def _unregister_terminal(sb: SeqrSandbox, principal, w) -> Fields:
    return base(sb.unregister_terminal(principal.terminal))


def _assign_seqr_id(sb: SeqrSandbox, principal, w) -> Fields:
    return base(sb.assign_seqr_id(principal.terminal, _text(w, "seqrId")))


Handler = Callable[[SeqrSandbox, Any, etree._Element], Fields]

# operation -> (principal types allowed, handler, fields an auth failure adds after the base)
OPERATIONS: dict[str, tuple[tuple[str, ...], Handler, Fields]] = {
    "sendInvoice": (("TERMINALID",), _send_invoice, []),
    "getPaymentStatus": (("TERMINALID",), _get_payment_status, [("version", 0)]),
    "updateInvoice": (("TERMINALID",), _update_invoice, []),
    "cancelInvoice": (("TERMINALID",), _cancel_invoice, []),
    "refundPayment": (("TERMINALID",), _refund_payment, []),
    "commitReservation": (("TERMINALID",), _commit_reservation, []),
    "submitPaymentReceipt": (("TERMINALID",), _submit_payment_receipt, []),
    "markTransactionPeriod": (REPORTING, _mark_transaction_period, []),
    "executeReport": (REPORTING, _execute_report, []),
    "registerTerminal": (("RESELLERUSER",), _register_terminal, []),
    "unregisterTerminal": (("TERMINALID",), _unregister_terminal, []),
    "assignSeqrId": (("TERMINALID",), _assign_seqr_id, []),
}
NOT_FOR_MERCHANTS = {"confirmCustomerRegistration", "requestPrincipalInformation", "changePrincipalPassword",
                     "requestTopup", "requestTransfer", "requestPurchase"}


def handle(sb: SeqrSandbox, body: bytes) -> tuple[int, bytes, str]:
    """One SOAP request -> (HTTP status, body, operation name or "")."""
    try:
        operation, wrapper = parse_envelope(body)
        if operation == "getPaymentStatus" and sb.read_back_broken:  # the contract kit's broken read-back
            return 502, b"502 Bad Gateway", operation
        if operation == "benchmarkingNop":
            return 200, envelope(operation, base(codes.SUCCESS)), operation
        if operation in NOT_FOR_MERCHANTS:
            return 200, envelope(operation, base(codes.UNSUPPORTED_OPERATION)), operation
        if operation not in OPERATIONS:
            raise Malformed(f"Unexpected wrapper element {{{NS}}}{operation} found.")
        allowed, handler, on_error = OPERATIONS[operation]
        if sb.scenarios.soap == "busy":  # the control page's "SEQR is busy" (93) on every call
            return 200, envelope(operation, base(codes.SYSTEM_BUSY) + on_error), operation
        code, principal = sb.authenticate(context_from(wrapper), allowed)
        if principal is None:
            return 200, envelope(operation, base(code) + on_error), operation
        return 200, envelope(operation, handler(sb, principal, wrapper)), operation
    except Malformed as exc:
        return 500, fault(str(exc)), ""

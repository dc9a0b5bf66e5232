"""SEQR's merchant SOAP API over zeep's AsyncClient, on an httpx.AsyncClient the caller owns.

The WSDL is the project's own file, parsed once per process from disk (never fetched over HTTP),
and bound to the configured endpoint. Every answer's ``resultCode`` is checked here: 0 gives a typed
result, anything else a ``SeqrError`` (a ProviderError with plain words); faults, transport errors,
5xx answers, slow answers and SEQR's "busy"/"unavailable" codes give ``ProviderUnavailable``.
"""

from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import zeep
import zeep.exceptions
from lxml import etree
from zeep.proxy import AsyncServiceProxy
from zeep.transports import AsyncTransport
from zeep.wsdl import Document

from shop.money import Money
from shop.payments.contract import ProviderError, ProviderUnavailable

from . import codes

WSDL_PATH = Path(__file__).parent / "wsdl" / "seqr-merchant.wsdl"
NAMESPACE = "http://external.interfaces.ers.seamless.com/"

TERMINAL = "TERMINALID"
RESELLER = "RESELLERUSER"

# executeReport's report ids; the terminal ones need TERMINALID in the period and the report.
REPORT_IDS = (
    "Reconciliation/Shop.xml",  # merchant transactions, one summary row
    "Reconciliation/STD_RECON_002.xml",  # summary per terminal
    "Reconciliation/STD_RECON_003.xml",  # every transaction
    "Reconciliation/STD_RECON_004.xml",  # summary per cashier
    "Reconciliation/STD_RECON_006.xml",  # one terminal, summary
    "Reconciliation/STD_RECON_007.xml",  # one terminal, every transaction
)
TERMINAL_REPORTS = ("Reconciliation/STD_RECON_006.xml", "Reconciliation/STD_RECON_007.xml")


class SeqrError(ProviderError):
    """SEQR answered with a resultCode other than 0."""

    def __init__(self, result_code: int, description: str | None):
        super().__init__(codes.message(result_code, description), code=str(result_code))
        self.result_code = result_code
        self.description = description or codes.description(result_code)


class ReportNotReady(SeqrError):
    """executeReport answered REPORT_NOT_READY: ask again in a few seconds."""


# --------------------------------------------------------------------------- what goes in


@dataclass(frozen=True)
class InvoiceRow:
    description: str
    quantity: int
    unit_price: Money
    total: Money
    sku: str = ""
    tax_rate: Decimal | None = None  # percent, e.g. Decimal("25")
    unit: str = ""


@dataclass(frozen=True)
class Invoice:
    title: str
    total: Money
    rows: tuple[InvoiceRow, ...] = ()
    client_invoice_id: str = ""
    payment_mode: str = "IMMEDIATE_DEBIT"
    acknowledgment_mode: str = "NO_ACKNOWLEDGMENT"
    issue_date: datetime | None = None
    cashier_id: str = ""
    footer: str = ""
    back_url: str = ""
    notification_url: str = ""


@dataclass(frozen=True)
class Token:
    """A loyalty token (customerToken): 0 pending, 1 used, 90 blocked, 99 invalid."""

    id: str
    value: str
    status: int
    description: str = ""


@dataclass(frozen=True)
class Principal:
    id: str
    password: str
    type: str = TERMINAL
    user_id: str = ""


# --------------------------------------------------------------------------- what comes out


@dataclass(frozen=True)
class SentInvoice:
    reference: str
    qr_code: str

    @property
    def deep_link(self) -> str:
        """The same address with the app's scheme: a phone cannot scan its own screen."""
        scheme, sep, rest = self.qr_code.partition("://")
        return f"SEQR://{rest}" if sep else self.qr_code


@dataclass(frozen=True)
class Receipt:
    terminal_id: str | None
    payment_date: datetime | None
    client_invoice_id: str | None
    invoice_reference: str | None
    payment_reference: str | None
    payer_terminal_id: str | None
    receiver_name: str | None
    total: Money | None


@dataclass(frozen=True)
class PaymentState:
    """getPaymentStatus: reading PAID is also what commits the payment at SEQR."""

    status: str
    version: int
    ers_reference: str | None = None
    receipt: Receipt | None = None
    tokens: tuple[Token, ...] = ()


@dataclass(frozen=True)
class Report:
    title: str | None
    mime_type: str | None
    content: bytes | None
    content_string: str | None

    @property
    def text(self) -> str:
        if self.content_string is not None:
            return self.content_string
        return (self.content or b"").decode("utf-8", "replace")

    def rows(self) -> list[dict[str, str]]:
        """The report's <Row> elements as dicts, for a table; [] when the text is not XML."""
        try:
            root = etree.fromstring(self.text.encode(), etree.XMLParser(resolve_entities=False, no_network=True))
        except etree.XMLSyntaxError:
            return []
        return [{c.tag: (c.text or "") for c in row if isinstance(c.tag, str)} for row in root.iter("Row")]


@dataclass(frozen=True)
class Answer:
    """A plain erswsResponse that succeeded."""

    ers_reference: str | None
    result_code: int = 0
    description: str = "SUCCESS"


# --------------------------------------------------------------------------- zeep plumbing


class _LocalOnly:
    """A zeep loader that reads files and refuses the network: WSDL loading must not block."""

    def load(self, url: str) -> bytes:
        if "://" in url and not url.startswith("file://"):
            raise ValueError(f"refusing to fetch {url!r}: SEQR's WSDL is loaded from a local file")
        return Path(url.removeprefix("file://")).read_bytes()


@functools.lru_cache(maxsize=4)
def load_wsdl(path: str = str(WSDL_PATH)) -> Document:
    """Parse a WSDL once per process; zeep Documents can be shared by clients."""
    return Document(path, _LocalOnly())


class _Transport(AsyncTransport):
    """zeep's AsyncTransport on the caller's httpx client, with a per-call timeout.

    zeep's own __init__ would overwrite the shared client's headers and open a sync client for
    WSDL loading; neither is wanted here."""

    def __init__(self, client: httpx.AsyncClient, timeout: float):
        self.client = client
        self.timeout = timeout
        self.cache = None
        self._close_session = False
        self.wsdl_client = None
        self.logger = logging.getLogger(__name__)

    def _load_remote_data(self, url):
        raise ValueError(f"refusing to fetch {url!r} at run time")

    async def post(self, address, message, headers):
        return await self.client.post(address, content=message, headers=headers, timeout=self.timeout)

    async def aclose(self):  # the client belongs to the caller
        pass


def create_service(http: httpx.AsyncClient, address: str, *, timeout: float = 10.0,
                   wsdl: str | Path = WSDL_PATH, plugins: Sequence[Any] = ()) -> AsyncServiceProxy:
    """An async service proxy for the WSDL's (only) binding at ``address``.

    zeep's ``Client.create_service`` returns a *sync* proxy even on an AsyncClient, so the async
    proxy is built the same way by hand. The binding is picked from the document, not named: the
    live endpoint's binding name differs from the published WSDL's."""
    client = zeep.AsyncClient(wsdl=load_wsdl(str(wsdl)), transport=_Transport(http, timeout),
                              plugins=list(plugins))
    binding = next(iter(client.wsdl.bindings.values()))
    return AsyncServiceProxy(client, binding, address=address)


# --------------------------------------------------------------------------- the client


class SeqrClient:
    """Every operation SEQR offers merchants, as typed async methods."""

    def __init__(self, http: httpx.AsyncClient, address: str, terminal: Principal, *,
                 reseller: Principal | None = None, timeout: float = 10.0,
                 client_id: str = "Cartwheel", channel: str = "WS", wsdl: str | Path = WSDL_PATH,
                 plugins: Sequence[Any] = ()):
        self.address = address
        self.terminal = terminal
        self.reseller = reseller
        self.client_id = client_id
        self.channel = channel
        self.service = create_service(http, address, timeout=timeout, wsdl=wsdl, plugins=plugins)

    # ----------------------------------------------------------------- invoices

    async def send_invoice(self, invoice: Invoice, tokens: Sequence[Token] = ()) -> SentInvoice:
        ret = await self._call("sendInvoice", invoice=self._invoice(invoice),
                               tokens=[self._token(t) for t in tokens] or None)
        return SentInvoice(reference=ret.invoiceReference, qr_code=ret.invoiceQRCode)

    async def get_payment_status(self, reference: str, version: int = 0) -> PaymentState:
        ret = await self._call("getPaymentStatus", invoiceReference=reference, invoiceVersion=version)
        tokens = ret.customerTokens.token if ret.customerTokens is not None else []
        return PaymentState(
            status=ret.status,
            version=ret.version,
            ers_reference=ret.ersReference,
            receipt=_receipt(ret.receipt) if ret.receipt is not None else None,
            tokens=tuple(Token(t.id, t.value, t.status, t.description or "") for t in tokens),
        )

    async def update_invoice(self, reference: str, invoice: Invoice, tokens: Sequence[Token] = ()) -> Answer:
        ret = await self._call("updateInvoice", invoiceReference=reference, invoice=self._invoice(invoice),
                               tokens=[self._token(t) for t in tokens] or None)
        return _answer(ret)

    async def cancel_invoice(self, reference: str) -> Answer:
        """Cancel an unpaid invoice. An invoice already cancelled counts as done (code 95)."""
        ret = await self._call("cancelInvoice", invoiceReference=reference,
                               accept=(codes.INVOICE_ALREADY_CANCELED,))
        return _answer(ret)

    async def commit_reservation(self, reference: str, amount: Money | None = None) -> Answer:
        # amount is a v2.6 element: left out entirely when not given, so 2013-WSDL servers agree
        extra = {"amount": _amount(amount)} if amount is not None else {}
        ret = await self._call("commitReservation", invoiceReference=reference, **extra)
        return _answer(ret)

    # ----------------------------------------------------------------- payments

    async def refund_payment(self, ers_reference: str, amount: Money, *, title: str = "Refund",
                             rows: Sequence[InvoiceRow] = (), client_invoice_id: str = "") -> Answer:
        """Refund part or all of a payment; the answer's ers_reference names the refund."""
        invoice = Invoice(title=title, total=amount, rows=tuple(rows), client_invoice_id=client_invoice_id,
                          payment_mode="", acknowledgment_mode="")
        ret = await self._call("refundPayment", ersReference=ers_reference, invoice=self._invoice(invoice))
        return _answer(ret)

    async def submit_payment_receipt(self, ers_reference: str, data: bytes, *, mime_type: str = "text/html",
                                     receipt_type: str = "PAYMENT_RECEIPT") -> Answer:
        ret = await self._call("submitPaymentReceipt", ersReference=ers_reference,
                               receiptDocument={"mimeType": mime_type, "receiptData": data,
                                                "receiptType": receipt_type})
        return _answer(ret)

    # ----------------------------------------------------------------- reporting

    async def mark_transaction_period(self, terminal_id: str | None = None) -> str:
        """Close a reconciliation period (the shop's, or one terminal's); returns its id."""
        params = {"TERMINALID": terminal_id} if terminal_id else {}
        ret = await self._call("markTransactionPeriod", principal=self._reporting_principal(),
                               parameters=_parameters(params))
        return ret.transactionPeriodId or ret.ersReference

    async def execute_report(self, report_id: str, period_id: str, *, terminal_id: str | None = None,
                             language: str | None = "en") -> Report:
        """Fetch a report once; raises ReportNotReady while SEQR is still making it."""
        params = {"transactionPeriodId": period_id}
        if terminal_id:
            params["TERMINALID"] = terminal_id
        ret = await self._call("executeReport", principal=self._reporting_principal(), reportId=report_id,
                               language=language, parameters=_parameters(params))
        rep = ret.report
        if rep is None:
            return Report(None, None, None, None)
        return Report(rep.title, rep.mimeType, rep.content, rep.contentString)

    # ----------------------------------------------------------------- terminals (cash registers)

    async def register_terminal(self, external_id: str, password: str, name: str) -> str:
        if self.reseller is None:
            raise ProviderError("Registering a terminal needs the reseller's credentials.")
        ret = await self._call("registerTerminal", principal=self.reseller, externalTerminalId=external_id,
                               password=password, name=name)
        return ret.terminalId

    async def unregister_terminal(self) -> Answer:
        return _answer(await self._call("unregisterTerminal"))

    async def assign_seqr_id(self, seqr_id: str) -> Answer:
        return _answer(await self._call("assignSeqrId", seqrId=seqr_id))

    async def ping(self) -> Answer:
        """benchmarkingNop: SEQR answers without credentials; a cheap "is it up?"."""
        return _answer(await self._call("benchmarkingNop", with_context=False))

    # ----------------------------------------------------------------- plumbing

    def context(self, principal: Principal | None = None) -> dict[str, Any]:
        p = principal or self.terminal
        return {
            "channel": self.channel,
            "clientId": self.client_id,
            # Required by SEQR's docs and its certification script: unique per call (at most 32
            # characters), so SEQR's support can find one call in their logs.
            "clientReference": uuid.uuid4().hex,
            "clientRequestTimeout": 0,  # SEQR wants 0: no client-forced timeout
            "initiatorPrincipalId": {"id": p.id, "type": p.type, "userId": p.user_id or None},
            "password": p.password,
        }

    def _reporting_principal(self) -> Principal:
        # Reports are a reseller's business, but SEQR also takes them from a webshop terminal.
        return self.reseller or self.terminal

    async def _call(self, operation: str, *, principal: Principal | None = None,
                    accept: tuple[int, ...] = (), with_context: bool = True, **kwargs: Any) -> Any:
        if with_context:
            kwargs["context"] = self.context(principal)
        try:
            ret = await getattr(self.service, operation)(**kwargs)
        except httpx.TimeoutException as exc:
            raise ProviderUnavailable(f"SEQR did not answer {operation} in time.") from exc
        except httpx.HTTPError as exc:
            raise ProviderUnavailable(f"SEQR could not be reached ({type(exc).__name__}).") from exc
        except zeep.exceptions.Fault as exc:
            # SEQR documents no faults: one means the outcome is unknown.
            raise ProviderUnavailable(f"SEQR answered {operation} with a SOAP fault: {exc.message}",
                                      code="fault") from exc
        except zeep.exceptions.TransportError as exc:
            raise ProviderUnavailable(f"SEQR answered {operation} with HTTP {exc.status_code}.",
                                      status=exc.status_code) from exc
        except zeep.exceptions.Error as exc:
            raise ProviderUnavailable(f"SEQR's answer to {operation} could not be read: {exc}") from exc
        if ret is None:
            raise ProviderUnavailable(f"SEQR's answer to {operation} was empty.")
        code = ret.resultCode
        if code == codes.SUCCESS or code in accept:
            return ret
        if code in codes.TRANSIENT:
            raise ProviderUnavailable(codes.message(code), code=str(code))
        if code == codes.REPORT_NOT_READY:
            raise ReportNotReady(code, ret.resultDescription)
        raise SeqrError(code, ret.resultDescription)

    def _invoice(self, invoice: Invoice) -> dict[str, Any]:
        rows = [
            {
                "itemDescription": r.description,
                "itemQuantity": Decimal(r.quantity),
                "itemSKU": r.sku or None,
                "itemTaxRate": r.tax_rate,
                "itemTotalAmount": _amount(r.total),
                "itemUnit": r.unit or None,
                "itemUnitPrice": _amount(r.unit_price),
            }
            for r in invoice.rows
        ]
        return {
            "paymentMode": invoice.payment_mode or None,
            "acknowledgmentMode": invoice.acknowledgment_mode or None,
            "issueDate": invoice.issue_date,
            "title": invoice.title,
            "clientInvoiceId": invoice.client_invoice_id or None,
            "invoiceRows": {"invoiceRow": rows} if rows else None,
            "totalAmount": _amount(invoice.total),
            "cashierId": invoice.cashier_id or None,
            "footer": invoice.footer or None,
            "backURL": invoice.back_url or None,
            "notificationUrl": invoice.notification_url or None,
        }

    @staticmethod
    def _token(token: Token) -> dict[str, Any]:
        return {"description": token.description or None, "id": token.id, "status": token.status,
                "value": token.value}


def _amount(money: Money) -> dict[str, Any]:
    return {"currency": money.currency, "value": money.to_decimal()}


def _money(amount: Any) -> Money | None:
    if amount is None or amount.value is None or not amount.currency:
        return None
    return Money.from_decimal(amount.value, amount.currency)


def _parameters(values: Mapping[str, str]) -> dict[str, Any] | None:
    if not values:
        return None
    return {"parameter": {"entry": [{"key": k, "value": v} for k, v in values.items()]}}


def _answer(ret: Any) -> Answer:
    return Answer(ers_reference=ret.ersReference, result_code=ret.resultCode,
                  description=ret.resultDescription or codes.description(ret.resultCode))


def _receipt(r: Any) -> Receipt:
    total = _money(r.invoice.totalAmount) if r.invoice is not None else None
    return Receipt(
        terminal_id=r.terminalId,
        payment_date=r.paymentDate,
        client_invoice_id=r.clientInvoiceId,
        invoice_reference=r.invoiceReference,
        payment_reference=r.paymentReference,
        payer_terminal_id=r.payerTerminalId,
        receiver_name=r.receiverName,
        total=total,
    )

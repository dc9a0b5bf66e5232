"""The SEQR server played in memory: terminals, invoices and their life cycle, reports, the payer.

No HTTP here. ``soap.py`` turns envelopes into calls on ``SeqrSandbox`` and results back into
envelopes; the phone app and the control page call the payer and scenario methods. Time comes
from ``Clock`` so that tests (and the control page) can move it forward: the commit window and
report delays are checked against it whenever the state is looked at.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import logging
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx

from .. import codes
from ..client import REPORT_IDS, TERMINAL_REPORTS

log = logging.getLogger(__name__)

TEST_PIN = "1234"
ISSUED = "ISSUED"
PENDING_ACK = "PENDING_ISSUER_ACKNOWLEDGE"
PAID = "PAID"
RESERVED = "RESERVED"
CANCELED = "CANCELED"
FAILED = "FAILED"
EXPIRED = "EXPIRED"
OPEN = (ISSUED, PENDING_ACK)



class Clock:
    """Wall time plus an offset the tests and the control page can push forward."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)


@dataclass
class Terminal:
    id: str
    password: str
    name: str
    kind: str = "webshop"  # "cash_register" terminals hold one open invoice at a time
    currencies: tuple[str, ...] = ("EUR", "SEK")
    reseller_id: str = "public_test_shop"
    external_id: str = ""
    active: bool = True
    seqr_id: str | None = None


@dataclass
class Reseller:
    id: str
    user_id: str
    password: str


@dataclass
class Principal:
    """Who a call's context authenticated as."""

    type: str
    id: str
    terminal: Terminal | None = None
    reseller: Reseller | None = None


@dataclass
class Invoice:
    reference: str
    terminal_id: str
    data: dict[str, Any]  # the invoice as parsed from the request (see soap.invoice_from)
    created_at: datetime
    status: str = ISSUED
    version: int = 0
    scanned_at: datetime | None = None  # when the payer last opened it in the app
    confirmed_at: datetime | None = None  # payer confirmed with the PIN
    committed: bool = False  # the merchant read PAID in time
    ers_reference: str | None = None
    payer_msisdn: str = ""
    payer_terminal_id: str = ""
    refunds: list[tuple[str, Decimal, datetime]] = field(default_factory=list)
    receipts: list[dict[str, Any]] = field(default_factory=list)
    history: list[tuple[datetime, str]] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return self.data["total"]

    def in_progress(self, now: datetime, busy_seconds: float) -> bool:
        """The payer has it open in the app (and has not walked away from it)."""
        return self.scanned_at is not None and now < self.scanned_at + timedelta(seconds=busy_seconds)

    @property
    def currency(self) -> str:
        return self.data["currency"]

    @property
    def refunded(self) -> Decimal:
        return sum((amount for _, amount, _ in self.refunds), Decimal(0))


@dataclass
class Period:
    id: str
    terminal_id: str | None  # None: the whole shop
    reseller_id: str
    created_at: datetime
    ready_at: datetime
    payments: list[Invoice]


def origin(url: str) -> str:
    """scheme://host[:port], lower-cased, with the default port left out."""
    parts = urlsplit(url.strip())
    default = {"http": 80, "https": 443}.get(parts.scheme.lower())
    try:
        port = parts.port
    except ValueError:
        return ""
    host = (parts.hostname or "").lower()
    return f"{parts.scheme.lower()}://{host}" + (f":{port}" if port and port != default else "")


@dataclass
class Notification:
    """A notificationUrl POST: queued, held for the contract kit, sent, lost or failed."""

    reference: str
    url: str
    body: bytes
    headers: dict[str, str]
    created_at: datetime
    outcome: str = "queued"
    attempts: list[str] = field(default_factory=list)


@dataclass
class Scenarios:
    """What the control page switches. The defaults are the provider behaving well."""

    soap: str = "normal"  # normal | busy (code 93) | fault (HTTP 500 soap:Server) | unavailable (503) | slow
    slow_seconds: float = 15.0
    notification: str = "deliver"  # deliver | lost | late | repeated
    late_seconds: float = 10.0
    repeat_count: int = 3
    notification_retries: int = 0  # SEQR documents none; extra tries after a failed POST
    notification_retry_seconds: float = 2.0  # the first wait between tries, doubling
    # empty: the empty POST SEQR's Instant Checkout guide describes (the default) | form:
    # invoiceReference & clientInvoiceId, as some integrations report
    notification_body: str = "empty"
    bank: str = "approve"  # approve | decline (the payer's bank: FAILED)
    refunds: str = "allow"  # allow | deny (99, payer's account) | forbid (97, terminal not allowed)
    commit_window_seconds: float = 20.0
    report_delay_seconds: float = 3.0
    payer_busy_seconds: float = 60.0  # how long a scan blocks cancelInvoice (51)
    reservation_seconds: float = 3600.0  # a reservation lapses after this (or commitReservationTimeout)
    # Server-side expiry of unpaid invoices (2.10+ servers only; status EXPIRED is unknown to
    # clients on the 2013 WSDL, hence off): 0 = never.
    expire_after_seconds: float = 0.0
    check_row_sum: bool = True  # 49 when the rows do not add up to the total
    hold_callbacks: bool = False  # keep notifications for the contract kit instead of sending


class SeqrSandbox:
    # What SEQR remembers across a restart of its process (shop.sandbox_host keeps it on disk).
    PERSISTED = ("clock", "scenarios", "terminals", "resellers", "invoices", "periods", "sms", "notifications",
                 "held", "address", "payer_msisdn", "_seq", "read_back_broken")

    def __init__(self, outbound: httpx.AsyncClient | None = None, *, clock: Clock | None = None,
                 webshops: dict[str, str] | None = None, shop_origins: tuple[str, ...] | None = None,
                 **options: Any):
        self.outbound = outbound
        # Where the sandbox may POST (notifications, createPurchase): the shop that owns it. A
        # sandbox that posts wherever it is told and shows the answer reaches whatever its host
        # reaches. None (a sandbox built alone, in tests): anywhere.
        self.shop_origins = None if shop_origins is None else frozenset(origin(o) for o in shop_origins)
        self.clock = clock or Clock()
        self.scenarios = Scenarios()
        for key, value in options.items():
            if not hasattr(self.scenarios, key):
                raise TypeError(f"unknown SEQR sandbox option {key!r}")
            setattr(self.scenarios, key, value)
        self._starting_scenarios = dataclasses.replace(self.scenarios)  # what a reset goes back to
        self.terminals: dict[str, Terminal] = {}
        self.resellers: dict[str, Reseller] = {}
        self.invoices: dict[str, Invoice] = {}
        self.periods: dict[str, Period] = {}
        self.sms: list[tuple[datetime, str, str]] = []  # (when, msisdn, text)
        self.notifications: list[Notification] = []
        self.held: list[Notification] = []
        self.webshops: dict[str, str] = dict(webshops or {})  # Instant Checkout: id -> createPurchase URL
        self.address = {  # the payer's delivery address stored "in the app"
            "clientName": "Sven Svensson", "street": "Drottninggatan 1", "city": "Stockholm",
            "country": "Sweden", "state": "", "zip": "11151", "email": "sven@example.com",
            "msisdn": "46701234567",
        }
        self.payer_msisdn = "46701234567"
        self.tasks: set[asyncio.Task] = set()
        self._seq = itertools.count(1)
        self.read_back_broken = False  # set by the contract-kit driver
        self.client_references: list[str | None] = []  # the latest calls' clientReference
        self._seed()

    def _seed(self) -> None:
        # The published test credentials, plus one terminal whose password is too short (21).
        self.resellers["public_test_shop"] = Reseller("public_test_shop", "9900", "1234")
        self.add_terminal(Terminal("public_test_shop_terminal", "12345678", "Cartwheel demo shop"))
        self.add_terminal(Terminal("short_password_terminal", "123", "Terminal with a short password"))

    def reset(self) -> None:
        """SEQR as it started (the demo's reset): no invoices, SMS, notifications or periods, the
        published terminals only, the starting scenarios, the clock on wall time. References keep
        counting, so that none the shop saw before the reset is ever given again; the Instant
        Checkout webshops the shop registered stay."""
        for task in self.tasks:
            task.cancel()  # a late notification must not reach the shop after the reset
        for remembered in (self.terminals, self.resellers, self.invoices, self.periods):
            remembered.clear()
        for logged in (self.sms, self.notifications, self.held):
            logged.clear()
        self.read_back_broken = False
        if isinstance(self.clock, Clock):
            self.clock.offset = timedelta()
        self.reset_scenarios()
        self._seed()

    def reset_scenarios(self) -> None:
        self.scenarios = dataclasses.replace(self._starting_scenarios)

    def add_terminal(self, terminal: Terminal) -> Terminal:
        self.terminals[terminal.id] = terminal
        return terminal

    # ----------------------------------------------------------------- identifiers

    def _new_invoice_reference(self) -> str:
        # 17 digits: yyyyMMdd + 9, as SEQR's references look since 2015
        return self.clock.now().strftime("%Y%m%d") + f"{next(self._seq):09d}"

    def _new_ers_reference(self) -> str:
        # 25 digits: yyyyMMddHHmmssSSS + 8
        now = self.clock.now()
        return now.strftime("%Y%m%d%H%M%S") + f"{now.microsecond // 1000:03d}" + f"{next(self._seq):08d}"

    # ----------------------------------------------------------------- authentication

    def authenticate(self, context: dict[str, Any] | None, allowed: tuple[str, ...] = ("TERMINALID",)
                     ) -> tuple[int, Principal | None]:
        # SEQR does not check clientReference; the sandbox keeps the latest ones, as SEQR's logs would.
        self.client_references = [*self.client_references[-49:], (context or {}).get("clientReference")]
        principal = (context or {}).get("initiatorPrincipalId") or {}
        kind = principal.get("type") or "TERMINALID"
        pid = principal.get("id") or ""
        password = (context or {}).get("password") or ""
        if kind == "RESELLERUSER":
            rid, _, joined_user = pid.partition("/")  # "public_test_shop/9900" is accepted too
            reseller = self.resellers.get(rid)
            if reseller is None or (principal.get("userId") or joined_user) != reseller.user_id:
                return codes.INITIATOR_PRINCIPAL_NOT_FOUND, None
            if password != reseller.password:
                return codes.AUTHENTICATION_FAILED, None
            if kind not in allowed:
                return codes.ACCESS_DENIED, None
            return codes.SUCCESS, Principal(kind, rid, reseller=reseller)
        terminal = self.terminals.get(pid)
        if terminal is None:
            return codes.INVALID_INITIATOR_PRINCIPAL_ID, None
        if len(terminal.password) < 4:
            return codes.ACCESS_DENIED, None
        if password != terminal.password:
            return codes.AUTHENTICATION_FAILED, None
        if not terminal.active:
            return codes.INVALID_INITIATOR_PRINCIPAL_STATE, None
        if kind not in allowed:
            return codes.ACCESS_DENIED, None
        return codes.SUCCESS, Principal(kind, pid, terminal=terminal)

    # ----------------------------------------------------------------- time passes

    def sweep(self) -> None:
        """Apply what time has done: unread PAIDs past the commit window are reversed,
        reservations lapse, and (when switched on) unpaid invoices expire."""
        now = self.clock.now()
        sc = self.scenarios
        window = timedelta(seconds=sc.commit_window_seconds)
        for inv in self.invoices.values():
            if inv.status == RESERVED and inv.confirmed_at:
                hold = inv.data.get("commit_reservation_timeout") or sc.reservation_seconds
                if now >= inv.confirmed_at + timedelta(seconds=hold):
                    self._move(inv, CANCELED, "the reservation lapsed uncommitted; nothing was taken")
            if sc.expire_after_seconds and inv.status in OPEN and now >= inv.created_at + timedelta(
                    seconds=sc.expire_after_seconds):
                self._move(inv, EXPIRED, "not paid in time")
            if inv.status == PAID and not inv.committed and inv.confirmed_at and now >= inv.confirmed_at + window:
                self._move(inv, CANCELED, "not read by the merchant in time: payment reversed")
                inv.ers_reference = None
                total = f"{inv.total:.2f} {inv.currency}"
                text = (f"Your SEQR payment of {total} to {self._merchant_name(inv)} was reversed because "
                        f"the shop did not confirm it. No money was taken.")
                self.sms.append((inv.confirmed_at + window, inv.payer_msisdn, text))

    def _merchant_name(self, inv: Invoice) -> str:
        terminal = self.terminals.get(inv.terminal_id)
        return terminal.name if terminal else inv.terminal_id

    def _move(self, inv: Invoice, status: str, why: str) -> None:
        inv.status = status
        inv.version += 1
        inv.history.append((self.clock.now(), f"{status}: {why}"))

    # ----------------------------------------------------------------- merchant operations

    def validate_invoice(self, terminal: Terminal, data: dict[str, Any], *, require_total: bool = True) -> int:
        if data.get("total") is None or not data.get("currency"):
            return codes.INVALID_INVOICE_DATA if require_total else codes.SUCCESS
        if data["currency"] not in terminal.currencies:
            return codes.INVALID_INVOICE_DATA
        if data["total"] <= 0:
            return codes.REJECTED_AMOUNT
        rows = data.get("rows") or []
        if self.scenarios.check_row_sum and rows:
            if any(r.get("total") is None or r.get("currency") not in (None, data["currency"]) for r in rows):
                return codes.INVALID_INVOICE_DATA
            if sum(r["total"] for r in rows) != data["total"]:
                return codes.INVALID_INVOICE_DATA
        url = data.get("notification_url")
        if url is not None and not re.match(r"^https?://[^\s/]+", url):
            return codes.INVALID_NOTIFICATION_URL
        return codes.SUCCESS

    def send_invoice(self, terminal: Terminal, data: dict[str, Any]) -> tuple[int, Invoice | None]:
        self.sweep()
        code = self.validate_invoice(terminal, data)
        if code:
            return code, None
        if terminal.kind == "cash_register":
            # A cash register holds one transaction: a new invoice cancels the open one.
            for inv in self.invoices.values():
                if inv.terminal_id == terminal.id and inv.status in OPEN:
                    self._move(inv, CANCELED, "replaced by a new invoice on this cash register")
        inv = Invoice(self._new_invoice_reference(), terminal.id, data, self.clock.now())
        inv.history.append((inv.created_at, "ISSUED"))
        self.invoices[inv.reference] = inv
        return codes.SUCCESS, inv

    def find(self, terminal: Terminal, reference: str | None) -> Invoice | None:
        inv = self.invoices.get(reference or "")
        return inv if inv is not None and inv.terminal_id == terminal.id else None

    def payment_status(self, terminal: Terminal, reference: str | None) -> tuple[int, Invoice | None]:
        self.sweep()
        inv = self.find(terminal, reference)
        if inv is None:
            return codes.INVALID_INVOICE_REFERENCE, None
        if inv.status == PAID and not inv.committed:
            inv.committed = True  # the first PAID read is the merchant's acknowledgement
            inv.history.append((self.clock.now(), "committed: the merchant read PAID"))
        return codes.SUCCESS, inv

    def update_invoice(self, terminal: Terminal, reference: str | None, data: dict[str, Any]) -> int:
        self.sweep()
        inv = self.find(terminal, reference)
        if inv is None:
            return codes.INVALID_INVOICE_REFERENCE
        if inv.status not in (ISSUED, PENDING_ACK, RESERVED):
            return codes.SYSTEM_ERROR  # what SEQR answers for an update after payment
        if inv.status == ISSUED and inv.in_progress(self.clock.now(), self.scenarios.payer_busy_seconds):
            return codes.PAYMENT_IN_PROGRESS  # the payer is looking at the amount right now
        code = self.validate_invoice(terminal, data)
        if code:
            return code
        if inv.status == RESERVED and data["total"] > inv.total:
            return codes.REJECTED_AMOUNT
        inv.data = {**inv.data, **{k: v for k, v in data.items() if v is not None}, "acknowledged": True}
        if inv.status == PENDING_ACK:
            self._move(inv, ISSUED, "the merchant updated the invoice")
        else:
            inv.history.append((self.clock.now(), "updated by the merchant"))
        return codes.SUCCESS

    def cancel_invoice(self, terminal: Terminal, reference: str | None) -> int:
        self.sweep()
        inv = self.find(terminal, reference)
        if inv is None:
            return codes.INVALID_INVOICE_REFERENCE
        if inv.status == CANCELED:
            return codes.INVOICE_ALREADY_CANCELED
        if inv.status in (PAID, RESERVED):
            return codes.CANNOT_CANCEL_PAID_INVOICE
        if inv.status == FAILED:
            return codes.SUCCESS  # nothing to undo; the invoice stays FAILED
        if inv.in_progress(self.clock.now(), self.scenarios.payer_busy_seconds):
            return codes.CANNOT_CANCEL_INVOICE_IN_PROGRESS
        self._move(inv, CANCELED, "cancelled by the merchant")
        return codes.SUCCESS

    def commit_reservation(self, terminal: Terminal, reference: str | None,
                           amount: tuple[Decimal | None, str | None] | None) -> int:
        self.sweep()
        inv = self.find(terminal, reference)
        if inv is None:
            return codes.INVALID_INVOICE_REFERENCE
        if inv.status != RESERVED:
            return codes.INVOICE_STATE_NOT_RESERVED
        if amount and amount[0] is not None:
            value, currency = amount
            if currency not in (None, inv.currency) or value <= 0 or value > inv.total:
                return codes.REJECTED_AMOUNT
            inv.data = {**inv.data, "total": value}
        inv.ers_reference = self._new_ers_reference()
        inv.committed = True
        self._move(inv, PAID, "reservation committed by the merchant")
        return codes.SUCCESS

    def _payment(self, terminal: Terminal, ers_reference: str | None) -> Invoice | None:
        for inv in self.invoices.values():
            if inv.terminal_id == terminal.id and inv.ers_reference and inv.ers_reference == ers_reference \
                    and inv.status == PAID and inv.committed:
                return inv
        return None

    def refund(self, terminal: Terminal, ers_reference: str | None, data: dict[str, Any]
               ) -> tuple[int, str | None]:
        self.sweep()
        inv = self._payment(terminal, ers_reference)
        if inv is None:
            return codes.INVALID_ERS_REFERENCE, None
        if self.scenarios.refunds == "forbid":
            return codes.RESELLER_NOT_ALLOWED_TO_DO_REFUND, None
        amount = data.get("total")
        if amount is None or data.get("currency") not in (None, inv.currency):
            return codes.INVALID_INVOICE_DATA, None
        if amount <= 0:
            return codes.REJECTED_AMOUNT, None
        url = data.get("notification_url")
        if url is not None and not re.match(r"^https?://[^\s/]+", url):
            return codes.INVALID_NOTIFICATION_URL, None
        if inv.refunded + amount > inv.total:
            return codes.SUM_OF_REFUNDS_TOO_HIGH, None
        if self.scenarios.refunds == "deny":
            return codes.RECEIVER_ACCOUNT_DOES_NOT_ALLOW_REFUNDS, None
        ref = self._new_ers_reference()
        inv.refunds.append((ref, amount, self.clock.now()))
        inv.history.append((self.clock.now(), f"refunded {amount} {inv.currency} ({ref})"))
        return codes.SUCCESS, ref

    def submit_receipt(self, terminal: Terminal, ers_reference: str | None, document: dict[str, Any]
                       ) -> tuple[int, str | None]:
        inv = self._payment(terminal, ers_reference)
        if inv is None:  # a receipt may follow a refund too
            inv = next((i for i in self.invoices.values() if i.terminal_id == terminal.id
                        and any(r == ers_reference for r, _, _ in i.refunds)), None)
        if inv is None:
            return codes.INVALID_ERS_REFERENCE, None
        inv.receipts.append(document)
        inv.history.append((self.clock.now(), f"receipt {document.get('receiptType') or ''} attached"))
        return codes.SUCCESS, self._new_ers_reference()

    # ----------------------------------------------------------------- reporting

    def _paid_in_scope(self, reseller_id: str, terminal_id: str | None) -> list[Invoice]:
        return [
            inv for inv in self.invoices.values()
            if inv.status == PAID and inv.committed
            and self.terminals[inv.terminal_id].reseller_id == reseller_id
            and (terminal_id is None or inv.terminal_id == terminal_id)
        ]

    def mark_period(self, principal: Principal, params: dict[str, str]) -> tuple[int, str | None]:
        self.sweep()
        reseller_id = principal.reseller.id if principal.reseller else principal.terminal.reseller_id
        terminal_id = params.get("TERMINALID")
        if terminal_id is not None:
            terminal = self.terminals.get(terminal_id)
            if terminal is None or terminal.reseller_id != reseller_id:
                return codes.INVALID_INITIATOR_PRINCIPAL_ID, None
        already = {inv.reference for p in self.periods.values()
                   if p.reseller_id == reseller_id and p.terminal_id == terminal_id for inv in p.payments}
        payments = [inv for inv in self._paid_in_scope(reseller_id, terminal_id) if inv.reference not in already]
        now = self.clock.now()
        period = Period(self._new_ers_reference(), terminal_id, reseller_id, now,
                        now + timedelta(seconds=self.scenarios.report_delay_seconds), payments)
        self.periods[period.id] = period
        return codes.SUCCESS, period.id

    def execute_report(self, principal: Principal, report_id: str | None, params: dict[str, str]
                       ) -> tuple[int, dict[str, Any] | None]:
        from .reports import render_report  # kept apart: formatting only

        reseller_id = principal.reseller.id if principal.reseller else principal.terminal.reseller_id
        period = self.periods.get(params.get("transactionPeriodId") or "")
        if period is None or period.reseller_id != reseller_id:
            return codes.INVALID_ERS_REFERENCE, None
        if report_id not in REPORT_IDS:
            return codes.REJECTED_BUSINESS_LOGIC, None
        if report_id in TERMINAL_REPORTS and not (params.get("TERMINALID") and period.terminal_id):
            return codes.REJECTED_BUSINESS_LOGIC, None
        if self.clock.now() < period.ready_at:
            return codes.REPORT_NOT_READY, None
        return codes.SUCCESS, render_report(report_id, period, self)

    # ----------------------------------------------------------------- terminals

    def register_terminal(self, principal: Principal, external_id: str | None, password: str | None,
                          name: str | None) -> tuple[int, str | None]:
        if not password or len(password) < 4:
            return codes.INVALID_NEW_PASSWORD, None
        terminal = Terminal(secrets.token_hex(16), password, name or external_id or "Cash register",
                            kind="cash_register", reseller_id=principal.id, external_id=external_id or "")
        self.add_terminal(terminal)
        return codes.SUCCESS, terminal.id

    def unregister_terminal(self, terminal: Terminal) -> int:
        terminal.active = False
        return codes.SUCCESS

    def assign_seqr_id(self, terminal: Terminal, seqr_id: str | None) -> int:
        if not seqr_id or not seqr_id.isalnum() or not seqr_id.isascii():
            return codes.INVALID_SEQR_ID
        if any(t.seqr_id == seqr_id and t.id != terminal.id for t in self.terminals.values()):
            return codes.INVALID_SEQR_ID
        terminal.seqr_id = seqr_id
        return codes.SUCCESS

    # ----------------------------------------------------------------- the payer, in the app

    def open_invoices(self) -> list[Invoice]:
        self.sweep()
        return [inv for inv in self.invoices.values() if inv.status in OPEN]

    def scan(self, reference: str) -> Invoice | None:
        self.sweep()
        inv = self.invoices.get(reference)
        if inv is None:
            return None
        if inv.status in OPEN:
            inv.scanned_at = self.clock.now()
            ack = inv.data.get("acknowledgment_mode")
            # On cashregister-2 an invoice without a mode waits for the merchant like REQUIRE does.
            if inv.status == ISSUED and ack in (None, "REQUIRE_ACKNOWLEDGMENT") and not inv.data.get("acknowledged"):
                self._move(inv, PENDING_ACK, "the payer scanned; waiting for the merchant's amount")
        return inv

    def confirm(self, reference: str, pin: str) -> str:
        """The payer confirms with the PIN: 'wrong_pin', 'not_payable', 'paid', 'reserved' or 'failed'."""
        self.sweep()
        inv = self.invoices.get(reference)
        if inv is None or inv.status != ISSUED:
            return "not_payable"
        if pin != TEST_PIN:
            return "wrong_pin"
        now = self.clock.now()
        inv.scanned_at = None
        inv.confirmed_at = now
        inv.payer_msisdn = self.payer_msisdn
        inv.payer_terminal_id = "d613c5b8428d17248751bc101"
        if self.scenarios.bank == "decline":
            self._move(inv, FAILED, "the payer's bank declined the payment")
            return "failed"
        if inv.data.get("payment_mode") in ("RESERVATION_REQUIRED", "RESERVATION_REQUIRED_PRELIMINARY_AMOUNT",
                                            "RESERVATION_DESIRED"):
            self._move(inv, RESERVED, "the payer confirmed; amount reserved")
            return "reserved"
        inv.ers_reference = self._new_ers_reference()
        self._move(inv, PAID, "the payer confirmed with the PIN (provisional until the merchant reads it)")
        self.notify(inv)
        return "paid"

    def payer_cancel(self, reference: str) -> bool:
        self.sweep()
        inv = self.invoices.get(reference)
        if inv is None or inv.status not in OPEN:
            return False
        inv.scanned_at = None
        self._move(inv, CANCELED, "the payer cancelled in the app")
        return True

    def end_commit_window(self, reference: str) -> None:
        """Control page: act as if the window ran out now."""
        inv = self.invoices.get(reference)
        if inv is not None and inv.status == PAID and not inv.committed and inv.confirmed_at:
            inv.confirmed_at = self.clock.now() - timedelta(seconds=self.scenarios.commit_window_seconds)
            self.sweep()

    # ----------------------------------------------------------------- notificationUrl

    def notify(self, inv: Invoice) -> Notification | None:
        url = inv.data.get("notification_url")
        if not url:
            return None
        if self.scenarios.notification_body == "form":
            fields = {"invoiceReference": inv.reference}
            if inv.data.get("client_invoice_id"):
                fields["clientInvoiceId"] = inv.data["client_invoice_id"]
            body = urlencode(fields).encode()
            headers = {"content-type": "application/x-www-form-urlencoded"}
        else:
            body, headers = b"", {}
        note = Notification(inv.reference, url, body, headers, self.clock.now())
        self.notifications.append(note)
        if self.scenarios.hold_callbacks:
            note.outcome = "held"
            self.held.append(note)
        elif self.scenarios.notification == "lost":
            note.outcome = "lost"
        else:
            self.spawn(self._deliver(note))
        return note

    def spawn(self, coro) -> asyncio.Task | None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # driven from sync code (a test): nothing can be sent
            coro.close()
            return None
        task = loop.create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    async def _deliver(self, note: Notification) -> None:
        sc = self.scenarios
        if sc.notification == "late":
            note.outcome = f"late: waiting {sc.late_seconds:g} s"
            await asyncio.sleep(sc.late_seconds)
        times = max(1, sc.repeat_count) if sc.notification == "repeated" else 1
        for _ in range(times):
            for attempt in range(1 + max(0, sc.notification_retries)):
                if attempt:
                    await asyncio.sleep(sc.notification_retry_seconds * 2 ** (attempt - 1))
                if await self.post(note):
                    break

    def may_call(self, url: str) -> bool:
        """Whether ``url`` is on the shop's own address (see shop_origins)."""
        return self.shop_origins is None or origin(url) in self.shop_origins

    async def post(self, note: Notification) -> bool:
        """One POST; True when the shop answered 2xx. Failures are only logged: the commit rule
        hangs on getPaymentStatus, not on this answer."""
        if self.outbound is None:
            note.outcome = "not sent: no outbound client"
            return False
        if not self.may_call(note.url):
            note.outcome = "not sent: not the shop's address"
            return False
        try:
            response = await self.outbound.post(note.url, content=note.body, headers=note.headers)
        except httpx.HTTPError as exc:
            note.attempts.append(type(exc).__name__)
            note.outcome = "failed"
            log.info("SEQR sandbox notification to %s failed: %r", note.url, exc)
            return False
        note.attempts.append(f"HTTP {response.status_code}")
        note.outcome = "sent" if response.is_success else "refused"
        return response.is_success

    async def aclose(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    # ----------------------------------------------------------------- Instant Checkout

    async def create_purchase(self, webshop_id: str, purchase_token: str) -> tuple[str | None, str]:
        """Call the shop's createPurchase as SEQR's Instant Checkout service does.

        Returns (invoice reference, "") or (None, a reason)."""
        url = self.webshops.get(webshop_id)
        if url is None:
            return None, f"No createPurchase URL is registered for webshop id {webshop_id!r}."
        if not self.may_call(url):
            return None, "The createPurchase URL is not on the shop's address."
        if self.outbound is None:
            return None, "The sandbox has no outbound HTTP client."
        payload = {"purchaseToken": purchase_token, **self.address}
        try:
            response = await self.outbound.post(url, json=payload, headers={
                "Accept": "application/json", "Content-Type": "application/json;charset=UTF-8"})
        except httpx.HTTPError as exc:
            return None, f"The shop could not be reached ({type(exc).__name__})."
        try:
            answer = response.json()
        except ValueError:
            return None, f"The shop answered HTTP {response.status_code} without JSON."
        if response.status_code == 200 and answer.get("invoiceReferenceId"):
            return str(answer["invoiceReferenceId"]), ""
        said = answer.get("errorCode") or f"HTTP {response.status_code}"
        if isinstance(answer.get("errorMessage"), str) and answer["errorMessage"]:
            said = f"{said}: {answer['errorMessage']}"  # beyond SEQR's shape; shown when a shop gives it
        return None, f"The shop answered {said}."


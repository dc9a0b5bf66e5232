"""What the sandbox remembers: clients, tokens, Smart and Payment Transactions, scenarios.

The state machines follow secuconnect's (spec section 6); every change of a Payment
Transaction's simple status is pushed, as is every refund transaction created."""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from . import ids
from .errors import format_error, not_allowed, not_found
from .instruments import iban_ok, mask_iban, masked
from .push import Pusher, PushRecord, push_body

CLIENT_ID = "00563697073442633035025909838580"
CLIENT_SECRET = "3382456441636938321687549172178382320163695870914358804052148567"
CONTRACT = "GCR_KTSST836QYITQJM1JGYIZ4F4OLKI04"
MERCHANT = {"object": "general.merchants", "id": "MRC_G8SE48FRHVITKILAPNCEDU0NUD55W8",
            "companyname": "Cartwheel Sandbox Merchant"}
CONTRACT_METHODS = ("creditcard", "debit", "paypal", "prepaid", "invoice")
# A second contract of the same client that offers fewer methods (cards and prepayment only), as
# a real merchant's contract often does: its payment links name only those.
SMALL_CONTRACT = "GCR_CWSMALLCARDSANDPREPAYONLY0001"
METHODS_OF = {CONTRACT: CONTRACT_METHODS, SMALL_CONTRACT: ("creditcard", "prepaid")}

# Where a payer transfers prepaid and invoice money (values seen on secuconnect's test system).
BANK = {"owner": "secupay AG", "iban": "DE81850400611005523759", "bic": "COBADEFFXXX",
        "bankname": "Commerzbank CC"}

SIMPLE_TEXT = {0: "proceed", 1: "accepted", 2: "authorized", 3: "denied", 4: "issue", 5: "void",
               6: "issue_resolved", 7: "refund", 8: "created", 9: "paid", 10: "pending",
               11: "subscription_approved", 12: "subscription_declined", 13: "on_hold",
               14: "waiting_for_shipment", 15: "container_authorized", 16: "container_denied"}
# Detailed status shown with a simple one. 6, 9, 25, 69, 86 are secuconnect's; the rest are
# the sandbox's own numbering.
DETAILED = {
    "accepted": (6, "abgeschlossen"),
    "authorized": (9, "vorautorisiert"),
    "prepaid_waiting": (25, "Vorkasse wartend"),
    "risk_check": (10, "wartend (Risikoprüfung)"),
    "invoice_open": (14, "Rechnung wartet auf Versand"),
    "invoice_captured": (86, "abgeschlossen (Rechnung offen)"),
    "denied": (3, "abgelehnt"),
    "void": (5, "storniert"),
    "refund": (7, "Erstattung vorgemerkt"),
    "chargeback": (69, "Chargeback"),
}
PRODUCT_NAMES = {"creditcard": "Kreditkarte", "debit": "Lastschrift", "paypal": "PayPal",
                 "prepaid": "Vorkasse", "invoice": "Kauf auf Rechnung", "refund": "Erstattung"}
TEST_PRODUCTS = {"secupaycreditcards": "creditcard", "secupaydebits": "debit", "secupayprepays": "prepaid",
                 "secupayinvoices": "invoice", "secupaysofort": "sofort"}
PAID_STX = {"ok", "received", "shipped", "collection", "collected"}


@dataclass
class Scenarios:
    outcome: str = "normal"  # normal (test data decides) | reject | review
    push: str = "normal"  # normal | lost | late | repeated | reordered
    token_refusal: int = 403  # 403/2003 as documented, or 401 as the SDKs also expect
    prepaid_simple: int = 2  # 2 as in the API's example, or 10 as pretix reads it
    api: str = "normal"  # normal | slow | error
    token_lifetime: int = 1200


@dataclass
class Pci:
    id: str
    stx_id: str
    method: str
    amount: int
    currency: str
    push_url: str | None
    merchant_ref: str = ""
    simple: int = 8
    detailed: tuple[int, str] = (0, "erstellt")
    trans_id: int = field(default_factory=ids.trans_id)
    transaction_hash: str = field(default_factory=ids.transaction_hash)
    created: str = field(default_factory=ids.now)
    updated: str | None = None
    parent: str | None = None  # refunds: the original
    children: list[str] = field(default_factory=list)
    reduced: int = 0  # cancelled or refunded so far
    partial_cancel_done: bool = False
    completion_date: str | None = None
    shipping: dict = field(default_factory=dict)
    payment_data: dict = field(default_factory=dict)
    customer: dict = field(default_factory=dict)

    @property
    def executed(self) -> bool:
        """Money moved (or was guaranteed): later reductions are refunds."""
        return self.simple in (1, 4, 6, 9)


@dataclass
class Stx:
    id: str
    request: dict
    contract: str
    base_url: str  # the sandbox's own address as the creating client reached it
    status: str = "created"
    created: str = field(default_factory=ids.now)
    updated: str | None = None
    customer_id: str = field(default_factory=lambda: ids.object_id("PCU"))
    shipping_id: str = field(default_factory=lambda: ids.object_id("PCU"))
    payment_method: str | None = None
    pci_id: str | None = None
    container: dict | None = None
    payment_instructions: dict | None = None
    delivery_options: dict | None = None
    note: str = ""  # what the hosted page should tell the payer (a decline, say)
    iframe_url: str | None = None  # after prepare: where the payer authorises (card, PayPal)
    callback_urls: dict = field(default_factory=dict)  # after prepare: where that page returns to

    @property
    def amount(self) -> int:
        return self.request["basket_info"]["sum"]

    @property
    def currency(self) -> str:
        return self.request["basket_info"].get("currency", "EUR")

    @property
    def auto_capture(self) -> bool:
        return bool((self.request.get("payment_context") or {}).get("auto_capture", False))

    @property
    def return_urls(self) -> dict:
        urls = dict((self.request.get("application_context") or {}).get("return_urls") or {})
        failure = urls.pop("url_failure", None)
        if failure:  # write-only: sets url_error and url_abort
            urls.setdefault("url_error", failure)
            urls.setdefault("url_abort", failure)
        return urls

    @property
    def language(self) -> str:
        lang = str((self.request.get("application_context") or {}).get("language") or "de")
        return "en" if lang.lower().startswith("en") else "de"

    @property
    def methods(self) -> tuple[str, ...]:
        wanted = (self.request.get("payment_context") or {}).get("payment_methods")
        return tuple(m for m in METHODS_OF.get(self.contract, CONTRACT_METHODS) if not wanted or m in wanted)


class Sandbox:
    # What secupay remembers across a restart of its process (shop.sandbox_host keeps it on disk).
    PERSISTED = ("tokens", "token_fetches", "scenarios", "read_back_broken", "stx", "pending_cards", "pci")

    def __init__(self, outbound: httpx.AsyncClient | None = None, *, retry_delays=(0.5, 1, 2, 4, 8),
                 late_delay: float = 3.0, slow_delay: float = 3.0, push_timeout: float = 30.0) -> None:
        self.clients = {CLIENT_ID: CLIENT_SECRET}
        self.contracts = {contract: {"currencies": {"EUR"}, "client": CLIENT_ID} for contract in METHODS_OF}
        self.tokens: dict[str, float] = {}  # token -> expiry on self.clock
        self.token_fetches = 0
        self.clock = time.monotonic
        self.scenarios = Scenarios()
        self.read_back_broken = False
        self.slow_delay = slow_delay
        self.stx: dict[str, Stx] = {}
        self.pending_cards: dict[str, dict] = {}  # STX id -> card waiting for its 3-D Secure answer
        self.pci: dict[str, Pci] = {}
        self.pusher = Pusher(outbound, retry_delays=retry_delays, late_delay=late_delay, timeout=push_timeout)

    def reset(self) -> None:
        """Back to a fresh contract (the demo's reset): no transactions, pushes or scenarios. The
        shop's access tokens stay valid, as a provider's would; new ids are random as ever."""
        self.scenarios = Scenarios()
        self.read_back_broken = False
        self.stx.clear()
        self.pending_cards.clear()
        self.pci.clear()
        self.pusher.reset()

    # ------------------------------------------------------------------ tokens

    def issue_token(self) -> dict:
        token = ids.access_token()
        lifetime = self.scenarios.token_lifetime
        self.tokens[token] = self.clock() + lifetime
        self.token_fetches += 1
        return {"access_token": token, "expires_in": lifetime, "token_type": "bearer",
                "scope": "https://scope.secucard.com/e/api"}

    def token_valid(self, token: str | None) -> bool:
        expiry = self.tokens.get(token or "")
        return expiry is not None and self.clock() < expiry

    def expire_tokens(self) -> None:
        self.tokens.clear()

    # ------------------------------------------------------------------ lookups

    def get_stx(self, stx_id: str) -> Stx:
        stx = self.stx.get(stx_id)
        if stx is None:
            raise not_found("smart.transactions", stx_id)
        return stx

    def get_pci(self, pci_id: str) -> Pci:
        pci = self.pci.get(pci_id)
        if pci is None:
            # checkStatus also takes the old Flex hash
            pci = next((p for p in self.pci.values() if p.transaction_hash == pci_id), None)
        if pci is None:
            raise not_found("payment.transactions", pci_id)
        return pci

    # ------------------------------------------------------------------ Smart Transactions

    def create(self, body: dict, contract: str, base_url: str) -> Stx:
        stx = Stx(id=ids.object_id("STX"), request=copy.deepcopy(body), contract=contract, base_url=base_url)
        self.stx[stx.id] = stx
        return stx

    def update(self, stx: Stx, body: dict) -> None:
        if stx.status != "created":
            raise not_allowed("The smart transaction cannot be changed after the payment was executed")
        stx.request = copy.deepcopy(body)
        stx.updated = ids.now()

    def _touch(self, stx: Stx, status: str | None = None) -> None:
        if status:
            stx.status = status
        stx.updated = ids.now()

    def _set(self, pci: Pci, simple: int, detailed: str | tuple[int, str], *, push: bool = True) -> None:
        changed = pci.simple != simple
        pci.simple = simple
        pci.detailed = DETAILED[detailed] if isinstance(detailed, str) else detailed
        pci.updated = ids.now()
        if changed and push:
            self.push(pci)

    def push(self, pci: Pci, kind: str = "changed") -> None:
        if not pci.push_url:
            return
        record = PushRecord(url=pci.push_url, body=push_body(pci.id, kind), stx_id=pci.stx_id)
        self.pusher.send(record, self.scenarios.push)

    def pay(self, stx: Stx, method: str, *, container: dict | None = None,
            payment_data: dict | None = None) -> None:
        """The payer completed the hosted checkout with ``method``."""
        if stx.status != "created":
            raise not_allowed(f"The smart transaction is {stx.status} and cannot be paid again")
        contact = ((stx.request.get("customer") or {}).get("contact") or {})
        pci = Pci(id=ids.object_id("PCI"), stx_id=stx.id, method=method, amount=stx.amount,
                  currency=stx.currency, push_url=stx.return_urls.get("url_push"),
                  merchant_ref=str(stx.request.get("merchantRef") or ""),
                  payment_data=payment_data or {},
                  customer={k: contact.get(k) for k in ("companyname", "salutation", "title", "forename", "surname")})
        self.pci[pci.id] = pci
        stx.pci_id = pci.id
        stx.payment_method = method
        stx.note = ""
        if container:
            stx.container = {"object": "payment.containers", "id": ids.object_id("PCT"), **container}
        outcome = self.scenarios.outcome
        if outcome == "reject":
            self._touch(stx, "failed")
            self._set(pci, 3, "denied")
            return
        if method == "prepaid":
            stx.payment_instructions = self.instructions(stx, pci)
            self._touch(stx, "pending")
            self._set(pci, self.scenarios.prepaid_simple, "prepaid_waiting")
        elif method == "invoice":
            stx.payment_instructions = self.instructions(stx, pci)
            self._touch(stx, "ok" if stx.auto_capture else "approved")
            self._set(pci, 14, "invoice_open")
        elif outcome == "review":
            self._touch(stx, "pending")
            self._set(pci, 10, "risk_check")
        elif stx.auto_capture:
            self._touch(stx, "ok")
            self._set(pci, 1, "accepted")
        else:
            self._touch(stx, "approved")
            self._set(pci, 2, "authorized")

    def instructions(self, stx: Stx, pci: Pci) -> dict:
        return {**BANK, "purpose": f"TA {pci.trans_id}", "girocode_url": f"{stx.base_url}/qr/epc?stx={stx.id}"}

    def fail(self, stx: Stx, note: str = "") -> None:
        if stx.status in PAID_STX or stx.status in ("failed", "cancelled"):
            raise not_allowed(f"The smart transaction is {stx.status}; it cannot fail any more")
        self._touch(stx, "failed")
        stx.note = note
        if stx.pci_id:
            self._set(self.pci[stx.pci_id], 3, "denied")

    def cancel(self, stx: Stx, status: str = "cancelled") -> None:
        if stx.status in PAID_STX:
            raise not_allowed("The smart transaction was paid; refund its payment transaction instead")
        if stx.status in ("failed", "cancelled"):
            raise not_allowed(f"The smart transaction is already {stx.status}")
        self._touch(stx, status)
        if stx.pci_id:
            self._set(self.pci[stx.pci_id], 5, "void")

    def receive_transfer(self, stx: Stx) -> None:
        """Control page: the prepaid money arrived at secupay."""
        pci = self.pci.get(stx.pci_id or "")
        if pci is None or pci.method != "prepaid" or stx.status != "pending":
            raise not_allowed("Only a prepaid transaction waiting for its transfer can receive money")
        self._touch(stx, "ok")
        self._set(pci, 1, "accepted")

    def accept_review(self, stx: Stx) -> None:
        pci = self.pci.get(stx.pci_id or "")
        if pci is None or pci.simple != 10 or pci.method == "prepaid":
            raise not_allowed("Only a payment under risk check can be accepted")
        self._touch(stx, "ok")
        self._set(pci, 1, "accepted")

    def chargeback(self, stx: Stx) -> None:
        pci = self.pci.get(stx.pci_id or "")
        if pci is None or not pci.executed:
            raise not_allowed("Only a paid transaction can be charged back")
        self._set(pci, 4, "chargeback")

    def prepare(self, stx: Stx, method: str, body: dict) -> None:
        """POST .../prepare/{method} (custom checkout): debit pays from the container sent;
        card and PayPal need the payer on an external page first (``iframe_url``)."""
        if stx.status != "created":
            raise not_allowed(f"The smart transaction is {stx.status} and cannot be prepared")
        if method not in stx.methods:
            raise format_error(f"method: {method} is not available for this contract")
        if body.get("customer"):
            stx.request["customer"] = body["customer"]
        if method == "debit":
            container = body.get("container") or {}
            private = container.get("private") or {}
            if container.get("type") != "bank_account" or not private.get("owner"):
                raise format_error("container: a bank_account with owner and iban is required")
            if not iban_ok(str(private.get("iban", ""))):
                raise format_error("container.private.iban: invalid IBAN")
            masked = {"owner": private["owner"], "iban": mask_iban(private["iban"])}
            self.pay(stx, "debit", container={"type": "bank_account", "private": masked}, payment_data=masked)
        elif method in ("creditcard", "paypal"):
            stx.iframe_url = self.links(stx)[method]
            stx.callback_urls = body.get("callback_urls") or {}
            stx.updated = ids.now()
        else:
            raise format_error(f"method: {method} is started with /start/{method}, not prepared")

    def start(self, stx: Stx, method: str | None) -> None:
        """POST .../start: capture an approved STX, or begin prepaid/invoice without the page."""
        if stx.status == "approved" and stx.pci_id:
            self.capture(self.pci[stx.pci_id], None, {})
            return
        if stx.status == "created" and method in ("prepaid", "invoice"):
            self.pay(stx, method)
            return
        raise not_allowed("The current status of the payment does not allow to capture it")

    def set_delivery(self, stx: Stx, options: Any) -> None:
        if not isinstance(options, dict) or options.get("type") not in ("shipping", "collection"):
            raise format_error("delivery_options.type: use shipping or collection")
        if stx.status not in PAID_STX and stx.status != "approved":
            raise not_allowed(f"The smart transaction is {stx.status}; it cannot be delivered")
        if options["type"] == "collection" and (stx.delivery_options or {}).get("type") == "collection":
            raise not_allowed("A collection can be marked only once")
        stx.delivery_options = dict(options)
        if stx.request.get("intent") == "order":
            self._touch(stx, "shipped" if options["type"] == "shipping" else "collected")
        else:
            self._touch(stx)

    # ------------------------------------------------------------------ Payment Transactions

    def reduce(self, pci: Pci, by: Any, reason: Any) -> list[Pci]:
        """POST .../cancel: cancel before execution, refund after it. Answers [original, refund?]."""
        if pci.parent:
            raise not_allowed("A refund transaction cannot be cancelled")
        if pci.simple in (3, 5, 7) or pci.simple == 8:
            raise not_allowed(f"The payment is {SIMPLE_TEXT[pci.simple]} and cannot be cancelled or refunded")
        remaining = pci.amount - pci.reduced
        if by is None:
            by = remaining
        if not isinstance(by, int) or isinstance(by, bool) or by <= 0:
            raise format_error("reduce_amount_by: must be a positive amount in cents")
        if by > remaining:
            raise not_allowed(f"reduce_amount_by: {by} is more than the remaining amount {remaining}", 1001)
        if reason is not None and (not isinstance(reason, str) or len(reason) > 100):
            raise format_error("reason: at most 100 characters")
        stx = self.stx[pci.stx_id]
        full = by == remaining
        if not pci.executed:
            if pci.method == "creditcard" and not full:
                if pci.detailed != DETAILED["authorized"] or pci.partial_cancel_done:
                    raise not_allowed("A card payment can be lowered only once, while it is authorised")
                pci.partial_cancel_done = True
            pci.reduced += by
            if full:
                self._touch(stx, "cancelled")
                self._set(pci, 5, "void")
            else:
                pci.updated = ids.now()
            return [pci]
        refund = Pci(id=ids.object_id("PCI"), stx_id=pci.stx_id, method="refund", amount=-by,
                     currency=pci.currency, push_url=pci.push_url, merchant_ref=pci.merchant_ref,
                     parent=pci.id, customer=pci.customer)
        refund.simple, refund.detailed, refund.updated = 1, DETAILED["accepted"], ids.now()
        self.pci[refund.id] = refund
        pci.children.append(refund.id)
        pci.reduced += by
        pci.updated = ids.now()
        self.push(refund, "added")
        if full:
            self._set(pci, 5, "void")
        return [pci, refund]

    def capture(self, pci: Pci, amount: Any, shipping: Any) -> Pci:
        capturable = pci.simple == 14 or (pci.simple == 2 and pci.detailed == DETAILED["authorized"])
        if not capturable:
            raise not_allowed("The current status of the payment does not allow to capture it")
        remaining = pci.amount - pci.reduced
        if amount is not None and (not isinstance(amount, int) or isinstance(amount, bool)
                                   or not 0 < amount <= remaining):
            raise format_error(f"amount: must be between 1 and the authorised {remaining}")
        if shipping is not None and not isinstance(shipping, dict):
            raise format_error("shipping_information: must be an object")
        if shipping:
            pci.shipping.update(shipping)
        if amount is not None and amount < remaining:
            pci.reduced += remaining - amount  # the rest of the authorisation is released
        pci.completion_date = ids.now()
        stx = self.stx[pci.stx_id]
        if stx.status == "approved":
            self._touch(stx, "ok")
        self._set(pci, 1, "invoice_captured" if pci.method == "invoice" else "accepted")
        return pci

    def shipping_information(self, pci: Pci, info: Any) -> None:
        if not isinstance(info, dict):
            raise format_error("no payload")
        pci.shipping.update(info)
        pci.updated = ids.now()

    def force_status(self, product: str, pci: Pci, new_status: Any) -> None:
        """TestChangedPaymentStatus; the sandbox reads new_status_id as a simple status id."""
        method = TEST_PRODUCTS.get(product.lower())
        if method is None or method != pci.method:
            raise not_found(f"payment.{product.lower()}", pci.id)
        if not isinstance(new_status, int) or isinstance(new_status, bool) or new_status not in SIMPLE_TEXT:
            raise format_error("new_status_id: unknown status id")
        stx = self.stx[pci.stx_id]
        detail = {1: "accepted", 2: "authorized", 3: "denied", 4: "chargeback", 5: "void", 7: "refund",
                  10: "risk_check", 14: "invoice_open"}.get(new_status, (new_status, SIMPLE_TEXT[new_status]))
        if method == "prepaid" and new_status in (2, 10):
            detail = "prepaid_waiting"
        self._set(pci, new_status, detail)
        stx_status = {1: "ok", 3: "failed", 5: "cancelled"}.get(new_status)
        if stx_status and not (stx_status == "cancelled" and stx.status in PAID_STX):
            self._touch(stx, stx_status)

    # ------------------------------------------------------------------ representations

    def links(self, stx: Stx) -> dict:
        base = f"{stx.base_url}/checkout"
        tail = f"stx={stx.id}&contract={stx.contract}&server=sandbox"
        # The parameter spellings vary by method exactly as in secuconnect's own example.
        spelled = {"creditcard": "payment-method=creditcard", "debit": "payment-method=debit",
                   "paypal": "payment-method=paypal", "prepaid": "payment-method=prepay",
                   "invoice": "initPaymentMethod=invoice"}
        links = {m: f"{base}?{spelled[m]}&{tail}" for m in stx.methods}
        links["general"] = f"{base}?{tail}"
        return links

    def stx_json(self, stx: Stx) -> dict:
        req = copy.deepcopy(stx.request)
        out: dict[str, Any] = {
            "object": "smart.transactions",
            "id": stx.id,
            "merchant": MERCHANT,
            "contract": {"object": "general.contracts", "id": stx.contract},
            "created": stx.created,
            "status": stx.status,
        }
        if stx.updated:
            out["updated"] = stx.updated
        for key in ("customer", "shipping_address"):
            holder = req.get(key)
            if isinstance(holder, dict) and isinstance(holder.get("contact"), dict):
                contact = dict(holder["contact"])
                contact["name"] = " ".join(p for p in (contact.get("forename"), contact.get("surname")) if p)
                for phone in ("phone", "mobile"):
                    if contact.get(phone):
                        contact[phone] = contact[phone].replace(" ", "")
                out[key] = {"object": "payment.customers",
                            "id": stx.customer_id if key == "customer" else stx.shipping_id,
                            "contact": contact}
        products = ((req.get("basket") or {}).get("products")) or []
        if products:
            echoed = []
            for item in products:
                full = {"id": None, "parent": None, "articleNumber": None, "ean": None, "desc": None,
                        "quantity": None, "priceOne": None, "tax": None, "group": None, "serialNumber": None,
                        "item_type": "article", "reference_id": None}
                full.update(item)
                echoed.append(full)
            out["basket"] = {"products": echoed, "type": "default"}
        out["basket_info"] = {"sum": stx.amount, "currency": stx.currency}
        for key in ("merchantRef", "transactionRef"):
            if key in req:
                out[key] = req[key]
        out["is_demo"] = bool(req.get("is_demo", False))
        out["intent"] = req.get("intent", "sale")
        app = dict(req.get("application_context") or {})
        if app.get("return_urls"):
            app["return_urls"] = stx.return_urls
        out["application_context"] = app
        payment = dict(req.get("payment_context") or {})
        payment.setdefault("auto_capture", False)
        payment.setdefault("payment_methods", None)
        payment.setdefault("merchant_initiated", False)
        payment.setdefault("accrual", False)
        payment.setdefault("creditcard_schemes", ["mastercard", "visa", "american express"])
        out["payment_context"] = payment
        out["payment_links"] = self.links(stx)
        if stx.payment_method:
            out["payment_method"] = stx.payment_method
        if stx.pci_id:
            pci = self.pci[stx.pci_id]
            out["trans_id"] = pci.trans_id
            out["transactions"] = [{"object": "payment.transactions", "id": pci.id, "trans_id": pci.trans_id,
                                    "transaction_hash": pci.transaction_hash}]
        if stx.container:  # instrument data read back masked, as secuconnect does
            out["container"] = {**stx.container, "private": masked(stx.container.get("private") or {})}
        if stx.payment_instructions:
            out["payment_instructions"] = stx.payment_instructions
        if stx.delivery_options:
            out["delivery_options"] = stx.delivery_options
        if stx.iframe_url and stx.status == "created":
            out["iframe_url"] = stx.iframe_url
        for key, value in req.items():  # whatever else the shop sent is echoed
            out.setdefault(key, value)
        return out

    def pci_json(self, pci: Pci) -> dict:
        product = PRODUCT_NAMES.get(pci.method, pci.method)
        if self.stx[pci.stx_id].request.get("is_demo"):
            product += " (Demo)"
        out = {
            "object": "payment.transactions",
            "id": pci.id,
            "created": pci.created,
            "updated": pci.updated,
            "platform": "secupay",
            "merchant": MERCHANT,
            "contract": {"object": "general.contracts", "id": self.stx[pci.stx_id].contract},
            "trans_id": pci.trans_id,
            "transaction_hash": pci.transaction_hash,
            "product": product,
            "product_raw": pci.method,
            "amount": pci.amount,
            "currency": pci.currency,
            "completion_date": pci.completion_date,
            "description": f"TA-Code {pci.trans_id}",
            "status": pci.detailed[0],
            "status_text": pci.detailed[1],
            "details": {
                "amount": pci.amount - pci.reduced if pci.amount > 0 else pci.amount,
                "cleared": "open",
                "status": pci.detailed[0],
                "status_text": pci.detailed[1],
                "status_simple": pci.simple,
                "status_simple_text": SIMPLE_TEXT.get(pci.simple),
                "description": f"TA-Code {pci.trans_id}",
            },
            "customer": pci.customer,
            "payment_data": masked(pci.payment_data),
            "order_id": pci.shipping.get("order_id") or pci.merchant_ref,
            "invoice_number": pci.shipping.get("invoice_number"),
            "parents": [],
            "related_transactions": [],
        }
        if pci.parent:
            parent = self.pci[pci.parent]
            ref = {"object": "payment.transactions", "id": parent.id, "ref_type_id": 19, "trans_id": parent.trans_id}
            out["parents"] = [ref]
            out["related_transactions"] = [{**ref, "ref_type_raw": "refund", "hierarchy": "parent"}]
            out["description"] = f"TA-Code {parent.trans_id}|Refund TA-Code {pci.trans_id}"
        for child_id in pci.children:
            child = self.pci[child_id]
            out["related_transactions"].append({"object": "payment.transactions", "id": child.id,
                                                "trans_id": child.trans_id, "ref_type_id": 19,
                                                "ref_type_raw": "refund", "hierarchy": "child"})
        return out

    def check_status(self, pci: Pci) -> dict:
        effective = 0 if pci.simple == 5 else pci.amount - pci.reduced
        return {"status": pci.detailed[0], "status_text": pci.detailed[1], "status_simple": pci.simple,
                "status_simple_text": SIMPLE_TEXT.get(pci.simple), "amount": effective, "currency": pci.currency}

"""Reconciliation reports (executeReport) rendered from a transaction period, as SEQR shapes them."""

from __future__ import annotations

import base64
from collections import defaultdict
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

if TYPE_CHECKING:
    from .state import Period, SeqrSandbox

_TITLES = {
    "Reconciliation/Shop.xml": ("ResellerTransactionSummary", "Merchant Transactions"),
    "Reconciliation/STD_RECON_002.xml": ("TerminalTransactionSummary", "Merchant Transactions Summary"),
    "Reconciliation/STD_RECON_003.xml": ("TransactionDetails", "Merchant Transactions Details"),
    "Reconciliation/STD_RECON_004.xml": ("CashierTransactionSummary", "Merchant Transactions Summary by cashier"),
    "Reconciliation/STD_RECON_006.xml": ("TerminalTransactionSummary", "Terminal Transactions Summary"),
    "Reconciliation/STD_RECON_007.xml": ("TransactionDetails", "Terminal Transactions Details"),
}


def _money(value: Decimal) -> str:
    return f"{value:.5f}"  # SEQR's reports carry five decimals


def _row(**cells: Any) -> str:
    return "<Row>" + "".join(f"<{k}>{escape(str(v))}</{k}>" for k, v in cells.items()) + "</Row>"


def render_report(report_id: str, period: Period, sandbox: SeqrSandbox) -> dict[str, Any]:
    root, _ = _TITLES[report_id]
    payments = period.payments
    meta = f"<Meta><ResellerId>{escape(period.reseller_id)}</ResellerId>"
    if period.terminal_id:
        meta += f"<TerminalId>{escape(period.terminal_id)}</TerminalId>"
    meta += (f"<TransactionPeriodId>{period.id}</TransactionPeriodId>"
             f"<GeneratedAt>{sandbox.clock.now():%Y-%m-%d %H:%M}</GeneratedAt></Meta>")
    rows: list[str] = []
    if root == "TransactionDetails":
        for inv in payments:
            rows.append(_row(TerminalId=inv.terminal_id, CashierId=inv.data.get("cashier_id") or "",
                             SalesAmount=_money(inv.total), ErsReference=inv.ers_reference))
    elif report_id == "Reconciliation/STD_RECON_002.xml":
        by: dict[str, list] = defaultdict(list)
        for inv in payments:
            by[inv.terminal_id].append(inv.total)
        for terminal_id, amounts in sorted(by.items()):
            rows.append(_row(TerminalId=terminal_id, SalesCount=len(amounts), SalesTotal=_money(sum(amounts))))
    elif root == "CashierTransactionSummary":
        by = defaultdict(list)
        for inv in payments:
            by[inv.data.get("cashier_id") or ""].append(inv.total)
        for cashier, amounts in sorted(by.items()):
            rows.append(_row(CashierId=cashier, SalesCount=len(amounts), SalesTotal=_money(sum(amounts))))
    else:
        rows.append(_row(SalesCount=len(payments), SalesTotal=_money(sum((i.total for i in payments), Decimal(0)))))
    text = f'<?xml version="1.0" encoding="UTF-8"?><{root}>{meta}{"".join(rows)}</{root}>'
    name = report_id.removeprefix("Reconciliation/")
    title = "" if name == "Shop.xml" else f"{name.removesuffix('.xml')}_{period.id}.xml"
    return {"title": title, "mimeType": "text/html", "content": base64.b64encode(text.encode()).decode(),
            "contentString": text}

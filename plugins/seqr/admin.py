"""The back office's SEQR page (/admin/seqr/): close the day's period and read SEQR's reports."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from shop.i18n import gettext as _
from shop.payments.contract import ProviderError
from shop.security import checked_form
from shop.web import flash, render

from .client import REPORT_IDS, TERMINAL_REPORTS

if TYPE_CHECKING:
    from .plugin import SeqrPlugin

BASE = "/admin/seqr/"


def routes(plugin: SeqrPlugin) -> list[Route]:
    async def page(request: Request) -> Response:
        params = request.query_params
        report_id, period_id = params.get("report", ""), params.get("period", "").strip()
        report, rows, error = None, [], ""
        if report_id and period_id:
            if report_id not in REPORT_IDS:
                error = _("Pick one of SEQR's reports.")
            else:
                terminal = plugin.settings.terminal_id if report_id in TERMINAL_REPORTS else None
                try:
                    report = await plugin.execute_report(report_id, period_id, terminal_id=terminal)
                    rows = report.rows()
                except ProviderError as exc:
                    error = exc.message
        columns = list(dict.fromkeys(key for row in rows for key in row))
        return await render(request, "seqr/admin_reports.html", {
            "plugin": plugin, "periods": plugin.periods, "report_ids": REPORT_IDS, "report": report,
            "rows": rows, "columns": columns, "error": error, "chosen": (report_id, period_id),
            "terminal_reports": TERMINAL_REPORTS,
        })

    async def close(request: Request) -> Response:
        form = await checked_form(request)
        terminal = plugin.settings.terminal_id if form.get("scope") == "terminal" else None
        try:
            period_id = await plugin.mark_transaction_period(terminal)
        except ProviderError as exc:
            flash(request, _("SEQR refused: %(message)s") % {"message": exc.message}, "error")
        else:
            flash(request, _("Period %(period)s closed at SEQR. Its reports are ready in a few seconds.")
                  % {"period": period_id})
        return RedirectResponse(BASE, status_code=303)

    return [
        Route("/", page, name="seqr_reports"),
        Route("/close", close, methods=["POST"], name="seqr_close_period"),
    ]

"""CSRF tokens, security headers and the checks every form post goes through."""

from __future__ import annotations

import hmac
import secrets

from starlette.datastructures import FormData, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shop.i18n import gettext as _

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
# Fields a browser must never send: prices and totals are the server's alone.
PRICE_FIELDS = frozenset({"price", "price_cents", "unit_price", "total", "total_cents", "amount", "amount_cents"})


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = secrets.token_urlsafe(24)
    return token


async def checked_form(request: Request) -> FormData:
    """The posted form, once its CSRF token matches the session's and it carries no price."""
    form = await request.form()
    sent = str(form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER) or "")
    expected = request.session.get("csrf", "")
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise HTTPException(403, _("This form has expired or did not come from this shop. Reload the page and try again."))
    if PRICE_FIELDS & set(form.keys()):
        raise HTTPException(400, _("Prices and totals are set by the shop and cannot be sent with a form."))
    return form


BASE_CSP = {
    "default-src": ("'self'",),
    "img-src": ("'self'", "data:"),
    "style-src": ("'self'", "'unsafe-inline'"),
    "script-src": ("'self'",),
    "connect-src": ("'self'",),
    "frame-ancestors": ("'none'",),
    "base-uri": ("'self'",),
    "object-src": ("'none'",),
}


def build_csp(extra: dict[str, tuple[str, ...]] | None) -> str:
    directives = {k: list(v) for k, v in BASE_CSP.items()}
    for directive, sources in (extra or {}).items():
        merged = directives.setdefault(directive, list(BASE_CSP["default-src"]))
        merged.extend(s for s in sources if s not in merged)
    return "; ".join(f"{k} {' '.join(v)}" for k, v in directives.items())


def allow_in_csp(request: Request, extra: dict[str, tuple[str, ...]]) -> None:
    """Let this one response's page load what a plugin declared (SeQura's form script, say)."""
    current = dict(getattr(request.state, "csp_extra", {}) or {})
    for directive, sources in extra.items():
        current[directive] = tuple(current.get(directive, ())) + tuple(sources)
    request.state.csp_extra = current


HSTS = "max-age=31536000; includeSubDomains"


class SecurityHeaders:
    """Adds security headers to the store's responses. The sandboxes play other companies'
    sites and set their own, so their paths are left alone."""

    def __init__(self, app: ASGIApp, exempt_prefixes: tuple[str, ...] = ("/sandbox",), hsts: bool = False) -> None:
        self.app = app
        self.exempt = exempt_prefixes
        self.hsts = hsts  # the store is public over https (PUBLIC_URL): browsers never try it over http again

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(self.exempt):
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                extra = scope.get("state", {}).get("csp_extra")
                headers.setdefault("content-security-policy", build_csp(extra))
                headers.setdefault("x-content-type-options", "nosniff")
                headers.setdefault("referrer-policy", "same-origin")
                headers.setdefault("x-frame-options", "DENY")
                headers.setdefault("permissions-policy", "camera=(), microphone=(), geolocation=()")
                if self.hsts:
                    headers.setdefault("strict-transport-security", HSTS)
            await send(message)

        await self.app(scope, receive, send_with_headers)

"""Pages every shopper sees alike, served from memory: the catalog is the busiest page of a
shop and, apart from the header's cart count and the session's CSRF token, the same for all.

A shared page is rendered once per language and cart size for each version of its data (the
catalog's listing, read at most once a second), with a placeholder where the CSRF token goes;
serving it is a dictionary lookup and one string replacement. Requests with something of their
own to show (a flash message, a query string the language switcher must keep) are rendered in
full, as before."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Hashable

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from shop.i18n import current_locale
from shop.security import csrf_token
from shop.web import cart_count, render

# Random per process: no product name or plugin snippet can contain it by chance or design.
_CSRF_HOLE = f"csrf-{secrets.token_hex(16)}"


def _hole(request: Request) -> str:
    return _CSRF_HOLE


class SharedPage:
    """One shared page (a template), its rendered copies by (language, cart size), all dropped
    when ``version`` changes."""

    def __init__(self, template: str) -> None:
        self.template = template
        self._version: Hashable = None
        self._copies: dict[tuple[str, int], str] = {}

    async def serve(self, request: Request, version: Hashable,
                    context: Callable[[], Awaitable[dict]]) -> Response:
        """The page for this request; ``context()`` builds the template's context when it must be rendered."""
        if not _is_shared(request):
            return await render(request, self.template, await context())
        if version != self._version:
            self._version, self._copies = version, {}
        count = await cart_count(request)
        key = (current_locale(), count)
        html = self._copies.get(key)
        if html is None:
            page = request.app.state.templates.get_template(self.template)
            html = page.render({**await context(), "request": request, "count": count, "flashes": [],
                                "csrf_token": _hole})
            if version == self._version:  # not overtaken by newer data while its context was read
                self._copies[key] = html
        return HTMLResponse(html.replace(_CSRF_HOLE, csrf_token(request)))


def _is_shared(request: Request) -> bool:
    return not request.url.query and not request.session.get("flashes")

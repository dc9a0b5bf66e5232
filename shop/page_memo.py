"""Pages kept as rendered HTML, by what they show: rendering a page in Jinja costs several times
what reading its data does, and the same data is shown again and again (the catalog to every
shopper, a cart each time its shopper looks at it).

A page is rendered with a placeholder where the session's CSRF token goes, and kept under the
data it shows, its language and the header's cart size; serving it again is a dictionary lookup
and one string replacement. The data is still read for every request (the catalog's listing at
most a second old, a cart from the database), so a kept page is never older than its data.
Requests with something of their own to show (a flash message, a query string the language
switcher must carry) are rendered in full."""

from __future__ import annotations

import secrets
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from shop.i18n import current_locale
from shop.security import csrf_token
from shop.web import cart_count, remember_cart_count, render

# Random per process: no product name or plugin snippet can contain it by chance or design.
_CSRF_HOLE = f"csrf-{secrets.token_hex(16)}"
KEPT_PAGES = 256  # per template and process: some 2 MB of HTML at most


def _hole(request: Request) -> str:
    return _CSRF_HOLE


class PageMemo:
    """One template's rendered pages, the most recently shown ``size`` kept."""

    def __init__(self, template: str, size: int = KEPT_PAGES) -> None:
        self.template = template
        self.size = size
        self._pages: OrderedDict[Hashable, str] = OrderedDict()

    async def serve(self, request: Request, shows: Hashable, context: Callable[[], Awaitable[dict]], *,
                    count: int | None = None) -> Response:
        """The page for this request. ``shows`` stands for all the data the page shows (equal
        when the page would be the same); ``context()`` builds the template's context when it
        must be rendered. The language and the header's cart count (``count`` when the page
        counted the cart itself) are added to it here."""
        if not _is_plain(request):
            extra = {} if count is None else {"count": count}
            return await render(request, self.template, {**await context(), **extra})
        if count is None:
            count = await cart_count(request)
        else:
            remember_cart_count(request, count)
        key = (shows, current_locale(), count)
        html = self._pages.get(key)
        if html is None:
            page = request.app.state.templates.get_template(self.template)
            html = page.render({**await context(), "request": request, "count": count, "flashes": [],
                                "csrf_token": _hole})
            self._pages[key] = html
            if len(self._pages) > self.size:
                self._pages.popitem(last=False)
        else:
            self._pages.move_to_end(key)
        return HTMLResponse(html.replace(_CSRF_HOLE, csrf_token(request)))


def _is_plain(request: Request) -> bool:
    return not request.url.query and not request.session.get("flashes")

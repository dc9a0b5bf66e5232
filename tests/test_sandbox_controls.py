"""Every form on every sandbox's control page answers, whether the sandbox is served by the sandbox
process (mounted under /sandbox/<plugin>/) or alone at the root (``shop sandbox NAME``): each is
posted as the page fills it in, and its answer followed back to a page, never a server error."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urljoin

import httpx
import pytest

from shop.payments.contract import PluginRuntime
from shop.payments.registry import discover
from shop.sandbox_host import create_sandbox_host
from shop.settings import Settings, load_plugin_settings

pytestmark = pytest.mark.anyio
HOST = "http://127.0.0.1:9000"
PLUGINS = ("banktransfer", "secupay", "seqr", "sequra")


class Forms(HTMLParser):
    """The POST forms of a page, each with the fields a browser would send unchanged."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, dict[str, str]]] = []
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs) -> None:
        a = {name: value or "" for name, value in attrs}
        if tag == "form" and a.get("method", "get").lower() == "post":
            self.forms.append((a.get("action", ""), {}))
        if not self.forms or "name" not in a and tag != "option":
            return
        fields = self.forms[-1][1]
        if tag == "input" and (a.get("type") not in ("radio", "checkbox") or "checked" in a):
            fields[a["name"]] = a.get("value", "on" if a.get("type") == "checkbox" else "")
        elif tag == "select":
            self._select = a["name"]
        elif tag == "option" and self._select and (self._select not in fields or "selected" in a):
            fields[self._select] = a.get("value", "")

    def handle_data(self, data: str) -> None:
        if self._select and self.forms and self.forms[-1][1].get(self._select) == "":
            self.forms[-1][1][self._select] = data.strip()  # <option>text</option> sends its text

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None


def sandbox_alone(plugin_id: str, outbound: httpx.AsyncClient):
    """As ``shop sandbox NAME --port 9000`` builds it."""
    plugin_cls = discover([plugin_id])[plugin_id]
    runtime = PluginRuntime(http=outbound, public_url="http://127.0.0.1:8000", sandbox_url=HOST,
                            sandbox_http=outbound)
    return plugin_cls(load_plugin_settings(plugin_cls.settings_model, plugin_id, {}, HOST), runtime).sandbox()


async def post_every_form(http: httpx.AsyncClient, page_url: str) -> int:
    page = await http.get(page_url)
    assert page.status_code == 200, page_url
    parser = Forms()
    parser.feed(page.text)
    for action, fields in parser.forms:
        target = urljoin(page_url, action)
        assert target.startswith(page_url), f"{action!r} leaves the sandbox at {page_url}"
        answer = await http.post(target, data=fields, follow_redirects=True)
        assert answer.status_code < 500, f"{target}: {answer.status_code} {answer.text[:200]}"
        assert str(answer.url).startswith(page_url), f"{target} led to {answer.url}"
    return len(parser.forms)


async def a_bank_transfer_expected(http: httpx.AsyncClient, bank_url: str) -> None:
    """One expected credit, so that its row's "Book transfer" is on the page too; its webhook kept
    by the bank (no shop here to receive it)."""
    await http.post(f"{bank_url}scenario", data={"webhook": "lost"})
    created = await http.post(f"{bank_url}v1/expected-credits", headers={"authorization": "Bearer sandbox-api-key"},
                              json={"amount": 1450, "currency": "EUR", "reference": "CW-1", "notify_url": f"{HOST}/cb",
                                    "iban": "DE02120300000000202051"})
    assert created.status_code == 201, created.text


@pytest.mark.parametrize("plugin_id", PLUGINS)
async def test_every_control_form_works_served_alone(plugin_id):
    async with httpx.AsyncClient() as outbound:
        app = sandbox_alone(plugin_id, outbound)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=HOST) as http:
            if plugin_id == "banktransfer":
                await a_bank_transfer_expected(http, f"{HOST}/")
            assert await post_every_form(http, f"{HOST}/") >= 1


async def test_every_control_form_works_mounted_in_the_sandbox_process(tmp_path):
    settings = Settings.from_env({"SANDBOX_URL": HOST, "SANDBOX_STATE_DIR": str(tmp_path),
                                  "SECRET_KEY": "sandbox-test-secret-0123456789"})
    app = create_sandbox_host(settings)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=HOST) as http:
        await a_bank_transfer_expected(http, f"{HOST}/sandbox/banktransfer/")
        for plugin_id in PLUGINS:
            assert await post_every_form(http, f"{HOST}/sandbox/{plugin_id}/") >= 1, plugin_id

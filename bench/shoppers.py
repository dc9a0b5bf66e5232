"""Shoppers for the benches, at the HTTP level: what a browser sends to the store and to each
provider's pages (secupay's hosted page, SEQR's phone app, SeQura's identification form, the
bank's online banking), without a browser.

``Browser`` is one shopper's cookie jar; it times the steps it is told to and, when asked to,
retries a request the shop did not answer the way a person reloads a page (bounded). The
functions below are the providers' steps; ``JOURNEYS`` puts them together into a checkout and
payment per payment method, for benches that send many kinds of shoppers at once.
"""

from __future__ import annotations

import asyncio
import html
import random
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx

CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')
SECUPAY_FORM_ACTION = re.compile(r'<form method="post" action="([^"]+/pay/(?:creditcard|prepaid))"')
SECUPAY_BACK_LINK = re.compile(r'<a class="button" id="back" href="([^"]+)"')
SECUPAY_STX = re.compile(r"stx=(STX_\w+)")
SEQR_INVOICE = re.compile(r'href="SEQR://SEQR\.SE/R(\d+)"')
SEQURA_FORM = re.compile(r'src="([^"]+)/orders/([^/"]+)/pumbaa_form')  # the form_v2 iframe
INSTRUCTION_ROW = re.compile(r"<tr><th>([^<]+)</th><td><code>([^<]*)</code></td></tr>")

CUSTOMER_DE = {"email": "bench@example.com", "phone": "+49 170 1234567", "given_names": "Ada", "surname": "Lovelace",
               "line1": "Hauptstraße 5", "postal_code": "10115", "city": "Berlin", "country_code": "DE",
               "invoice_same": "on"}
SEQURA_MOBILE = "666666666"  # SeQura's one-time code is its last five digits
CUSTOMER_ES = {"email": "bench@example.com", "phone": SEQURA_MOBILE, "given_names": "Fulano", "surname": "De Tal",
               "line1": "Calle Mayor 1", "postal_code": "28013", "city": "Madrid", "country_code": "ES",
               "invoice_same": "on"}
CARD = {"holder": "Ada Lovelace", "number": "4111 1111 1111 1111", "expiry": "12/30", "cvc": "123"}
SEQR_PIN = "1234"
SEQURA_ENDED = {"finish", "show_conflict", "show_error", "reject"}
RETRY_STATUSES = frozenset({502, 503, 504})  # what a proxy in front of a shop that is down answers
# No answer because the shop is not there (refused) or died mid-request (cut). A slow answer is
# waited for, as a browser waits: sending it again would only add to what the shop has to do.
NO_ANSWER = (httpx.ConnectError, httpx.ConnectTimeout, httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError)


class Browser:
    """One shopper's browser: a cookie jar for the store (and the providers' pages it visits).

    ``retry_for`` > 0: a request that gets no answer (connection refused or cut) or a 502/503/504
    is sent again after a short wait, as a person reloads (or posts a form again), until that
    many seconds have passed."""

    def __init__(self, url: str, *, retry_for: float = 0.0, timeout: float = 60.0) -> None:
        # No keep-alive: uvicorn closes idle connections after 5 s, and a request sent on one at
        # that moment fails (browsers retry it; a bench should not count it as the shop's fault).
        self.http = httpx.AsyncClient(base_url=url, timeout=timeout, limits=httpx.Limits(max_keepalive_connections=0))
        self.retry_for = retry_for
        self.retries = 0
        self.server_errors = 0  # answers 5xx, whether sent again or not
        self.timings: dict[str, float] = {}
        self.token = ""

    async def request(self, method: str, url: str, *, step: str = "", **kwargs) -> httpx.Response:
        started = time.perf_counter()
        give_up_at = started + self.retry_for
        wait = 0.25
        try:
            while True:
                try:
                    response = await self.http.request(method, url, **kwargs)
                    self.server_errors += response.status_code >= 500
                    if response.status_code not in RETRY_STATUSES or time.perf_counter() + wait > give_up_at:
                        return response
                except NO_ANSWER:
                    if time.perf_counter() + wait > give_up_at:
                        raise
                self.retries += 1
                await asyncio.sleep(wait)
                wait = min(wait * 2, 2.0)
        finally:
            if step:
                self.timings[step] = self.timings.get(step, 0.0) + time.perf_counter() - started

    async def get(self, url: str, **kwargs) -> httpx.Response:
        return await self.request("GET", url, **kwargs)

    async def post(self, url: str, **kwargs) -> httpx.Response:
        return await self.request("POST", url, **kwargs)

    async def csrf_token(self) -> str:
        if not self.token:
            self.token = CSRF.search((await self.get("/")).text).group(1)
        return self.token

    async def add_to_cart(self, sku: str, quantity: int = 1, *, htmx: bool = False) -> httpx.Response:
        """The catalog's "Add to cart": a 303 to the cart, or with ``htmx`` (as the page's script
        sends it) a fragment, 200, or 409 when the product has run out."""
        return await self.post("/cart/add", data={"sku": sku, "quantity": str(quantity),
                                                  "csrf_token": await self.csrf_token()},
                               headers={"HX-Request": "true"} if htmx else None)

    async def check_out(self, method: str, customer: dict[str, str], *, step: str = "") -> httpx.Response:
        """The checkout page, then the form posted with ``method`` ("plugin:option"): a 303 to the
        order page or to the provider's page when the order was placed."""
        token = await self.csrf_token()
        await self.get("/checkout")
        return await self.post("/checkout", data={**customer, "method": method, "csrf_token": token}, step=step)

    async def aclose(self) -> None:
        await self.http.aclose()


# --------------------------------------------------------------------------- the providers' steps


async def secupay_hosted_page(browser: Browser, link: str, method: str) -> str:
    """secupay's hosted page: pay by card or choose prepayment; returns the link back to the shop."""
    page = await browser.get(link, step="hosted page")
    action = SECUPAY_FORM_ACTION.search(page.text)
    assert page.status_code == 200 and action, f"hosted page: {page.status_code}"
    form = CARD if method == "creditcard" else {}
    result = await browser.post(html.unescape(action.group(1)), data=form, step="pay")
    back = SECUPAY_BACK_LINK.search(result.text)
    assert result.status_code == 200 and back, f"pay: {result.status_code} {result.text[:200]}"
    return html.unescape(back.group(1))


async def back_to_the_shop(browser: Browser, link: str) -> str:
    """Follow a provider's link back to the shop's return URL; returns the order page's path."""
    returned = await browser.get(link, step="return")
    location = returned.headers.get("location", "")
    assert returned.status_code == 303 and location.startswith("/orders/"), f"return: {returned.status_code}"
    return location


async def receive_secupay_transfer(control: httpx.AsyncClient | Browser, sandbox_url: str, stx_id: str) -> int:
    """A prepayment's transfer arrives at secupay (its control page plays the payer's bank)."""
    return (await control.post(f"{sandbox_url}/sandbox/secupay/control/stx/{stx_id}/receive")).status_code


async def pay_seqr_invoice(client: httpx.AsyncClient | Browser, app_url: str, reference: str,
                           pin: str = SEQR_PIN) -> httpx.Response:
    """The payer scans the invoice in SEQR's app and confirms it with the PIN."""
    await client.get(f"{app_url}/invoice/{reference}")
    return await client.post(f"{app_url}/invoice/{reference}/pay", data={"pin": pin})


def transfer_details(order_page: str) -> dict[str, str]:
    """The bank details an order page shows for a transfer: Account owner, IBAN, Amount, Reference..."""
    return {html.unescape(label): html.unescape(value) for label, value in INSTRUCTION_ROW.findall(order_page)}


async def send_transfer(browser: Browser, sandbox_url: str, details: dict[str, str], payer: str) -> httpx.Response:
    """The shopper's online banking: send the amount with the reference to the shop's IBAN."""
    amount = re.sub(r"[^\d.]", "", details["Amount"])  # "€1,234.50" -> "1234.50"
    return await browser.post(f"{sandbox_url}/sandbox/banktransfer/bank", data={
        "payer": payer, "iban": details["IBAN"], "amount": amount, "reference": details["Reference"]})


class SequraForm:
    """SeQura's identification form, driven by its AJAX calls as sequra_form.js does."""

    def __init__(self, browser: Browser, base: str, uuid: str) -> None:
        self.browser = browser
        self.api = f"{base}/orders/{uuid}/form"

    @classmethod
    def on(cls, browser: Browser, order_page: str) -> SequraForm | None:
        found = SEQURA_FORM.search(order_page)
        return cls(browser, html.unescape(found.group(1)), found.group(2)) if found else None

    async def identify(self, mobile: str = SEQURA_MOBILE) -> dict:
        await self.browser.get(f"{self.api}/state", params={"product": "i1"})
        state = (await self.browser.post(f"{self.api}/identify", data={
            "given_names": "Fulano", "surnames": "De Tal", "date_of_birth": "1980-01-10",
            "mobile_phone": mobile})).json()
        assert state["step"] == "otp", state
        return state

    async def confirm(self, deadline: float, mobile: str = SEQURA_MOBILE, poll_every: float = 1.0) -> str:
        """The one-time code; then the form's state, once a second, until it ends or ``deadline``."""
        state = (await self.browser.post(f"{self.api}/otp", data={"code": mobile[-5:]})).json()
        while state["step"] not in SEQURA_ENDED and time.perf_counter() < deadline:
            await asyncio.sleep(poll_every)
            state = (await self.browser.get(f"{self.api}/state")).json()
        return state["step"]


# --------------------------------------------------------------------------- whole journeys


@dataclass
class Journey:
    """What one shopper did and saw: the method, the outcome in words, what it was given."""

    method: str  # "plugin:option"
    outcome: str = "not started"
    order_path: str = ""
    reference: str = ""  # the provider's id for the payment, when the shopper saw it
    checkout_seconds: float | None = None  # POST /checkout until the next step was in hand


async def _think() -> None:
    """A person reads the page before the next click."""
    await asyncio.sleep(random.uniform(0.2, 1.0))


async def _place(browser: Browser, journey: Journey, sku: str, customer: dict[str, str]) -> str | None:
    """Cart and checkout; the next step's address (the order page or the provider's page), or
    None with the outcome said."""
    added = await browser.add_to_cart(sku, htmx=True)
    if added.status_code != 200:
        journey.outcome = "sold out" if added.status_code == 409 else f"cart refused: {added.status_code}"
        return None
    started = time.perf_counter()
    response = await browser.check_out(journey.method, customer)
    journey.checkout_seconds = time.perf_counter() - started
    location = response.headers.get("location", "")
    if response.status_code == 303 and location.startswith(("/orders/", "http")):
        return location
    if response.status_code == 409:
        journey.outcome = "sold out"
    elif response.status_code == 303:
        journey.outcome = f"checkout sent back to {location}"
    else:
        journey.outcome = f"checkout refused: {response.status_code}"
    return None


async def _order_page(browser: Browser, journey: Journey, path: str) -> str:
    journey.order_path = path
    page = await browser.get(path)
    assert page.status_code == 200, f"order page: {page.status_code}"
    return page.text


async def bank_transfer_journey(browser: Browser, journey: Journey, sandbox_url: str, sku: str, pay: bool) -> None:
    location = await _place(browser, journey, sku, CUSTOMER_DE)
    if location is None:
        return
    details = transfer_details(await _order_page(browser, journey, location))
    if "Reference" not in details:
        journey.outcome = "no bank details (payment not started)"
        return
    journey.reference = details["Reference"]
    if not pay:
        journey.outcome = "abandoned"
        return
    await _think()
    sent = await send_transfer(browser, sandbox_url, details, payer="Bench Shopper")
    journey.outcome = "transfer sent" if "role=status" in sent.text else "transfer refused by the bank"


async def secupay_journey(browser: Browser, journey: Journey, sandbox_url: str, sku: str, pay: bool) -> None:
    method = journey.method.partition(":")[2]  # creditcard | prepaid
    link = await _place(browser, journey, sku, CUSTOMER_DE)
    if link is None:
        return
    if "/sandbox/secupay/checkout?" not in link:
        await _order_page(browser, journey, link)
        journey.outcome = "payment not started"
        return
    journey.reference = SECUPAY_STX.search(link).group(1)
    await _think()
    if not pay:
        await browser.get(link)
        journey.outcome = "abandoned"
        return
    back = await secupay_hosted_page(browser, link, method)
    page = await _order_page(browser, journey, await back_to_the_shop(browser, back))
    if method == "creditcard":
        journey.outcome = "paid" if "Paid — thank you!" in page else "card paid, order page not paid yet"
        return
    await _think()
    booked = await receive_secupay_transfer(browser, sandbox_url, journey.reference)
    journey.outcome = "transfer sent" if booked == 303 else f"transfer refused: {booked}"


async def seqr_journey(browser: Browser, journey: Journey, sandbox_url: str, sku: str, pay: bool) -> None:
    location = await _place(browser, journey, sku, CUSTOMER_DE)
    if location is None:
        return
    found = SEQR_INVOICE.search(await _order_page(browser, journey, location))
    if not found:
        journey.outcome = "no SEQR code (payment not started)"
        return
    journey.reference = found.group(1)
    if not pay:
        journey.outcome = "abandoned"
        return
    await _think()
    paid = await pay_seqr_invoice(browser, f"{sandbox_url}/sandbox/seqr/app", journey.reference)
    journey.outcome = "paid in the app" if "<h2>Paid</h2>" in paid.text else "the app did not take it"


async def sequra_journey(browser: Browser, journey: Journey, sandbox_url: str, sku: str, pay: bool,
                         form_seconds: float = 30.0) -> None:
    location = await _place(browser, journey, sku, CUSTOMER_ES)
    if location is None:
        return
    form = SequraForm.on(browser, await _order_page(browser, journey, location))
    if form is None:
        journey.outcome = "no SeQura form (payment not started)"
        return
    journey.reference = form.api.rsplit("/", 2)[-2]
    if not pay:
        journey.outcome = "abandoned"
        return
    await _think()
    await form.identify()
    step = await form.confirm(time.perf_counter() + form_seconds)
    journey.outcome = {"finish": "paid", "show_error": "form: the shop did not answer",
                       "show_conflict": "form: the shop refused"}.get(step, f"form stopped at {step}")


JourneyFn = Callable[[Browser, Journey, str, str, bool], Awaitable[None]]
# "plugin:option" -> the shopper's way through it: (browser, journey, sandbox URL, SKU, pays or leaves)
JOURNEYS: dict[str, JourneyFn] = {
    "banktransfer:banktransfer": bank_transfer_journey,
    "secupay:creditcard": secupay_journey,
    "secupay:prepaid": secupay_journey,
    "seqr:seqr": seqr_journey,
    "sequra:i1": sequra_journey,
}

"""Every call to a provider and every call from one, kept as a payment event.

Plugins never log provider calls: the httpx client the core gives them carries event hooks
that record each exchange, and the zeep plugin names the SOAP operation. Secrets and personal
data are redacted before anything is stored."""

from __future__ import annotations

import contextlib
import contextvars
import functools
import json
import logging
import re
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode

import httpx

from shop.db import Database
from shop.models import insert_payment_events, payment_event_row

log = logging.getLogger("shop.providers")

MAX_BODY = 8000  # characters of a body kept in an event
MAX_JSON_PARSED = 256 * 1024  # JSON is masked after parsing it whole; longer JSON is not kept
_XML_SLACK = 2000  # read past the cut so that an element cut there can still be dropped whole
MASK = "***"
# Field names whose values are secrets or personal data, matched case-insensitively as parts
# of a name ("client_secret", "customer_email", "invoiceAddress" ...).
_SENSITIVE = re.compile(
    r"pass(word)?|secret|token|authori[sz]ation|signature|api[_-]?key|pin\b|cvc|cvv|card_?number|pan\b|"
    r"e-?mail|phone|mobile|msisdn|given_?names?|surname|first_?name|last_?name|forename|full_?name|"
    r"birth|dob\b|nin\b|street|address_line|line[12]\b|postal|zip|iban|account_?owner|ip_?(number|address)",
    re.IGNORECASE)
_NOT_SENSITIVE = re.compile(r"^(token_type|expires_in|pin_length|purpose)$", re.IGNORECASE)
# A payment token as shop.payments.attempts.token_for makes it: 43 lower-case hex digits. Whoever
# holds one can see the order and call back as its provider, so it is masked by its value wherever
# it stands (the callback and return URLs a start call carries, a header, a path, a log line).
_PAYMENT_TOKEN = re.compile(r"(?<![0-9a-f])[0-9a-f]{43}(?![0-9a-f])")


def mask_tokens(text: str) -> str:
    return _PAYMENT_TOKEN.sub(MASK, text)


class AccessLogTokenFilter(logging.Filter):
    """Masks payment tokens in uvicorn's access log lines (/pay/<plugin>/cb/<token>, .../return/<token>/...)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(mask_tokens(arg) if isinstance(arg, str) else arg for arg in record.args)
        elif isinstance(record.msg, str):
            record.msg = mask_tokens(record.msg)
        return True


# Providers use the same few hundred field names in every answer: each is looked at once per worker.
@functools.lru_cache(maxsize=4096)
def is_sensitive(name: str) -> bool:
    return bool(_SENSITIVE.search(name)) and not _NOT_SENSITIVE.match(name)


# Objects that hold one person's details: every text inside them is masked, whatever its key
# ("name" is personal under "contact", not under a basket product).
_PERSONAL_CONTAINER = re.compile(r"contact|customer|address|private|payment_data|payer|holder|billing|shipping_to",
                                 re.IGNORECASE)
_KEEP_INSIDE_PERSONAL = re.compile(r"^(country|country_code|countrycode|language|salutation|type|object|id)$",
                                   re.IGNORECASE)


@functools.lru_cache(maxsize=4096)
def _holds_personal(name: str) -> bool:
    return bool(_PERSONAL_CONTAINER.search(name))


@functools.lru_cache(maxsize=4096)
def _kept_inside_personal(name: str) -> bool:
    return bool(_KEEP_INSIDE_PERSONAL.match(name))


# Deeper than this, a value is masked whole rather than walked: no body can make redaction recurse
# without end, and no provider nests its fields anywhere near this deep.
MAX_DEPTH = 32


def _redact_json(value, personal: bool = False, depth: int = 0):
    if isinstance(value, (dict, list)) and depth >= MAX_DEPTH:
        return MASK
    if isinstance(value, dict):
        masked = {}
        for key, item in value.items():
            name = str(key)
            if isinstance(item, (dict, list)):
                masked[key] = _redact_json(item, personal or _holds_personal(name), depth + 1)
            elif is_sensitive(name) or (personal and isinstance(item, str) and item and not _kept_inside_personal(name)):
                masked[key] = MASK
            else:
                masked[key] = item
        return masked
    if isinstance(value, list):
        return [_redact_json(v, personal, depth + 1) for v in value]
    return value


_XML_LEAF = re.compile(r"<((?:[\w.-]+:)?([\w.-]+))(\s[^>]*)?>([^<]*)</\1>")


def _redact_xml(text: str) -> str:
    def mask(match: re.Match) -> str:
        tag, local, attrs, inner = match.groups()
        if is_sensitive(local) and inner.strip():
            return f"<{tag}{attrs or ''}>{MASK}</{tag}>"
        return match.group(0)

    return _XML_LEAF.sub(mask, text)


def redact(body: bytes | str, content_type: str = "") -> str:
    """The body as text, with sensitive values masked, cut to a readable length.

    The work is bounded by what is kept, not by what was sent: forms, XML and plain text are
    cut before they are read. JSON can only be masked once parsed whole, so a JSON body longer
    than MAX_JSON_PARSED, or nested past the parser's depth, is not kept at all."""
    size = len(body)
    head = body[:MAX_BODY + _XML_SLACK]
    # Masked before it is cut: a token cut in two would not be recognised.
    text = mask_tokens(head.decode("utf-8", "replace") if isinstance(head, bytes) else head)
    if not text:
        return ""
    stripped = text.lstrip()
    if "json" in content_type or stripped[:1] in "{[":
        masked = _redact_json_body(body, size)
        if masked is not None:
            return mask_tokens(masked)[:MAX_BODY]
    if stripped.startswith("<"):
        # Only whole elements: a value whose closing tag is past the cut would go unmasked.
        return _redact_xml(text[:text.rfind(">") + 1])[:MAX_BODY]
    text = text[:MAX_BODY]
    if "form" in content_type or ("=" in text and " " not in text.strip()):
        # A pair cut short keeps its name, so its value is still masked, or loses its value.
        pairs = parse_qsl(text, keep_blank_values=True)
        if pairs:
            return urlencode([(k, MASK if is_sensitive(k) else v) for k, v in pairs])[:MAX_BODY]
    return text


def _redact_json_body(body: bytes | str, size: int) -> str | None:
    """The JSON body masked, a note in its place when it cannot be masked, or None if it is not JSON."""
    if size > MAX_JSON_PARSED:
        return f"[a JSON body of length {size}, too long to redact: not kept]"
    try:
        value = json.loads(body)
    except RecursionError:
        return "[JSON nested too deeply to redact: not kept]"
    except ValueError:
        return None
    return json.dumps(_redact_json(value), ensure_ascii=False)


def redact_url(url: str) -> str:
    base, sep, query = mask_tokens(url).partition("?")
    if not sep:
        return url
    return f"{base}?{urlencode([(k, MASK if is_sensitive(k) else v) for k, v in parse_qsl(query, True)])}"


# --------------------------------------------------------------------------- context


@dataclass(frozen=True)
class CallContext:
    payment_id: int | None
    order_id: int | None
    correlation_id: str


_context: contextvars.ContextVar[CallContext | None] = contextvars.ContextVar("provider_call", default=None)
_operation: contextvars.ContextVar[str] = contextvars.ContextVar("provider_operation", default="")


def new_correlation_id() -> str:
    return secrets.token_hex(8)


@contextlib.contextmanager
def about(payment_id: int | None, order_id: int | None, correlation_id: str | None = None) -> Iterator[CallContext]:
    """Provider calls made inside this block are recorded against this payment."""
    ctx = CallContext(payment_id, order_id, correlation_id or new_correlation_id())
    token = _context.set(ctx)
    try:
        yield ctx
    finally:
        _context.reset(token)


def current() -> CallContext | None:
    return _context.get()


class ZeepOperationPlugin:
    """Tells the recorder which SOAP operation an outgoing envelope is (zeep plugin hook)."""

    def egress(self, envelope, http_headers, operation, binding_options):
        _operation.set(operation.name)
        return envelope, http_headers

    def ingress(self, envelope, http_headers, operation):
        return envelope, http_headers


# --------------------------------------------------------------------------- the recorder


class Recorder:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.engine = db.engine

    def record(self, *, kind: str, direction: str, operation: str, body: str = "", http_status: int | None = None,
               duration_ms: int | None = None, payment_id: int | None = None, order_id: int | None = None,
               correlation_id: str = "") -> None:
        """Keep one event: a database write, so async code runs it through ``db.write``."""
        with self.engine.begin() as connection:
            insert_payment_events(connection, [payment_event_row(
                payment_id=payment_id, order_id=order_id, kind=kind, direction=direction,
                operation=mask_tokens(operation), body=mask_tokens(body), http_status=http_status, duration_ms=duration_ms, correlation_id=correlation_id)])

    # httpx event hooks ---------------------------------------------------

    async def _on_request(self, request: httpx.Request) -> None:
        request.extensions["cartwheel_started"] = time.perf_counter()
        request.extensions["cartwheel_operation"] = _operation.get() or ""

    async def _on_response(self, response: httpx.Response) -> None:
        request = response.request
        await response.aread()
        started = request.extensions.get("cartwheel_started", time.perf_counter())
        elapsed = int((time.perf_counter() - started) * 1000)
        operation = request.extensions.get("cartwheel_operation") or f"{request.method} {redact_url(request.url.path)}"
        sent = redact(request.content, request.headers.get("content-type", ""))
        got = redact(response.content, response.headers.get("content-type", ""))
        ctx = current()
        log.info("%s %s -> %s in %d ms", request.method, redact_url(str(request.url)), response.status_code, elapsed)
        await self.db.write(self.record, kind="call", direction="out", operation=operation,
                            http_status=response.status_code, duration_ms=elapsed, body=f">>> {sent}\n<<< {got}".strip(),
                            payment_id=ctx.payment_id if ctx else None, order_id=ctx.order_id if ctx else None,
                            correlation_id=ctx.correlation_id if ctx else "")

    def hooks(self) -> dict:
        return {"request": [self._on_request], "response": [self._on_response]}

    def client(self, timeout: float, transport: httpx.AsyncBaseTransport | None = None) -> httpx.AsyncClient:
        """The client plugins call providers with: every exchange recorded."""
        return httpx.AsyncClient(timeout=timeout, event_hooks=self.hooks(), transport=transport,
                                 follow_redirects=False)

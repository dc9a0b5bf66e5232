"""What a page's Content-Security-Policy must allow for a ``form_v2`` snippet to run.

Derived from the snippet itself: the origins of its scripts and frames (SeQura's real snippet
uses an iframe; the sandbox draws in the page and calls back by AJAX), and a hash for each
inline script, so the shop need not allow 'unsafe-inline' scripts."""

from __future__ import annotations

import base64
import hashlib
import re
from urllib.parse import urlsplit

_SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script>", re.S | re.I)
_SRC = re.compile(r"""\bsrc\s*=\s*["']([^"']+)["']""", re.I)
_STYLE_ATTR = re.compile(r"""\sstyle\s*=""", re.I)


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def script_hash(source: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(source.encode()).digest()).decode() + "'"


def needs(html: str, api_url: str) -> dict[str, tuple[str, ...]]:
    api = origin(api_url)
    scripts: list[str] = [api]
    for attrs, body in _SCRIPT.findall(html):
        src = _SRC.search(attrs)
        if src:
            scripts.append(origin(src.group(1)))
        elif body.strip():
            scripts.append(script_hash(body))
    sources = {origin(u) for u in _SRC.findall(html) if "://" in u} | {api}
    csp = {"script-src": tuple(dict.fromkeys(scripts)), "connect-src": tuple(sorted(sources)),
           "frame-src": tuple(sorted(sources)), "img-src": tuple(sorted(sources))}
    if _STYLE_ATTR.search(html):
        csp["style-src"] = ("'unsafe-inline'",)  # style attributes cannot be hashed
    return csp

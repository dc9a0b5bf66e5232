"""Small helpers the sandbox's pages and API share."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse

NOT_FOUND_HTML = ("<!DOCTYPE html><html><head><title>The page you were looking for doesn't exist (404)</title>"
                  "</head><body><h1>The page you were looking for doesn't exist.</h1></body></html>")


def base_url(request: Request) -> str:
    """The sandbox's own absolute base, wherever it is mounted (or served alone)."""
    return str(request.url.replace(path=request.scope.get("root_path", ""), query="")).rstrip("/")


def errors(status: int, *messages: str) -> JSONResponse:
    """SeQura's error body: ``{"errors": [...]}``."""
    return JSONResponse({"errors": list(messages)}, status_code=status)

"""secuconnect's error bodies: the API's own and the OAuth endpoint's."""

from __future__ import annotations

from starlette.responses import JSONResponse

from .ids import support_id


class ApiError(Exception):
    def __init__(self, status: int, error: str, details: str, code: int = 1001):
        super().__init__(details)
        self.status = status
        self.error = error
        self.details = details
        self.code = code

    def response(self) -> JSONResponse:
        body = {
            "status": "error",
            "error": self.error,
            "error_details": self.details,
            "error_user": f"Es ist ein unbekannter Fehler aufgetreten (Code {self.code})",
            "code": self.code,
            "supportId": support_id(),
        }
        return JSONResponse(body, status_code=self.status)


def format_error(details: str) -> ApiError:
    """A request that does not fit the model (sandbox choice: 400, code 1001)."""
    return ApiError(400, "ProductFormatException", details, 1001)


def not_allowed(details: str, code: int = 1003) -> ApiError:
    return ApiError(403, "ProductNotAllowedException", details, code)


def not_found(kind: str, object_id: str) -> ApiError:
    return ApiError(404, "ProductNotFoundException", f"{kind} not found: {object_id}", 1002)


def token_required(status: int = 403) -> ApiError:
    return ApiError(status, "ProductNotAllowedException", "Valid auth token required", 2003)


def internal_error() -> ApiError:
    return ApiError(500, "ProductInternalException", "Internal error, please try again later", 1000)


def oauth_error(error: str, description: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description}, status_code=status)

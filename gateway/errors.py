"""The service's error hierarchy.

Each class carries its HTTP status and OpenAI error code.

Every error leaves the service in one JSON shape that OpenAI SDKs read:
`{"error": {"message", "type", "param", "code"}}`.
"""

from __future__ import annotations

from typing import Any


class GatewayError(Exception):
    """Base class: an error with an HTTP status, an OpenAI error type and a code."""

    status_code = 500
    error_type = "server_error"
    default_code = "internal_error"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.param = param
        self.headers = headers or {}

    def to_body(self) -> dict[str, Any]:
        return {
            "error": {
                "message": self.message,
                "type": self.error_type,
                "param": self.param,
                "code": self.code,
            }
        }


class InvalidRequest(GatewayError):
    """Malformed body, wrong types, missing fields or routing fields (400)."""

    status_code = 400
    error_type = "invalid_request_error"
    default_code = "invalid_field"


class ContentBlocked(InvalidRequest):
    """An input guardrail with action `block` matched (400)."""

    default_code = "content_blocked"


class AuthenticationFailed(GatewayError):
    """No, unknown, revoked or expired virtual key, or a bad admin key (401)."""

    status_code = 401
    error_type = "authentication_error"
    default_code = "invalid_api_key"


class PermissionDenied(GatewayError):
    """The key may not use this endpoint, model or provider (403)."""

    status_code = 403
    error_type = "permission_error"
    default_code = "endpoint_not_allowed"


class NotFound(GatewayError):
    """No active endpoint with that slug, or no admin object with that id (404)."""

    status_code = 404
    error_type = "invalid_request_error"
    default_code = "model_not_found"


class Conflict(GatewayError):
    """An admin object with that name or slug already exists (409)."""

    status_code = 409
    error_type = "invalid_request_error"
    default_code = "conflict"


class RequestTooLarge(GatewayError):
    """The body is over the configured limit (413)."""

    status_code = 413
    error_type = "invalid_request_error"
    default_code = "request_too_large"


class RateLimited(GatewayError):
    """An rpm or tpm limit of the key or endpoint, or the provider's own 429."""

    status_code = 429
    error_type = "rate_limit_error"
    default_code = "rate_limit_exceeded"

    def __init__(
        self, message: str, *, retry_after: float = 1.0, **kwargs: Any
    ) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = max(1, int(retry_after + 0.999))
        self.headers.setdefault("Retry-After", str(self.retry_after))


class BudgetExceeded(GatewayError):
    """The key's budget for its period is spent (429)."""

    status_code = 429
    error_type = "insufficient_quota"
    default_code = "budget_exceeded"


class UpstreamError(GatewayError):
    """The provider failed, or rejected the provider key (502)."""

    status_code = 502
    error_type = "upstream_error"
    default_code = "upstream_error"


class UpstreamTimeout(GatewayError):
    """The provider did not respond in time (504)."""

    status_code = 504
    error_type = "upstream_error"
    default_code = "upstream_timeout"


class InternalError(GatewayError):
    """An unexpected fault (500), reported with its request id and no traceback."""

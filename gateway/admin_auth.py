"""The admin key check that guards every `/admin` route."""

from __future__ import annotations

import hmac

from fastapi import Request

from gateway.errors import AuthenticationFailed


def bearer_token(request: Request) -> str:
    """Return the token of an `Authorization: Bearer` header, or raise a 401."""
    header = request.headers.get("authorization")
    if not header:
        raise AuthenticationFailed(
            "Missing Authorization header. Send 'Authorization: Bearer <key>'.",
            code="missing_api_key",
        )
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise AuthenticationFailed(
            f"Malformed Authorization header (scheme {scheme[:20]!r}). "
            "Send 'Authorization: Bearer <key>'.",
            code="invalid_api_key",
        )
    return token


def require_admin(request: Request) -> None:
    """FastAPI dependency: accept only the service's admin key."""
    token = bearer_token(request)
    expected: str = request.app.state.runtime.admin_key
    if not hmac.compare_digest(token.encode(), expected.encode()):
        raise AuthenticationFailed(
            "Invalid admin key. Use GATEWAY_ADMIN_KEY or the admin_key file "
            "in the data folder.",
            code="invalid_api_key",
        )

"""The admin key check that guards every `/admin` route.

`AdminGuard` runs it before FastAPI reads the body, so a request without the
admin key gets 401 whatever it sends, and it caps admin bodies at the same
size as the data plane's. `require_admin` repeats the check as a route
dependency, which also puts the bearer scheme into the OpenAPI document.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.bodies import read_body
from gateway.errors import AuthenticationFailed, GatewayError
from gateway.http_errors import error_response

ADMIN_PREFIX = "/admin"
bearer_scheme = HTTPBearer(
    auto_error=False,
    description="The admin key: GATEWAY_ADMIN_KEY, or the admin_key file "
    "in the data folder.",
)


def bearer_token(header: str | None) -> str:
    """Return the token of an `Authorization: Bearer` header, or raise a 401."""
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


def check_admin(header: str | None, expected: str) -> None:
    """Accept only the service's admin key, compared in constant time."""
    token = bearer_token(header)
    if not hmac.compare_digest(token.encode(), expected.encode()):
        raise AuthenticationFailed(
            "Invalid admin key. Use GATEWAY_ADMIN_KEY or the admin_key file "
            "in the data folder.",
            code="invalid_api_key",
        )


def require_admin(
    request: Request,
    credentials: Annotated[
        HTTPAuthorizationCredentials | None, Security(bearer_scheme)
    ],
) -> None:
    """FastAPI dependency: accept only the service's admin key."""
    check_admin(
        request.headers.get("authorization"), request.app.state.runtime.admin_key
    )


class AdminGuard:
    """ASGI middleware: check the admin key, then read at most `max_body_bytes`.

    The body is read here and replayed to the route, so an oversized or
    unauthenticated request is rejected before anything parses it.
    """

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith(ADMIN_PREFIX):
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        try:
            check_admin(
                request.headers.get("authorization"),
                request.app.state.runtime.admin_key,
            )
            body = await read_body(request, self.max_body_bytes)
        except GatewayError as exc:
            await _send_error(send, exc)
            return
        await self.app(scope, _replay(body, receive), send)


def _replay(body: bytes, receive: Receive) -> Receive:
    """Hand the buffered body to the route once, then pass on later messages."""
    pending = True

    async def replayed() -> Message:
        nonlocal pending
        if pending:
            pending = False
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


async def _send_error(send: Send, error: GatewayError) -> None:
    response = error_response(error)
    await send(
        {
            "type": "http.response.start",
            "status": response.status_code,
            "headers": response.raw_headers,
        }
    )
    await send({"type": "http.response.body", "body": response.body})

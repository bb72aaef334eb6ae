"""Every error leaves the service as OpenAI-shaped JSON, with the request id header.

`install_error_handlers` turns the gateway's errors, FastAPI's validation
errors, Starlette's 404 and 405 and any unexpected exception into
`{"error": {"message", "type", "param", "code"}}`. It also installs the
middleware that gives every request an id: routes read it from
`request.state.request_id`, and every response carries it as `x-request-id`.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.errors import GatewayError, InternalError
from gateway.pipeline import new_request_id

logger = logging.getLogger(__name__)

REQUEST_ID_HEADER = "x-request-id"


def install_error_handlers(app: FastAPI) -> None:
    """Install the JSON error handlers and the request id middleware on `app`."""
    app.add_exception_handler(GatewayError, _gateway_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]
    app.add_middleware(RequestIdMiddleware)


def error_response(error: GatewayError) -> Response:
    return Response(
        orjson.dumps(error.to_body()),
        status_code=error.status_code,
        media_type="application/json",
        headers=error.headers,
    )


async def _gateway_error(request: Request, exc: GatewayError) -> Response:
    return error_response(exc)


async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
    errors = exc.errors()
    first: dict[str, Any] = errors[0] if errors else {}
    kind = str(first.get("type", ""))
    if kind == "json_invalid":
        error = GatewayError(
            "The body is not valid JSON. Send one JSON object.", code="invalid_json"
        )
        return _shaped(error, 400, "invalid_request_error")

    location = [
        str(part)
        for part in first.get("loc", ())
        if part not in ("body", "query", "path")
    ]
    param = ".".join(location) or None
    reason = str(first.get("msg", "invalid value")).rstrip(".")
    code = "missing_field" if kind == "missing" else "invalid_field"
    if param is None:
        message = _body_message(request, reason)
    elif code == "missing_field":
        message = f"Missing required field '{param}'; add it to the request."
    else:
        message = f"Invalid value for '{param}': {reason}. Fix the field and retry."
    return _shaped(
        GatewayError(message, code=code, param=param), 422, "invalid_request_error"
    )


def _body_message(request: Request, reason: str) -> str:
    """Explain a body that is not a JSON object, naming a wrong content type."""
    content_type = request.headers.get("content-type", "")
    if "json" not in content_type.lower():
        shown = content_type[:60] or "missing"
        return (
            f"The body must be a JSON object, but the Content-Type is {shown!r}. "
            "Send 'Content-Type: application/json'."
        )
    return (
        f"The body must be a JSON object with the documented fields ({reason}). "
        "Send one JSON object."
    )


def _shaped(error: GatewayError, status: int, error_type: str) -> Response:
    body = error.to_body()
    body["error"]["type"] = error_type
    return Response(
        orjson.dumps(body), status_code=status, media_type="application/json"
    )


async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
    path = request.url.path[:100]
    if exc.status_code == 404:
        message = (
            f"No route for {request.method} {path}. The OpenAI API is under /v1 "
            "and the admin API under /admin; /docs lists every route."
        )
        code = "not_found"
    elif exc.status_code == 405:
        message = (
            f"Method {request.method} is not allowed on {path}; "
            "/docs lists the methods of each route."
        )
        code = "method_not_allowed"
    else:
        message = str(exc.detail)
        code = "http_error"
    error = GatewayError(message, code=code, headers=dict(exc.headers or {}))
    response = _shaped(error, exc.status_code, "invalid_request_error")
    response.headers.update(error.headers)
    return response


class RequestIdMiddleware:
    """Give each request an id, send it as `x-request-id`, and handle unexpected faults.

    An exception that no handler took becomes a 500 `internal_error` whose
    message carries the request id, and the traceback goes to the log only.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = new_request_id()
        scope.setdefault("state", {})["request_id"] = request_id
        header = (REQUEST_ID_HEADER.encode(), request_id.encode())
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            logger.exception("request %s failed with an unexpected error", request_id)
            if started:
                return
            await _send_internal_error(send_with_id, request_id)


async def _send_internal_error(send: Send, request_id: str) -> None:
    error = InternalError(
        f"Internal error; quote request id {request_id} when you report it."
    )
    body = orjson.dumps(error.to_body())
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    await send({"type": "http.response.start", "status": 500, "headers": headers})
    await send({"type": "http.response.body", "body": body})

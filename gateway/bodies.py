"""Reading request bodies under the configured size limit."""

from __future__ import annotations

from starlette.requests import Request

from gateway.errors import RequestTooLarge


async def read_body(request: Request, limit: int) -> bytes:
    """Read the body, rejecting it with 413 once it passes `limit` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large(int(declared), limit)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise too_large(len(body), limit)
    return bytes(body)


def too_large(size: int, limit: int) -> RequestTooLarge:
    return RequestTooLarge(
        f"The body has {size} bytes, over the limit of {limit}. Send a shorter "
        "request, or raise GATEWAY_MAX_BODY_BYTES."
    )

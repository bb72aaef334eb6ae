"""Streamed chat completions: pass provider chunks through as server-sent events.

Each chunk goes to the client as soon as the provider sends it, as
`data: {json}` and a blank line, and the stream ends with `data: [DONE]`.
The gateway always requests a usage chunk from the provider and forwards it
only when the client requested one too. When no usage arrives (a provider that
ignores `stream_options`, a broken stream, a client that disconnects) the
tokens are counted locally, so a streamed request is charged like the same
request unstreamed.

While a guardrail scans output, the chunks are held until the stream ends
and then sent through `gateway.stream_guard`, so masks and blocks apply to
streams too, at the cost of the client seeing the reply only when it is whole.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import anyio
import orjson
from starlette.responses import StreamingResponse

from gateway import pricing
from gateway.error_mapping import map_provider_error
from gateway.errors import GatewayError, InternalError
from gateway.pipeline import Call, Candidate, finish
from gateway.runtime import Runtime
from gateway.stream_guard import guarded_chunks
from gateway.upstream import close_stream, count_tokens, usage_of

logger = logging.getLogger(__name__)

DONE = b"data: [DONE]\n\n"
SSE_HEADERS = {"cache-control": "no-cache", "x-accel-buffering": "no"}
Trailer = Callable[[Call, dict[str, Any]], dict[str, Any]]


@dataclass
class OpenStream:
    """A provider stream whose first chunk has been read, and what it was asked."""

    candidate: Candidate
    stream: Any
    iterator: AsyncIterator[Any]
    first: Any
    messages: list[dict[str, Any]]
    """The messages sent, with any system prompt, for counting prompt tokens."""


@dataclass
class _Meter:
    text: list[str] = field(default_factory=list)
    usage: tuple[int, int] | None = None
    last: dict[str, Any] | None = None

    def add(self, chunk: Any, data: dict[str, Any]) -> None:
        self.last = data
        reported = usage_of(chunk)
        if reported is not None:
            self.usage = reported
        for choice in data.get("choices") or ():
            delta = choice.get("delta") or {}
            content = delta.get("content")
            if isinstance(content, str):
                self.text.append(content)
            for tool_call in delta.get("tool_calls") or ():
                arguments = (tool_call.get("function") or {}).get("arguments")
                if isinstance(arguments, str):
                    self.text.append(arguments)


def sse(data: dict[str, Any]) -> bytes:
    return b"data: " + orjson.dumps(data) + b"\n\n"


def stream_response(
    runtime: Runtime,
    call: Call,
    opened: OpenStream,
    *,
    include_usage: bool,
    trailer: Trailer | None = None,
) -> StreamingResponse:
    """Wrap an open provider stream in the response that relays it."""
    events = _relay(runtime, call, opened, include_usage, trailer)
    return StreamingResponse(
        events, media_type="text/event-stream", headers=SSE_HEADERS
    )


async def _relay(
    runtime: Runtime,
    call: Call,
    opened: OpenStream,
    include_usage: bool,
    trailer: Trailer | None,
) -> AsyncIterator[bytes]:
    meter = _Meter()
    completed = False
    hold = runtime.snapshot.guardrails.applies("output")
    buffered: list[dict[str, Any]] = []
    try:
        chunk = opened.first
        while chunk is not None:
            data = _chunk_dict(chunk)
            meter.add(chunk, data)
            if hold:
                buffered.append(data)
            else:
                event = _client_event(data, include_usage)
                if event is not None:
                    yield event
            chunk = await anext(opened.iterator, None)
        completed = True
        _settle_usage(runtime, call, opened, meter)
        if buffered:
            for data in guarded_chunks(runtime.snapshot, call, buffered):
                event = _client_event(data, include_usage)
                if event is not None:
                    yield event
        if trailer is not None:
            yield sse(trailer(call, meter.last or {}))
        yield DONE
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        yield sse(_stream_error(call, opened, exc).to_body())
    finally:
        if not completed:
            _settle_usage(runtime, call, opened, meter)
            if call.error_code is None:
                call.fail(499, "client_disconnected")
        finish(runtime, call)
        # A disconnect cancels this task's scope, so the close runs shielded
        # to release the provider connection.
        with anyio.CancelScope(shield=True):
            await close_stream(opened.stream)


def _chunk_dict(chunk: Any) -> dict[str, Any]:
    data: dict[str, Any] = chunk.model_dump(exclude_none=True)
    usage = data.get("usage")
    if isinstance(usage, dict):
        usage.pop("cost", None)
    return data


def _client_event(data: dict[str, Any], include_usage: bool) -> bytes | None:
    """Encode a chunk for the client, dropping the usage that it did not ask for."""
    if include_usage or "usage" not in data:
        return sse(data)
    if not data.get("choices"):
        return None
    trimmed = dict(data)
    del trimmed["usage"]
    return sse(trimmed)


def _settle_usage(
    runtime: Runtime, call: Call, opened: OpenStream, meter: _Meter
) -> None:
    """Fill in the call's tokens and cost from the reported or locally counted usage."""
    model = opened.candidate.target.litellm_model
    completion = "".join(meter.text)
    if meter.usage is not None:
        call.prompt_tokens, call.completion_tokens = meter.usage
    else:
        call.prompt_tokens, call.completion_tokens = count_tokens(
            model, opened.messages, completion
        )
    call.cost_usd = pricing.cost(model, call.prompt_tokens, call.completion_tokens)
    if runtime.settings.store_bodies:
        call.response_body = completion


def _stream_error(call: Call, opened: OpenStream, exc: Exception) -> GatewayError:
    """Map an exception raised mid-stream, record it in the call, and return it."""
    candidate = opened.candidate
    failure = map_provider_error(
        exc,
        provider=candidate.target.provider,
        endpoint=candidate.endpoint.slug,
        secrets=(candidate.provider_key.api_key,),
    )
    if failure is not None:
        error = failure.error
    elif isinstance(exc, GatewayError):
        error = exc
    else:
        logger.exception("%s stream failed with an unexpected error", call.request_id)
        error = InternalError(
            f"Internal error while streaming; quote request id {call.request_id} "
            "when you report it."
        )
    call.fail(error.status_code, error.code)
    return error

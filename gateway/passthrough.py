"""Direct chat completion calls to providers that speak OpenAI's wire format.

litellm's `acompletion` builds, validates and re-parses every request and
response through its provider layer, which costs milliseconds of CPU per
call. For a provider whose API is OpenAI's own format, the gateway can send
the already validated body as it is, so this module posts it with one shared
`httpx.AsyncClient` (HTTP/1.1 keep-alive) and orjson, and reads the response
back as plain JSON.

Only requests that litellm itself would send unchanged take this path (see
`supports`): the providers `openai`, `custom_openai` and `openai_like`, text
messages only, and models whose parameters litellm does not rewrite.
Everything else stays on litellm.

Failures are raised as httpx exceptions (`UpstreamStatusError` for an HTTP
error status), which `gateway.error_mapping` maps like litellm's own errors.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx
import orjson

from gateway.models import ProviderKey
from gateway.snapshot import Target

if TYPE_CHECKING:
    from gateway.pipeline import Candidate

DEFAULT_BASES: Mapping[str, str | None] = {
    "openai": "https://api.openai.com/v1",
    "custom_openai": None,
    "openai_like": None,
}
"""Providers sent directly, with the base URL used when the key has no `api_base`."""

# litellm 1.110 rewrites requests for these OpenAI models, so they stay on it.
# Reasoning models get `max_completion_tokens` and lose `temperature`, and
# audio and search models have request shapes of their own.
_REWRITTEN_MODELS = re.compile(r"^(o\d|gpt-5|codex)|audio|realtime|search|transcribe")
_MAX_CONNECTIONS = 512
_DETAIL_BYTES = 2000


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts that the provider reported."""

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int

    @classmethod
    def parse(cls, value: Any) -> Usage | None:
        if not isinstance(value, dict):
            return None
        prompt = value.get("prompt_tokens")
        completion = value.get("completion_tokens") or 0
        if not isinstance(prompt, int) or not isinstance(completion, int):
            return None
        return cls(prompt, completion, value.get("total_tokens") or prompt + completion)


@dataclass(frozen=True)
class UpstreamResponse:
    """A provider's chat completion: the JSON body as sent, and its usage if any."""

    body: dict[str, Any]
    usage: Usage | None
    status_code: int = 200

    @property
    def content(self) -> str:
        """Return the text of every choice's message, joined."""
        return "".join(
            _message_text(choice) for choice in self.body.get("choices") or ()
        )

    def model_dump(self) -> dict[str, Any]:
        return self.body


class UpstreamStatusError(httpx.HTTPStatusError):
    """The provider returned an HTTP error; `message` is the provider's own text."""

    def __init__(self, response: httpx.Response) -> None:
        self.message = _error_detail(response)
        self.status_code = response.status_code
        super().__init__(self.message, request=response.request, response=response)


def supports(provider: str, model: str, api_base: str | None, messages: Any) -> bool:
    """Return whether a chat request can bypass litellm and go to the provider."""
    if provider not in DEFAULT_BASES:
        return False
    if not (api_base or DEFAULT_BASES[provider]):
        return False
    if _REWRITTEN_MODELS.search(model.lower()):
        return False
    # litellm rewrites content parts (image URLs given as strings, file fields),
    # so only plain string contents are sent unchanged.
    return all(isinstance(message.get("content"), str | None) for message in messages)


def handles(candidate: Candidate, payload: Mapping[str, Any]) -> bool:
    """Return whether `send` can serve this chat call of `gateway.upstream`."""
    return supports(
        candidate.target.provider,
        candidate.target.model,
        candidate.provider_key.api_base,
        payload.get("messages") or (),
    )


async def send(
    candidate: Candidate, payload: dict[str, Any], timeout: float
) -> UpstreamResponse | UpstreamStream:
    """Serve a chat call for `gateway.upstream.send`, streamed when `payload` asks."""
    call = stream if payload.get("stream") else complete
    return await call(candidate.target, candidate.provider_key, payload, timeout)


async def complete(
    target: Target, provider_key: ProviderKey, body: dict[str, Any], timeout: float
) -> UpstreamResponse:
    """Send a chat completion and return the provider's response.

    `body` holds the validated OpenAI fields without `model`; the model, the
    URL and the credentials come from the endpoint's target and provider key.
    Raises `UpstreamStatusError`, `httpx.HTTPError` or `TimeoutError`.
    """
    request = _build_request(target, provider_key, {**body, "stream": False}, timeout)
    async with asyncio.timeout(timeout):
        response = await shared_client().send(request)
    if response.status_code >= 400:
        raise UpstreamStatusError(response)
    data = _json_object(response)
    return UpstreamResponse(data, Usage.parse(data.get("usage")), response.status_code)


async def stream(
    target: Target, provider_key: ProviderKey, body: dict[str, Any], timeout: float
) -> UpstreamStream:
    """Start a streamed chat completion, raising provider errors before it returns.

    The provider is always asked for a usage chunk, so streamed requests are
    metered like plain ones. The usage chunk reaches the client only when the
    client asked for it with `stream_options.include_usage`.
    """
    options = body.get("stream_options") or {}
    wants_usage = bool(options.get("include_usage"))
    upstream_body = {
        **body,
        "stream": True,
        "stream_options": {**options, "include_usage": True},
    }
    request = _build_request(target, provider_key, upstream_body, timeout)
    async with asyncio.timeout(timeout):
        response = await shared_client().send(request, stream=True)
        if response.status_code >= 400:
            await response.aread()
            await response.aclose()
            raise UpstreamStatusError(response)
    return UpstreamStream(response, forward_usage=wants_usage)


@dataclass(eq=False)
class UpstreamStream:
    """The provider's server-sent events, read one `data:` event at a time.

    Iterating yields `StreamEvent`s whose `raw` bytes can go to the client
    unchanged. Once the stream ends, `usage` is the provider's usage (None
    if it sent none) and `text` the streamed content, for local counting.
    """

    response: httpx.Response
    forward_usage: bool
    usage: Usage | None = None
    chunks: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "".join(self.chunks)

    def __aiter__(self) -> AsyncIterator[StreamEvent]:
        return self._events()

    async def aclose(self) -> None:
        await self.response.aclose()

    async def _events(self) -> AsyncIterator[StreamEvent]:
        try:
            async for line in _lines(self.response.aiter_raw()):
                event = self._parse(line)
                if event is None:
                    continue
                if event.data is None:
                    return
                yield event
        finally:
            await self.response.aclose()

    def _parse(self, line: bytes) -> StreamEvent | None:
        """Return the event of one SSE line, or None for lines to leave out."""
        if not line.startswith(b"data:"):
            return None
        payload = line[5:].strip()
        if payload == b"[DONE]":
            return StreamEvent(None, b"data: [DONE]\n\n")
        try:
            data = orjson.loads(payload)
        except orjson.JSONDecodeError as exc:
            raise httpx.DecodingError(
                f"invalid JSON in the provider's stream: {payload[:200]!r}",
                request=self.response.request,
            ) from exc
        usage = Usage.parse(data.get("usage"))
        if usage is not None:
            self.usage = usage
        self.chunks.extend(_delta_text(choice) for choice in data.get("choices") or ())
        if usage is not None and not data.get("choices") and not self.forward_usage:
            return None
        return StreamEvent(data, line + b"\n\n")


@dataclass(frozen=True, slots=True)
class StreamEvent:
    """One `data:` event: the parsed chunk (None for `[DONE]`) and its SSE bytes."""

    data: dict[str, Any] | None
    raw: bytes

    @property
    def usage(self) -> Usage | None:
        return Usage.parse(self.data.get("usage")) if self.data else None

    def model_dump(self, exclude_none: bool = False) -> dict[str, Any]:
        """Return the chunk as a new dict, like a pydantic model's `model_dump`."""
        data = self.data or {}
        copied: dict[str, Any] = (
            _without_none(data) if exclude_none else orjson.loads(orjson.dumps(data))
        )
        return copied


_client: httpx.AsyncClient | None = None
_client_loop: asyncio.AbstractEventLoop | None = None


def shared_client() -> httpx.AsyncClient:
    """Return the pooled client of the running event loop, creating it on first use."""
    global _client, _client_loop
    loop = asyncio.get_running_loop()
    if _client is None or _client_loop is not loop:
        limits = httpx.Limits(
            max_connections=_MAX_CONNECTIONS, max_keepalive_connections=_MAX_CONNECTIONS
        )
        _client = httpx.AsyncClient(limits=limits, http1=True, http2=False)
        _client_loop = loop
    return _client


async def close_client() -> None:
    """Close the pooled client, for the service's shutdown."""
    global _client, _client_loop
    if _client is not None:
        await _client.aclose()
    _client, _client_loop = None, None


def _build_request(
    target: Target, provider_key: ProviderKey, body: dict[str, Any], timeout: float
) -> httpx.Request:
    base = provider_key.api_base or DEFAULT_BASES.get(target.provider)
    if not base:
        raise ValueError(f"provider {target.provider!r} needs an api_base")
    headers = {
        "Authorization": f"Bearer {provider_key.api_key}",
        "Content-Type": "application/json",
        "Accept": "text/event-stream" if body.get("stream") else "application/json",
    }
    return shared_client().build_request(
        "POST",
        base.rstrip("/") + "/chat/completions",
        content=orjson.dumps({**body, "model": target.model}),
        headers=headers,
        timeout=httpx.Timeout(timeout),
    )


async def _lines(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """Split a byte stream into lines without their line endings."""
    pending = b""
    async for chunk in chunks:
        pending += chunk
        *lines, pending = pending.split(b"\n")
        for line in lines:
            yield line.rstrip(b"\r")
    if pending:
        yield pending.rstrip(b"\r")


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        data = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        data = None
    if not isinstance(data, dict):
        raise httpx.DecodingError(
            f"the provider's response is not a JSON object: {response.content[:200]!r}",
            request=response.request,
        )
    return data


def _error_detail(response: httpx.Response) -> str:
    """Return the provider's error message, or the start of its body."""
    text = response.content[:_DETAIL_BYTES]
    try:
        error = orjson.loads(response.content).get("error")
    except (orjson.JSONDecodeError, AttributeError):
        error = None
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return str(error["message"])
    if isinstance(error, str):
        return error
    return text.decode(errors="replace").strip() or f"HTTP {response.status_code}"


def _message_text(choice: Any) -> str:
    message = choice.get("message") if isinstance(choice, dict) else None
    content = message.get("content") if isinstance(message, dict) else None
    return content if isinstance(content, str) else ""


def _delta_text(choice: Any) -> str:
    delta = choice.get("delta") if isinstance(choice, dict) else None
    content = delta.get("content") if isinstance(delta, dict) else None
    return content if isinstance(content, str) else ""


def _without_none(value: Any) -> Any:
    """Copy JSON data, leaving out object members whose value is null."""
    if isinstance(value, dict):
        return {k: _without_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_none(item) for item in value]
    return value

"""Direct chat completion calls to providers that speak OpenAI's wire format.

litellm's `acompletion` builds, validates and re-parses every request and
response through its provider layer, which costs milliseconds of CPU per
call. A provider whose API is OpenAI's own format can take the already
validated body as it is. This module posts that body with orjson over one
pooled HTTP/1.1 keep-alive session and reads the response back as plain
JSON.

The session is aiohttp's (a requirement of litellm, so always installed).
Measured against a local nginx, one sequential request cost about 3.6 ms of
client time with `httpx.AsyncClient` and 0.8 ms with aiohttp, and the
gateway served 2.5 to 3.5 times more requests per second with aiohttp
(docs/benchmarks.md).

Only requests that litellm itself would send unchanged take this path (see
`supports`): the providers `openai`, `custom_openai` and `openai_like`, text
messages only, and models whose parameters litellm does not rewrite.
Everything else stays on litellm.

Failures are raised as httpx exceptions (`UpstreamStatusError` for an HTTP
error status, `httpx.TimeoutException`, `httpx.TransportError`) or
`TimeoutError`, which `gateway.error_mapping` maps like litellm's own errors.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import aiohttp
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
    """Serve a chat call of `gateway.upstream.send`, streamed if `payload["stream"]`."""
    call = stream if payload.get("stream") else complete
    return await call(candidate.target, candidate.provider_key, payload, timeout)


async def complete(
    target: Target, provider_key: ProviderKey, body: dict[str, Any], timeout: float
) -> UpstreamResponse:
    """Send a chat completion and return the provider's response.

    `body` contains the validated OpenAI fields without `model`; the model, the
    URL and the credentials come from the endpoint's target and provider key.
    """
    url, headers, content = _request_parts(
        target, provider_key, {**body, "stream": False}
    )
    async with (
        asyncio.timeout(timeout),
        _mapped_errors(url),
        shared_session().post(url, data=content, headers=headers) as response,
    ):
        raw = await response.read()
    if response.status >= 400:
        raise UpstreamStatusError(_httpx_response(url, response, raw))
    data = _json_object(url, raw)
    return UpstreamResponse(data, Usage.parse(data.get("usage")), response.status)


async def stream(
    target: Target, provider_key: ProviderKey, body: dict[str, Any], timeout: float
) -> UpstreamStream:
    """Start a streamed chat completion, raising provider errors before it returns.

    The provider is always asked for a usage chunk, so streamed requests are
    metered like plain ones. The usage chunk reaches the client only when the
    client asked for it with `stream_options.include_usage`. `timeout` limits
    the wait for the response headers and then for each read.
    """
    options = body.get("stream_options") or {}
    wants_usage = bool(options.get("include_usage"))
    upstream_body = {
        **body,
        "stream": True,
        "stream_options": {**options, "include_usage": True},
    }
    url, headers, content = _request_parts(target, provider_key, upstream_body)
    read_timeout = aiohttp.ClientTimeout(total=None, sock_read=timeout)
    async with asyncio.timeout(timeout), _mapped_errors(url):
        response = await shared_session().post(
            url, data=content, headers=headers, timeout=read_timeout
        )
        if response.status >= 400:
            raw = await response.read()
            response.release()
            raise UpstreamStatusError(_httpx_response(url, response, raw))
    return UpstreamStream(response, url, forward_usage=wants_usage)


@dataclass(eq=False)
class UpstreamStream:
    """The provider's server-sent events, read one `data:` event at a time.

    Iterating yields `StreamEvent`s whose `raw` bytes can go to the client
    unchanged. Once the stream ends, `usage` is the provider's usage (None
    if it sent none) and `text` the streamed content, for local counting.
    """

    response: aiohttp.ClientResponse
    url: str
    forward_usage: bool
    usage: Usage | None = None
    chunks: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "".join(self.chunks)

    def __aiter__(self) -> AsyncIterator[StreamEvent]:
        return self._events()

    async def aclose(self) -> None:
        # A stream left before its end cannot be reused, so its connection closes.
        self.response.close()

    async def _events(self) -> AsyncIterator[StreamEvent]:
        try:
            async with _mapped_errors(self.url):
                async for line in self.response.content:
                    event = self._parse(line.rstrip(b"\r\n"))
                    if event is None:
                        continue
                    if event.data is None:
                        self.response.release()
                        return
                    yield event
        finally:
            self.response.close()

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
                request=httpx.Request("POST", self.url),
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


_session: aiohttp.ClientSession | None = None
_session_loop: asyncio.AbstractEventLoop | None = None


def shared_session() -> aiohttp.ClientSession:
    """Return the pooled session of the running event loop, creating it on first use."""
    global _session, _session_loop
    loop = asyncio.get_running_loop()
    if _session is None or _session_loop is not loop:
        connector = aiohttp.TCPConnector(limit=_MAX_CONNECTIONS)
        _session = aiohttp.ClientSession(
            connector=connector, timeout=aiohttp.ClientTimeout(total=None)
        )
        _session_loop = loop
    return _session


async def close_client() -> None:
    """Close the pooled session, for the service's shutdown."""
    global _session, _session_loop
    if _session is not None and _session_loop is asyncio.get_running_loop():
        await _session.close()
    _session, _session_loop = None, None


def _request_parts(
    target: Target, provider_key: ProviderKey, body: dict[str, Any]
) -> tuple[str, dict[str, str], bytes]:
    base = provider_key.api_base or DEFAULT_BASES.get(target.provider)
    if not base:
        raise ValueError(f"provider {target.provider!r} needs an api_base")
    headers = {
        "Authorization": f"Bearer {provider_key.api_key}",
        "Content-Type": "application/json",
        "Accept": "text/event-stream" if body.get("stream") else "application/json",
    }
    content = orjson.dumps({**body, "model": target.model})
    return base.rstrip("/") + "/chat/completions", headers, content


@contextlib.asynccontextmanager
async def _mapped_errors(url: str) -> AsyncIterator[None]:
    """Re-raise aiohttp's errors as the httpx errors that error_mapping maps."""
    try:
        yield
    except aiohttp.ServerTimeoutError as exc:
        raise httpx.ReadTimeout(str(exc), request=httpx.Request("POST", url)) from exc
    except aiohttp.ClientConnectorError as exc:
        raise httpx.ConnectError(str(exc), request=httpx.Request("POST", url)) from exc
    except aiohttp.ClientError as exc:
        message = str(exc) or type(exc).__name__
        raise httpx.RemoteProtocolError(
            message, request=httpx.Request("POST", url)
        ) from exc


def _httpx_response(
    url: str, response: aiohttp.ClientResponse, raw: bytes
) -> httpx.Response:
    """Copy an error response into httpx's type, so error_mapping can read it."""
    return httpx.Response(
        response.status,
        headers=list(response.headers.items()),
        content=raw,
        request=httpx.Request("POST", url),
    )


def _json_object(url: str, raw: bytes) -> dict[str, Any]:
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        data = None
    if not isinstance(data, dict):
        raise httpx.DecodingError(
            f"the provider's response is not a JSON object: {raw[:200]!r}",
            request=httpx.Request("POST", url),
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

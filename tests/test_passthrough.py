"""The direct OpenAI-compatible path, against llmock speaking OpenAI's wire format."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import pytest

from gateway import passthrough
from gateway.error_mapping import map_provider_error
from gateway.errors import GatewayError
from gateway.models import ProviderKey
from gateway.snapshot import Target
from tests.support import LLMockProcess

SECRET = "sk-provider-secret-0123456789abcdef"
TARGET = Target(
    provider="openai", model="gpt-4o-mini", litellm_model="openai/gpt-4o-mini"
)
MESSAGES = [{"role": "user", "content": "hello pass-through"}]
Result = TypeVar("Result")


def provider_key(llmock: LLMockProcess, secret: str = SECRET) -> ProviderKey:
    return ProviderKey(
        id="pk-1",
        name="mock",
        provider="openai",
        api_key=secret,
        api_base=llmock.openai_base,
        created_at=datetime.now(UTC),
    )


def run(factory: Callable[[], Awaitable[Result]]) -> Result:
    """Run one coroutine on a fresh loop and close the pooled client afterwards."""

    async def main() -> Result:
        try:
            return await factory()
        finally:
            await passthrough.close_client()

    return asyncio.run(main())


async def collect(
    llmock: LLMockProcess, body: dict[str, Any]
) -> tuple[list[passthrough.StreamEvent], passthrough.UpstreamStream]:
    stream = await passthrough.stream(TARGET, provider_key(llmock), body, 10)
    return [event async for event in stream], stream


def mapped(exc: BaseException) -> GatewayError:
    failure = map_provider_error(
        exc, provider="openai", endpoint="chat", secrets=(SECRET,)
    )
    assert failure is not None, f"{type(exc).__name__} is not mapped"
    return failure.error


@pytest.mark.parametrize(
    ("provider", "model", "api_base", "content", "expected"),
    [
        ("openai", "gpt-4o-mini", None, "hi", True),
        ("openai", "gpt-4.1", "http://127.0.0.1:9/v1", "hi", True),
        ("custom_openai", "llama-3-8b", "http://127.0.0.1:9/v1", "hi", True),
        ("openai_like", "qwen2", "http://127.0.0.1:9/v1", None, True),
        ("custom_openai", "llama-3-8b", None, "hi", False),
        ("openai", "o3-mini", None, "hi", False),
        ("openai", "gpt-5", None, "hi", False),
        ("openai", "gpt-4o-audio-preview", None, "hi", False),
        ("openai", "gpt-4o-mini", None, [{"type": "text", "text": "hi"}], False),
        ("groq", "llama-3.1-8b-instant", None, "hi", False),
        ("together_ai", "meta-llama/Llama-3-8b", None, "hi", False),
        ("anthropic", "claude-3-5-haiku", None, "hi", False),
        ("ollama", "llama3", "http://127.0.0.1:11434", "hi", False),
    ],
)
def test_supports_only_unchanged_openai_requests(
    provider: str, model: str, api_base: str | None, content: Any, expected: bool
) -> None:
    messages = [{"role": "user", "content": content}]
    assert passthrough.supports(provider, model, api_base, messages) is expected


def test_complete_returns_body_and_usage(llmock: LLMockProcess) -> None:
    body = {"messages": MESSAGES, "temperature": 0.2, "max_tokens": 20}
    result = run(lambda: passthrough.complete(TARGET, provider_key(llmock), body, 10))

    assert result.body["object"] == "chat.completion"
    assert "hello pass-through" in result.content
    assert result.usage is not None
    assert result.usage.prompt_tokens > 0
    assert result.usage.completion_tokens > 0
    received = llmock.requests()[-1]["body"]
    assert received["model"] == "gpt-4o-mini"
    assert received["messages"] == MESSAGES
    assert received["temperature"] == 0.2
    assert received["stream"] is False


def test_stream_meters_like_plain_request(llmock: LLMockProcess) -> None:
    body = {"messages": MESSAGES}
    plain = run(lambda: passthrough.complete(TARGET, provider_key(llmock), body, 10))
    events, stream = run(lambda: collect(llmock, body))

    assert stream.usage == plain.usage
    assert stream.text == plain.content
    assert events[-1].data is not None
    assert all(event.data and event.data.get("choices") for event in events)
    assert llmock.requests()[-1]["body"]["stream_options"] == {"include_usage": True}


def test_stream_forwards_usage_when_asked(llmock: LLMockProcess) -> None:
    body = {"messages": MESSAGES, "stream_options": {"include_usage": True}}
    events, stream = run(lambda: collect(llmock, body))

    last = events[-1].data
    assert last is not None
    assert last["choices"] == []
    assert last["usage"]["completion_tokens"] == stream.usage.completion_tokens  # type: ignore[union-attr]
    assert events[-1].raw.startswith(b"data: {")
    assert events[-1].raw.endswith(b"\n\n")


@pytest.mark.parametrize(
    ("status", "expected_status", "expected_code"),
    [
        (500, 502, "upstream_error"),
        (503, 502, "upstream_error"),
        (401, 502, "upstream_auth_failed"),
        (429, 429, "rate_limit_exceeded"),
    ],
)
@pytest.mark.parametrize("streamed", [False, True], ids=["plain", "stream"])
def test_upstream_error_maps_to_table_row(
    llmock: LLMockProcess,
    status: int,
    expected_status: int,
    expected_code: str,
    streamed: bool,
) -> None:
    llmock.queue({"type": "fail", "status": status, "times": 1})
    call = passthrough.stream if streamed else passthrough.complete
    body = {"messages": MESSAGES}

    with pytest.raises(passthrough.UpstreamStatusError) as caught:
        run(lambda: call(TARGET, provider_key(llmock), body, 10))

    error = mapped(caught.value)
    assert caught.value.status_code == status
    assert error.status_code == expected_status
    assert error.code == expected_code
    assert SECRET not in error.message
    assert SECRET not in str(caught.value)


def test_timeout_maps_to_504(llmock: LLMockProcess) -> None:
    llmock.queue({"type": "delay", "seconds": 3, "times": 1})
    body = {"messages": MESSAGES}

    with pytest.raises((TimeoutError, passthrough.httpx.TimeoutException)) as caught:
        run(lambda: passthrough.complete(TARGET, provider_key(llmock), body, 0.5))

    error = mapped(caught.value)
    assert error.status_code == 504
    assert error.code == "upstream_timeout"


def test_unreachable_provider_maps_to_502() -> None:
    key = ProviderKey(
        "pk", "gone", "openai", SECRET, "http://127.0.0.1:9/v1", datetime.now(UTC)
    )

    with pytest.raises(passthrough.httpx.ConnectError) as caught:
        run(lambda: passthrough.complete(TARGET, key, {"messages": MESSAGES}, 5))

    error = mapped(caught.value)
    assert error.status_code == 502
    assert error.code == "upstream_error"
    assert SECRET not in error.message


def test_provider_secret_sent_only_as_bearer(llmock: LLMockProcess) -> None:
    run(
        lambda: passthrough.complete(
            TARGET, provider_key(llmock), {"messages": MESSAGES}, 10
        )
    )

    received = llmock.requests()[-1]
    assert SECRET not in str(received["body"])
    assert received["status"] == 200

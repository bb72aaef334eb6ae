"""The direct OpenAI-compatible path, against llmock speaking OpenAI's wire format."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx
import pytest

from gateway import passthrough
from gateway.error_mapping import map_provider_error
from gateway.errors import GatewayError
from gateway.models import ProviderKey
from gateway.snapshot import Target
from tests.support import GatewayProcess, LLMockProcess

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

    with pytest.raises((TimeoutError, httpx.TimeoutException)) as caught:
        run(lambda: passthrough.complete(TARGET, provider_key(llmock), body, 0.5))

    error = mapped(caught.value)
    assert error.status_code == 504
    assert error.code == "upstream_timeout"


def test_unreachable_provider_maps_to_502() -> None:
    key = ProviderKey(
        "pk", "gone", "openai", SECRET, "http://127.0.0.1:9/v1", datetime.now(UTC)
    )

    with pytest.raises(httpx.ConnectError) as caught:
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


# Through the real service: every contract of the data plane on the direct path.

SERVICE_SECRET = "sk-llmock-passthrough-0123456789abcdef"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def created(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code in (200, 201), response.text
    body: dict[str, Any] = response.json()
    return body


def make_endpoint(
    admin: httpx.Client, llmock: LLMockProcess, **fields: Any
) -> dict[str, Any]:
    provider_key = created(
        admin.post(
            "/provider-keys",
            json={
                "name": unique("direct"),
                "provider": "openai",
                "api_key": SERVICE_SECRET,
                "api_base": llmock.openai_base,
            },
        )
    )
    body = {
        "slug": unique("direct"),
        "provider_key_id": provider_key["id"],
        "model": "gpt-4o-mini",
        **fields,
    }
    return created(admin.post("/endpoints", json=body))


def make_key(admin: httpx.Client, *slugs: str) -> dict[str, Any]:
    body = {
        "name": unique("key"),
        "allowed_endpoints": list(slugs),
        "allowed_providers": ["openai"],
        "blocked_models": ["gpt-3.5*"],
    }
    return created(admin.post("/virtual-keys", json=body))


def chat(
    service: GatewayProcess, key: dict[str, Any], slug: str, **fields: Any
) -> httpx.Response:
    body = {"model": slug, "messages": MESSAGES, **fields}
    headers = {"Authorization": f"Bearer {key['key']}"}
    url = f"{service.url}/v1/chat/completions"
    return httpx.post(url, json=body, headers=headers, timeout=30)


def logged_rows(admin: httpx.Client, key_id: str, count: int) -> list[dict[str, Any]]:
    """Wait for the log writer to store `count` rows of a key, and return them."""
    deadline = time.monotonic() + 15
    while True:
        rows: list[dict[str, Any]] = admin.get(
            "/logs", params={"key_id": key_id}
        ).json()["data"]
        if len(rows) >= count or time.monotonic() > deadline:
            return rows
        time.sleep(0.2)


def took_direct_path(llmock: LLMockProcess) -> bool:
    """Tell from the openai SDK retry header, which litellm sends and we do not."""
    return llmock.requests()[-1]["sdk_retry_count"] is None


def stream_text(response: httpx.Response) -> tuple[str, list[dict[str, Any]]]:
    chunks = [
        json.loads(line[6:])
        for line in response.text.splitlines()
        if line.startswith("data: {")
    ]
    text = "".join(
        (choice.get("delta") or {}).get("content") or ""
        for chunk in chunks
        for choice in chunk.get("choices") or ()
    )
    return text, chunks


def test_service_uses_direct_path(
    gateway: GatewayProcess, admin: httpx.Client, llmock: LLMockProcess
) -> None:
    endpoint = make_endpoint(admin, llmock)
    key = make_key(admin, endpoint["slug"])

    response = chat(gateway, key, endpoint["slug"])
    assert response.status_code == 200, response.text
    assert took_direct_path(llmock)

    parts = [{"type": "text", "text": "hello pass-through"}]
    response = chat(
        gateway, key, endpoint["slug"], messages=[{"role": "user", "content": parts}]
    )
    assert response.status_code == 200, response.text
    assert not took_direct_path(llmock)


def test_service_logs_usage_and_cost(
    gateway: GatewayProcess, admin: httpx.Client, llmock: LLMockProcess
) -> None:
    endpoint = make_endpoint(admin, llmock)
    key = make_key(admin, endpoint["slug"])

    plain = chat(gateway, key, endpoint["slug"])
    streamed = chat(gateway, key, endpoint["slug"], stream=True)

    assert plain.status_code == 200, plain.text
    assert streamed.status_code == 200, streamed.text
    text, chunks = stream_text(streamed)
    assert text == plain.json()["choices"][0]["message"]["content"]
    assert all("usage" not in chunk for chunk in chunks)
    rows = logged_rows(admin, key["id"], 2)
    assert len(rows) == 2
    by_stream = {row["stream"]: row for row in rows}
    usage = plain.json()["usage"]
    for row in rows:
        assert row["status"] == 200
        assert row["prompt_tokens"] == usage["prompt_tokens"]
        assert row["completion_tokens"] == usage["completion_tokens"]
        assert row["cost_usd"] > 0
    assert by_stream[True]["cost_usd"] == pytest.approx(by_stream[False]["cost_usd"])


def test_service_stream_sends_usage_when_asked(
    gateway: GatewayProcess, admin: httpx.Client, llmock: LLMockProcess
) -> None:
    endpoint = make_endpoint(admin, llmock)
    key = make_key(admin, endpoint["slug"])

    response = chat(
        gateway,
        key,
        endpoint["slug"],
        stream=True,
        stream_options={"include_usage": True},
    )

    assert response.status_code == 200, response.text
    _, chunks = stream_text(response)
    assert chunks[-1]["usage"]["completion_tokens"] > 0
    assert response.text.rstrip().endswith("data: [DONE]")


@pytest.mark.parametrize(
    ("status", "expected_status", "expected_code"),
    [
        (500, 502, "upstream_error"),
        (401, 502, "upstream_auth_failed"),
        (429, 429, "rate_limit_exceeded"),
    ],
)
@pytest.mark.parametrize("streamed", [False, True], ids=["plain", "stream"])
def test_service_maps_upstream_errors(
    gateway: GatewayProcess,
    admin: httpx.Client,
    llmock: LLMockProcess,
    status: int,
    expected_status: int,
    expected_code: str,
    streamed: bool,
) -> None:
    endpoint = make_endpoint(admin, llmock)
    key = make_key(admin, endpoint["slug"])
    llmock.queue({"type": "fail", "status": status, "times": 1})

    response = chat(gateway, key, endpoint["slug"], stream=streamed)

    assert response.status_code == expected_status, response.text
    assert response.json()["error"]["code"] == expected_code
    assert SERVICE_SECRET not in response.text
    if expected_status == 429:
        assert response.headers["retry-after"]
    rows = logged_rows(admin, key["id"], 1)
    assert rows[0]["status"] == expected_status
    assert rows[0]["error_code"] == expected_code
    assert SERVICE_SECRET not in json.dumps(rows)


def test_service_timeout_is_504(
    start_gateway: Callable[..., GatewayProcess], llmock: LLMockProcess
) -> None:
    service = start_gateway(GATEWAY_UPSTREAM_TIMEOUT_SECONDS="1")
    with service.admin() as admin:
        endpoint = make_endpoint(admin, llmock)
        key = make_key(admin, endpoint["slug"])
    llmock.queue({"type": "delay", "seconds": 4, "times": 1})

    response = chat(service, key, endpoint["slug"])

    assert response.status_code == 504, response.text
    assert response.json()["error"]["code"] == "upstream_timeout"


def test_service_falls_back_on_fault(
    gateway: GatewayProcess, admin: httpx.Client, llmock: LLMockProcess
) -> None:
    backup = make_endpoint(admin, llmock)
    primary = make_endpoint(admin, llmock, fallback_endpoint_ids=[backup["id"]])
    key = make_key(admin, primary["slug"], backup["slug"])
    llmock.queue({"type": "fail", "status": 500, "times": 1})

    response = chat(gateway, key, primary["slug"])

    assert response.status_code == 200, response.text
    assert len(llmock.requests()) == 2
    assert took_direct_path(llmock)


def test_service_masks_output(
    gateway: GatewayProcess, admin: httpx.Client, llmock: LLMockProcess
) -> None:
    word = unique("codeword")
    guardrail = created(
        admin.post(
            "/guardrails",
            json={
                "name": unique("mask"),
                "kind": "keyword",
                "scope": "output",
                "action": "mask",
                "config": {"words": [word]},
            },
        )
    )
    endpoint = make_endpoint(admin, llmock)
    key = make_key(admin, endpoint["slug"])
    messages = [{"role": "user", "content": f"repeat {word}"}]
    try:
        plain = chat(gateway, key, endpoint["slug"], messages=messages)
        streamed = chat(gateway, key, endpoint["slug"], messages=messages, stream=True)
    finally:
        admin.delete(f"/guardrails/{guardrail['id']}")

    assert plain.status_code == 200, plain.text
    assert took_direct_path(llmock)
    assert word in llmock.requests()[-1]["body"]["messages"][0]["content"]
    assert word not in plain.json()["choices"][0]["message"]["content"]
    assert streamed.status_code == 200, streamed.text
    rows = logged_rows(admin, key["id"], 2)
    assert all(row["guardrail_actions"] for row in rows)

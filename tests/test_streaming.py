"""Streamed chat completions through the real service, with llmock as the provider."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest

from tests.support import GatewayProcess, LLMockProcess
from tests.test_proxy_server import (
    MESSAGES,
    PROVIDER_SECRET,
    chat,
    keyword_guardrail,
    log_row,
    make_endpoint,
    make_key,
)


@pytest.fixture
def endpoint(admin: httpx.Client, llmock: LLMockProcess) -> dict[str, Any]:
    return make_endpoint(admin, llmock)


@pytest.fixture
def key(admin: httpx.Client, endpoint: dict[str, Any]) -> str:
    return str(make_key(admin)["key"])


def events(text: str) -> list[Any]:
    """Decode the `data:` lines of an SSE body, keeping `[DONE]` as a string."""
    decoded: list[Any] = []
    for line in text.splitlines():
        if not line.startswith("data: "):
            continue
        payload = line[len("data: ") :]
        decoded.append(payload if payload == "[DONE]" else orjson.loads(payload))
    return decoded


def streamed_text(chunks: list[Any]) -> str:
    return "".join(
        choice["delta"].get("content") or ""
        for chunk in chunks
        if isinstance(chunk, dict)
        for choice in chunk.get("choices", [])
    )


def test_stream_ends_with_done(
    gateway: GatewayProcess, endpoint: dict[str, Any], key: str
) -> None:
    body = {"model": endpoint["slug"], "messages": MESSAGES, "stream": True}
    response = chat(gateway, key, body)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    chunks = events(response.text)
    assert chunks[-1] == "[DONE]"
    assert "Say hello." in streamed_text(chunks)
    assert all("usage" not in chunk for chunk in chunks[:-1])


def test_stream_usage_only_when_asked(
    gateway: GatewayProcess, endpoint: dict[str, Any], key: str
) -> None:
    body = {
        "model": endpoint["slug"],
        "messages": MESSAGES,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    chunks = events(chat(gateway, key, body).text)
    usage = [chunk["usage"] for chunk in chunks[:-1] if chunk.get("usage")]
    assert len(usage) == 1
    assert usage[0]["completion_tokens"] > 0


def test_stream_costs_same_as_plain(
    gateway: GatewayProcess, admin: httpx.Client, endpoint: dict[str, Any], key: str
) -> None:
    body = {"model": endpoint["slug"], "messages": MESSAGES}
    plain = chat(gateway, key, body)
    streamed = chat(gateway, key, {**body, "stream": True})
    plain_row = log_row(admin, plain.headers["x-request-id"])
    streamed_row = log_row(admin, streamed.headers["x-request-id"])
    assert streamed_row["stream"] is True
    assert plain_row["stream"] is False
    assert streamed_row["prompt_tokens"] == plain_row["prompt_tokens"]
    assert streamed_row["completion_tokens"] == plain_row["completion_tokens"]
    assert streamed_row["cost_usd"] == pytest.approx(plain_row["cost_usd"])
    assert streamed_row["cost_usd"] > 0


def test_stream_without_usage_counted_locally(
    gateway: GatewayProcess,
    admin: httpx.Client,
    llmock: LLMockProcess,
    endpoint: dict[str, Any],
    key: str,
) -> None:
    llmock.queue({"type": "stream_fault", "kind": "truncate", "after_chunks": 3})
    body = {"model": endpoint["slug"], "messages": MESSAGES, "stream": True}
    response = chat(gateway, key, body)
    row = log_row(admin, response.headers["x-request-id"])
    assert row["completion_tokens"] > 0
    assert row["prompt_tokens"] > 0


def test_stream_client_disconnect_logged(
    gateway: GatewayProcess,
    admin: httpx.Client,
    llmock: LLMockProcess,
    endpoint: dict[str, Any],
    key: str,
) -> None:
    llmock.queue(
        {
            "type": "stream_fault",
            "kind": "stall",
            "after_chunks": 2,
            "stall_seconds": 30,
        }
    )
    body = {"model": endpoint["slug"], "messages": MESSAGES, "stream": True}
    headers = {"Authorization": f"Bearer {key}"}
    url = f"{gateway.url}/v1/chat/completions"
    with httpx.stream("POST", url, headers=headers, json=body, timeout=30) as response:
        request_id = response.headers["x-request-id"]
        lines = response.iter_lines()
        first = next(line for line in lines if line.startswith("data: "))
        assert "chat.completion.chunk" in first
    row = log_row(admin, request_id)
    assert row["status"] == 499
    assert row["error_code"] == "client_disconnected"
    assert row["stream"] is True


def test_stream_provider_error_before_first_chunk(
    gateway: GatewayProcess, llmock: LLMockProcess, endpoint: dict[str, Any], key: str
) -> None:
    llmock.queue({"type": "fail", "status": 500, "times": 1})
    body = {"model": endpoint["slug"], "messages": MESSAGES, "stream": True}
    response = chat(gateway, key, body)
    assert response.status_code == 502
    assert response.json()["error"]["code"] == "upstream_error"
    assert PROVIDER_SECRET not in response.text


def test_stream_falls_back_before_first_chunk(
    gateway: GatewayProcess, admin: httpx.Client, llmock: LLMockProcess, key: str
) -> None:
    backup = make_endpoint(admin, llmock, model="openai/gpt-4o")
    primary = make_endpoint(admin, llmock, fallback_endpoint_ids=[backup["id"]])
    llmock.queue({"type": "fail", "status": 503, "times": 1})
    body = {"model": primary["slug"], "messages": MESSAGES, "stream": True}
    response = chat(gateway, key, body)
    assert response.status_code == 200
    assert events(response.text)[-1] == "[DONE]"
    assert [record["model"] for record in llmock.requests()] == [
        "gpt-4o-mini",
        "gpt-4o",
    ]


def test_stream_broken_midway_sends_error_event(
    gateway: GatewayProcess,
    admin: httpx.Client,
    llmock: LLMockProcess,
    endpoint: dict[str, Any],
    key: str,
) -> None:
    llmock.queue({"type": "stream_fault", "kind": "disconnect", "after_chunks": 3})
    body = {"model": endpoint["slug"], "messages": MESSAGES, "stream": True}
    response = chat(gateway, key, body)
    chunks = events(response.text)
    assert chunks[-1] != "[DONE]"
    assert chunks[-1]["error"]["code"] == "upstream_error"
    row = log_row(admin, response.headers["x-request-id"])
    assert row["status"] == 502


def test_playground_stream_trailer(
    admin: httpx.Client, endpoint: dict[str, Any]
) -> None:
    body = {"endpoint": endpoint["slug"], "messages": MESSAGES, "stream": True}
    response = admin.post("/playground/chat", json=body)
    assert response.status_code == 200
    chunks = events(response.text)
    assert chunks[-1] == "[DONE]"
    trailer = chunks[-2]
    assert trailer["usage"]["completion_tokens"] > 0
    assert trailer["gateway"]["request_id"] == response.headers["x-request-id"]
    assert (
        trailer["gateway"]["completion_tokens"] == trailer["usage"]["completion_tokens"]
    )
    assert all("gateway" not in chunk for chunk in chunks[:-2])


def output_guardrail(admin: httpx.Client, action: str, word: str) -> str:
    name = f"stream-{action}-{word}"
    guardrail = keyword_guardrail(admin, word, scope="output", action=action, name=name)
    return str(guardrail["id"])


# Plain string content goes through the direct pass-through; content parts go
# through litellm. Both relays must apply output guardrails.
CONTENT_SHAPES = {
    "text": lambda text: text,
    "parts": lambda text: [{"type": "text", "text": text}],
}


@pytest.mark.parametrize("shape", sorted(CONTENT_SHAPES))
def test_stream_output_masked(
    gateway: GatewayProcess,
    admin: httpx.Client,
    endpoint: dict[str, Any],
    key: str,
    shape: str,
) -> None:
    word = f"zebra{shape}"
    guardrail = output_guardrail(admin, "mask", word)
    content = CONTENT_SHAPES[shape](f"please repeat {word} twice")
    body = {
        "model": endpoint["slug"],
        "messages": [{"role": "user", "content": content}],
        "stream": True,
    }
    try:
        response = chat(gateway, key, body)
    finally:
        admin.delete(f"/guardrails/{guardrail}")
    assert response.status_code == 200, response.text
    chunks = events(response.text)
    text = streamed_text(chunks)
    assert word not in text
    assert "[REDACTED]" in text
    assert chunks[-1] == "[DONE]"
    row = log_row(admin, response.headers["x-request-id"])
    assert f"output:mask:stream-mask-{word}" in row["guardrail_actions"]


def test_stream_output_blocked(
    gateway: GatewayProcess, admin: httpx.Client, endpoint: dict[str, Any], key: str
) -> None:
    guardrail = output_guardrail(admin, "block", "walrus")
    body = {
        "model": endpoint["slug"],
        "messages": [{"role": "user", "content": "say walrus"}],
        "stream": True,
    }
    try:
        response = chat(gateway, key, body)
    finally:
        admin.delete(f"/guardrails/{guardrail}")
    assert response.status_code == 200, response.text
    chunks = events(response.text)
    assert "walrus" not in response.text
    finishes = [
        choice.get("finish_reason")
        for chunk in chunks
        if isinstance(chunk, dict)
        for choice in chunk.get("choices", [])
    ]
    assert "content_filter" in finishes
    assert chunks[-1] == "[DONE]"

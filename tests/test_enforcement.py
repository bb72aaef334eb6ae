"""Limits, budgets, expiry, rotation and shutdown, through the real service and llmock.

Requests go through the official `openai` client, as an app's would.
"""

from __future__ import annotations

import asyncio
import signal
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import openai
import pytest

from gateway.pricing import price
from tests.support import GatewayProcess, LLMockProcess

MODEL = "openai/gpt-4o"
MESSAGES: list[Any] = [{"role": "user", "content": "Say hello."}]


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def create_endpoint(admin: httpx.Client, llmock: LLMockProcess) -> str:
    """Create a provider key on llmock and an endpoint on it, and return the slug."""
    provider_key = admin.post(
        "/provider-keys",
        json={
            "name": unique("llmock"),
            "provider": "openai",
            "api_key": "sk-llmock-test-0123456789",
            "api_base": llmock.openai_base,
        },
    )
    assert provider_key.status_code in (200, 201), provider_key.text
    slug = unique("gpt4o")
    endpoint = admin.post(
        "/endpoints",
        json={
            "slug": slug,
            "provider_key_id": provider_key.json()["id"],
            "model": MODEL,
        },
    )
    assert endpoint.status_code in (200, 201), endpoint.text
    return slug


def create_key(admin: httpx.Client, slug: str, **fields: Any) -> dict[str, Any]:
    response = admin.post(
        "/virtual-keys",
        json={"name": unique("key"), "allowed_endpoints": [slug], **fields},
    )
    assert response.status_code in (200, 201), response.text
    body: dict[str, Any] = response.json()
    return body


def client(gateway: GatewayProcess, key: str) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=f"{gateway.url}/v1", api_key=key, max_retries=0)


async def send_together(
    gateway: GatewayProcess, key: str, slug: str, count: int, **params: Any
) -> list[Any]:
    """Send `count` chat requests at once and return each response or exception."""
    async with client(gateway, key) as api:
        calls = [
            api.chat.completions.create(model=slug, messages=MESSAGES, **params)
            for _ in range(count)
        ]
        return await asyncio.gather(*calls, return_exceptions=True)


def chat_requests(llmock: LLMockProcess) -> list[dict[str, Any]]:
    return [r for r in llmock.requests() if r["path"].endswith("/chat/completions")]


def error_code(exc: openai.APIStatusError) -> str:
    body = exc.response.json()
    return str(body["error"]["code"])


def test_rpm_exact_under_concurrency(
    gateway: GatewayProcess, admin: httpx.Client, llmock: LLMockProcess
) -> None:
    slug = create_endpoint(admin, llmock)
    key = create_key(admin, slug, rpm_limit=5)

    results = asyncio.run(send_together(gateway, key["key"], slug, 10))

    passed = [r for r in results if not isinstance(r, Exception)]
    denied = [r for r in results if isinstance(r, openai.RateLimitError)]
    assert len(passed) == 5, results
    assert len(denied) == 5, results
    for exc in denied:
        assert exc.status_code == 429
        assert error_code(exc) == "rate_limit_exceeded"
        assert exc.response.json()["error"]["type"] == "rate_limit_error"
        assert int(exc.response.headers["retry-after"]) >= 1
        assert key["key_prefix"] in exc.message
        assert "rpm limit of 5" in exc.message
    assert len(chat_requests(llmock)) == 5


def test_budget_exact_under_concurrency(
    gateway: GatewayProcess, admin: httpx.Client, llmock: LLMockProcess
) -> None:
    model_price = price(MODEL)
    assert model_price.output_per_token > 0, (
        "the bundled cost map lists no gpt-4o price"
    )
    max_tokens = 1000
    # Each request reserves its prompt estimate plus max_tokens of output. The
    # output part dominates, so a budget of 3.5 requests' output fits exactly 3.
    worst_output = max_tokens * model_price.output_per_token
    budget = 3.5 * worst_output
    slug = create_endpoint(admin, llmock)
    key = create_key(admin, slug, max_budget_usd=budget, budget_period="monthly")
    # Delay every response long enough that all eight requests reserve before the
    # first settles, so settled costs (far below the reservation) free no budget.
    llmock.queue({"type": "delay", "seconds": 3, "times": 8})

    results = asyncio.run(
        send_together(gateway, key["key"], slug, 8, max_tokens=max_tokens)
    )

    passed = [r for r in results if not isinstance(r, Exception)]
    denied = [r for r in results if isinstance(r, openai.RateLimitError)]
    assert len(passed) == 3, results
    assert len(denied) == 5, results
    for exc in denied:
        assert error_code(exc) == "budget_exceeded"
        assert exc.response.json()["error"]["type"] == "insufficient_quota"
        assert key["key_prefix"] in exc.message
    assert len(chat_requests(llmock)) == 3

    listed = admin.get(f"/virtual-keys/{key['id']}")
    assert listed.status_code == 200, listed.text
    spend = listed.json()["spend_usd"]
    assert 0 < spend <= budget


def test_spent_budget_blocks_next_request(
    gateway: GatewayProcess, admin: httpx.Client, llmock: LLMockProcess
) -> None:
    slug = create_endpoint(admin, llmock)
    key = create_key(admin, slug, max_budget_usd=0.0)

    results = asyncio.run(send_together(gateway, key["key"], slug, 1, max_tokens=10))

    assert isinstance(results[0], openai.RateLimitError), results
    assert error_code(results[0]) == "budget_exceeded"
    assert chat_requests(llmock) == []


def test_expired_key_rejected(
    gateway: GatewayProcess, admin: httpx.Client, llmock: LLMockProcess
) -> None:
    slug = create_endpoint(admin, llmock)
    key = create_key(admin, slug)
    # The admin API rejects an expiry in the past, so the key gets one a
    # second ahead and the test waits until that moment has passed.
    expires_at = datetime.now(UTC) + timedelta(seconds=1)
    patched = admin.patch(
        f"/virtual-keys/{key['id']}", json={"expires_at": expires_at.isoformat()}
    )
    assert patched.status_code == 200, patched.text
    while datetime.now(UTC) <= expires_at + timedelta(milliseconds=50):
        time.sleep(0.05)

    results = asyncio.run(send_together(gateway, key["key"], slug, 1))

    assert isinstance(results[0], openai.AuthenticationError), results
    assert results[0].status_code == 401
    assert error_code(results[0]) == "key_expired"
    assert chat_requests(llmock) == []


def test_rotated_key_replaces_old(
    gateway: GatewayProcess, admin: httpx.Client, llmock: LLMockProcess
) -> None:
    slug = create_endpoint(admin, llmock)
    key = create_key(admin, slug)
    rotated = admin.post(f"/virtual-keys/{key['id']}/rotate")
    assert rotated.status_code in (200, 201), rotated.text
    new_key = rotated.json()["key"]
    assert new_key != key["key"]

    old_results = asyncio.run(send_together(gateway, key["key"], slug, 1))
    new_results = asyncio.run(send_together(gateway, new_key, slug, 1))

    assert isinstance(old_results[0], openai.AuthenticationError), old_results
    assert error_code(old_results[0]) == "invalid_api_key"
    assert key["key"] not in old_results[0].message
    assert not isinstance(new_results[0], Exception), new_results
    assert len(chat_requests(llmock)) == 1


def test_sigterm_writes_logs_and_spend(
    start_gateway: Callable[..., GatewayProcess], llmock: LLMockProcess
) -> None:
    # A long flush interval keeps the rows in memory until shutdown.
    service = start_gateway(GATEWAY_LOG_FLUSH_SECONDS="60")
    with service.admin() as admin:
        slug = create_endpoint(admin, llmock)
        key = create_key(admin, slug)

    results = asyncio.run(send_together(service, key["key"], slug, 3, max_tokens=20))
    assert all(not isinstance(r, Exception) for r in results), results
    # uvicorn shuts down gracefully on SIGTERM and then raises the signal
    # again, so the exit status is -SIGTERM after a clean stop.
    assert service.stop() in (0, -signal.SIGTERM)
    assert "log rows and spend written" in service.output()

    service.start()
    with service.admin() as admin:
        logs = admin.get("/logs", params={"key_id": key["id"]}).json()
        listed = admin.get(f"/virtual-keys/{key['id']}").json()

    assert logs["total"] == 3
    assert {row["status"] for row in logs["data"]} == {200}
    logged_cost = sum(row["cost_usd"] for row in logs["data"])
    assert logged_cost > 0
    assert listed["spend_usd"] == pytest.approx(logged_cost)

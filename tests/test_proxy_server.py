"""The data plane through the real service, with llmock as the provider.

Every row of the error table is sent through `/v1`, and each denied request
is checked against llmock's journal to prove it never reached the provider.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import openai
import pytest

from tests.support import GatewayProcess, LLMockProcess

PROVIDER_SECRET = "sk-provider-secret-do-not-leak-0123456789"
MESSAGES: list[Any] = [{"role": "user", "content": "Say hello."}]


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def created(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code in (200, 201), response.text
    body: dict[str, Any] = response.json()
    return body


def make_endpoint(
    admin: httpx.Client,
    llmock: LLMockProcess,
    model: str = "openai/gpt-4o-mini",
    **fields: Any,
) -> dict[str, Any]:
    provider_key = created(
        admin.post(
            "/provider-keys",
            json={
                "name": unique("mock"),
                "provider": "openai",
                "api_key": PROVIDER_SECRET,
                "api_base": llmock.openai_base,
            },
        )
    )
    body = {"slug": unique("ep"), "provider_key_id": provider_key["id"], "model": model}
    return created(admin.post("/endpoints", json={**body, **fields}))


def keyword_guardrail(
    admin: httpx.Client, word: str, *, scope: str, action: str, name: str
) -> dict[str, Any]:
    """Create an active keyword guardrail for `word`."""
    body = {"name": name, "kind": "keyword", "scope": scope, "action": action}
    return created(
        admin.post("/guardrails", json={**body, "config": {"words": [word]}})
    )


def make_key(admin: httpx.Client, **fields: Any) -> dict[str, Any]:
    return created(admin.post("/virtual-keys", json={"name": unique("key"), **fields}))


def chat(
    gateway: GatewayProcess, key: str | None, body: dict[str, Any], **kwargs: Any
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.post(
        f"{gateway.url}/v1/chat/completions",
        headers=headers,
        json=body,
        timeout=30,
        **kwargs,
    )


def log_row(admin: httpx.Client, request_id: str) -> dict[str, Any]:
    """Wait for the batched log writer to store the row, then return it."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        response = admin.get(f"/logs/{request_id}")
        if response.status_code == 200:
            row: dict[str, Any] = response.json()
            return row
        time.sleep(0.2)
    raise AssertionError(f"no log row for {request_id}")


def assert_error(
    response: httpx.Response, status: int, error_type: str, code: str
) -> None:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["type"] == error_type
    assert error["code"] == code
    assert response.headers["x-request-id"].startswith("req_")


@pytest.fixture
def endpoint(admin: httpx.Client, llmock: LLMockProcess) -> dict[str, Any]:
    return make_endpoint(admin, llmock)


@pytest.fixture
def key(admin: httpx.Client, endpoint: dict[str, Any]) -> str:
    return str(make_key(admin)["key"])


# Requests rejected before authentication or by the body's content.
BAD_BODIES: list[tuple[str, dict[str, Any], str]] = [
    ("missing_messages", {"model": "SLUG"}, "missing_field"),
    ("missing_model", {"messages": MESSAGES}, "missing_field"),
    (
        "bad_temperature",
        {"model": "SLUG", "messages": MESSAGES, "temperature": "hot"},
        "invalid_field",
    ),
    (
        "api_base",
        {"model": "SLUG", "messages": MESSAGES, "api_base": "http://127.0.0.1:9"},
        "unsupported_parameter",
    ),
    (
        "api_key",
        {"model": "SLUG", "messages": MESSAGES, "api_key": "sk-other"},
        "unsupported_parameter",
    ),
    (
        "mock_response",
        {"model": "SLUG", "messages": MESSAGES, "mock_response": "hi"},
        "unsupported_parameter",
    ),
    (
        "unknown",
        {"model": "SLUG", "messages": MESSAGES, "frobnicate": 1},
        "unsupported_parameter",
    ),
]


@pytest.mark.parametrize(
    ("case", "body", "code"), BAD_BODIES, ids=[c[0] for c in BAD_BODIES]
)
def test_bad_body_rejected(
    gateway: GatewayProcess,
    llmock: LLMockProcess,
    endpoint: dict[str, Any],
    key: str,
    case: str,
    body: dict[str, Any],
    code: str,
) -> None:
    if body.get("model") == "SLUG":
        body = {**body, "model": endpoint["slug"]}
    response = chat(gateway, key, body)
    assert_error(response, 400, "invalid_request_error", code)
    assert llmock.requests() == []


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b"{not json", "application/json"),
        (b"[]", "application/json"),
        (b"{}", "text/plain"),
    ],
)
def test_malformed_json_rejected(
    gateway: GatewayProcess,
    llmock: LLMockProcess,
    key: str,
    content: bytes,
    content_type: str,
) -> None:
    response = httpx.post(
        f"{gateway.url}/v1/chat/completions",
        headers={"Authorization": f"Bearer {key}", "Content-Type": content_type},
        content=content,
    )
    assert_error(response, 400, "invalid_request_error", "invalid_json")
    assert llmock.requests() == []


def test_body_over_limit_rejected(
    gateway: GatewayProcess, llmock: LLMockProcess, endpoint: dict[str, Any], key: str
) -> None:
    text = "x" * (4 * 1024 * 1024 + 10)
    body = {"model": endpoint["slug"], "messages": [{"role": "user", "content": text}]}
    response = chat(gateway, key, body)
    assert_error(response, 413, "invalid_request_error", "request_too_large")
    assert llmock.requests() == []


def test_chunked_body_over_limit_rejected(
    gateway: GatewayProcess, llmock: LLMockProcess, key: str
) -> None:
    def pieces() -> Any:
        yield b'{"model": "x", "messages": [{"role": "user", "content": "'
        for _ in range(5):
            yield b"y" * (1024 * 1024)
        yield b'"}]}'

    response = httpx.post(
        f"{gateway.url}/v1/chat/completions",
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        content=pieces(),
    )
    assert "content-length" not in response.request.headers
    assert_error(response, 413, "invalid_request_error", "request_too_large")
    assert llmock.requests() == []


def test_content_blocked_by_input_guardrail(
    gateway: GatewayProcess,
    admin: httpx.Client,
    llmock: LLMockProcess,
    endpoint: dict[str, Any],
    key: str,
) -> None:
    word = unique("forbiddenword")
    keyword_guardrail(admin, word, scope="input", action="block", name=unique("block"))
    messages = [{"role": "user", "content": f"please say {word}"}]
    response = chat(gateway, key, {"model": endpoint["slug"], "messages": messages})
    assert_error(response, 400, "invalid_request_error", "content_blocked")
    assert word not in response.text
    assert llmock.requests() == []


def test_input_guardrail_masks_before_forwarding(
    gateway: GatewayProcess,
    admin: httpx.Client,
    llmock: LLMockProcess,
    endpoint: dict[str, Any],
    key: str,
) -> None:
    word = unique("maskedword")
    keyword_guardrail(admin, word, scope="input", action="mask", name=unique("mask"))
    messages = [{"role": "user", "content": f"repeat {word} please"}]
    response = chat(gateway, key, {"model": endpoint["slug"], "messages": messages})
    assert response.status_code == 200, response.text
    assert word not in str(llmock.requests())
    assert word not in response.text


def test_missing_key_rejected(gateway: GatewayProcess, llmock: LLMockProcess) -> None:
    response = chat(gateway, None, {"model": "anything", "messages": MESSAGES})
    assert_error(response, 401, "authentication_error", "missing_api_key")
    assert llmock.requests() == []


@pytest.mark.parametrize("token", ["sk-gw-not-a-real-key-0123456789", "hello"])
def test_unknown_key_rejected(
    gateway: GatewayProcess, llmock: LLMockProcess, endpoint: dict[str, Any], token: str
) -> None:
    response = chat(gateway, token, {"model": endpoint["slug"], "messages": MESSAGES})
    assert_error(response, 401, "authentication_error", "invalid_api_key")
    assert token not in response.text
    assert llmock.requests() == []


@pytest.mark.parametrize(
    ("scheme", "hint"),
    [("Basic ", "'Basic' scheme"), ("", "no Bearer scheme"), ("Token ", "'Token'")],
)
def test_malformed_authorization_explained(
    gateway: GatewayProcess,
    llmock: LLMockProcess,
    endpoint: dict[str, Any],
    key: str,
    scheme: str,
    hint: str,
) -> None:
    response = httpx.post(
        f"{gateway.url}/v1/chat/completions",
        headers={"Authorization": f"{scheme}{key}"},
        json={"model": endpoint["slug"], "messages": MESSAGES},
        timeout=30,
    )

    assert_error(response, 401, "authentication_error", "invalid_api_key")
    message = response.json()["error"]["message"]
    assert "Malformed Authorization header" in message
    assert hint in message
    assert "Bearer sk-gw-..." in message
    assert key not in response.text
    assert llmock.requests() == []


@pytest.mark.parametrize("header", ["api-key", "x-api-key"])
def test_key_accepted_in_api_key_header(
    gateway: GatewayProcess, endpoint: dict[str, Any], key: str, header: str
) -> None:
    response = httpx.post(
        f"{gateway.url}/v1/chat/completions",
        headers={header: key},
        json={"model": endpoint["slug"], "messages": MESSAGES},
        timeout=30,
    )
    assert response.status_code == 200, response.text


def test_revoked_key_rejected(
    gateway: GatewayProcess,
    admin: httpx.Client,
    llmock: LLMockProcess,
    endpoint: dict[str, Any],
) -> None:
    created_key = make_key(admin)
    assert admin.delete(f"/virtual-keys/{created_key['id']}").status_code in (200, 204)
    response = chat(
        gateway, created_key["key"], {"model": endpoint["slug"], "messages": MESSAGES}
    )
    assert_error(response, 401, "authentication_error", "key_revoked")
    assert llmock.requests() == []


def test_expired_key_rejected(
    gateway: GatewayProcess,
    admin: httpx.Client,
    llmock: LLMockProcess,
    endpoint: dict[str, Any],
) -> None:
    # The admin API rejects a past expiry, so the key expires just after creation.
    expires_at = datetime.now(UTC) + timedelta(seconds=2)
    created_key = make_key(admin, expires_at=expires_at.isoformat())
    time.sleep(max(0.0, (expires_at - datetime.now(UTC)).total_seconds()) + 0.2)
    response = chat(
        gateway, created_key["key"], {"model": endpoint["slug"], "messages": MESSAGES}
    )
    assert_error(response, 401, "authentication_error", "key_expired")
    assert llmock.requests() == []


def test_unknown_endpoint_rejected(
    gateway: GatewayProcess, llmock: LLMockProcess, key: str
) -> None:
    response = chat(gateway, key, {"model": "no-such-endpoint", "messages": MESSAGES})
    assert_error(response, 404, "invalid_request_error", "model_not_found")
    assert llmock.requests() == []


def test_inactive_endpoint_rejected(
    gateway: GatewayProcess, admin: httpx.Client, llmock: LLMockProcess, key: str
) -> None:
    inactive = make_endpoint(admin, llmock, active=False)
    response = chat(gateway, key, {"model": inactive["slug"], "messages": MESSAGES})
    assert_error(response, 404, "invalid_request_error", "model_not_found")
    assert llmock.requests() == []


ACL_CASES = [
    (
        "endpoint",
        lambda slug: {"allowed_endpoints": ["some-other-*"]},
        "endpoint_not_allowed",
    ),
    (
        "blocked_model",
        lambda slug: {"blocked_models": ["gpt-4o*"]},
        "model_not_allowed",
    ),
    (
        "allowed_model",
        lambda slug: {"allowed_models": ["claude-*"]},
        "model_not_allowed",
    ),
    (
        "blocked_provider",
        lambda slug: {"blocked_providers": ["openai"]},
        "provider_not_allowed",
    ),
    (
        "allowed_provider",
        lambda slug: {"allowed_providers": ["anthropic"]},
        "provider_not_allowed",
    ),
]


@pytest.mark.parametrize(
    ("case", "rules", "code"), ACL_CASES, ids=[c[0] for c in ACL_CASES]
)
def test_access_rules_deny(
    gateway: GatewayProcess,
    admin: httpx.Client,
    llmock: LLMockProcess,
    endpoint: dict[str, Any],
    case: str,
    rules: Callable[[str], dict[str, Any]],
    code: str,
) -> None:
    denied = make_key(admin, **rules(endpoint["slug"]))
    response = chat(
        gateway, denied["key"], {"model": endpoint["slug"], "messages": MESSAGES}
    )
    assert_error(response, 403, "permission_error", code)
    assert llmock.requests() == []


def test_key_rate_limit_rejects_second_request(
    gateway: GatewayProcess,
    admin: httpx.Client,
    llmock: LLMockProcess,
    endpoint: dict[str, Any],
) -> None:
    limited = make_key(admin, rpm_limit=1)
    body = {"model": endpoint["slug"], "messages": MESSAGES}
    assert chat(gateway, limited["key"], body).status_code == 200
    response = chat(gateway, limited["key"], body)
    assert_error(response, 429, "rate_limit_error", "rate_limit_exceeded")
    assert int(response.headers["retry-after"]) >= 1
    assert len(llmock.requests()) == 1


def test_budget_exceeded_rejected(
    gateway: GatewayProcess,
    admin: httpx.Client,
    llmock: LLMockProcess,
    endpoint: dict[str, Any],
) -> None:
    poor = make_key(admin, max_budget_usd=0.000001, budget_period="monthly")
    body = {"model": endpoint["slug"], "messages": MESSAGES, "max_tokens": 1000}
    response = chat(gateway, poor["key"], body)
    assert_error(response, 429, "insufficient_quota", "budget_exceeded")
    assert llmock.requests() == []


PROVIDER_FAULTS = [
    (500, 502, "upstream_error", "upstream_error"),
    (503, 502, "upstream_error", "upstream_error"),
    (401, 502, "upstream_error", "upstream_auth_failed"),
    (403, 502, "upstream_error", "upstream_auth_failed"),
    (429, 429, "rate_limit_error", "rate_limit_exceeded"),
]


@pytest.mark.parametrize(("fault", "status", "error_type", "code"), PROVIDER_FAULTS)
def test_provider_fault_mapped(
    gateway: GatewayProcess,
    llmock: LLMockProcess,
    endpoint: dict[str, Any],
    key: str,
    fault: int,
    status: int,
    error_type: str,
    code: str,
) -> None:
    llmock.queue({"type": "fail", "status": fault, "times": 1})
    response = chat(gateway, key, {"model": endpoint["slug"], "messages": MESSAGES})
    assert_error(response, status, error_type, code)
    assert PROVIDER_SECRET not in response.text
    assert len(llmock.requests()) == 1


def test_provider_timeout_mapped(
    start_gateway: Callable[..., GatewayProcess], llmock: LLMockProcess
) -> None:
    service = start_gateway(GATEWAY_UPSTREAM_TIMEOUT_SECONDS="1")
    with service.admin() as admin:
        slow = make_endpoint(admin, llmock)
        plain_key = make_key(admin)["key"]
    llmock.queue({"type": "delay", "seconds": 5, "times": 1})
    response = chat(service, plain_key, {"model": slow["slug"], "messages": MESSAGES})
    assert_error(response, 504, "upstream_error", "upstream_timeout")


def test_fallback_serves_when_primary_fails(
    gateway: GatewayProcess, admin: httpx.Client, llmock: LLMockProcess, key: str
) -> None:
    backup = make_endpoint(admin, llmock, model="openai/gpt-4o")
    primary = make_endpoint(admin, llmock, fallback_endpoint_ids=[backup["id"]])
    llmock.queue({"type": "fail", "status": 500, "times": 1})
    response = chat(gateway, key, {"model": primary["slug"], "messages": MESSAGES})
    assert response.status_code == 200, response.text
    models = [record["model"] for record in llmock.requests()]
    assert models == ["gpt-4o-mini", "gpt-4o"]
    row = log_row(admin, response.headers["x-request-id"])
    assert row["endpoint"] == primary["slug"]
    assert row["model"] == "gpt-4o"


def test_fallback_over_its_rpm_not_tried(
    gateway: GatewayProcess, admin: httpx.Client, llmock: LLMockProcess, key: str
) -> None:
    backup = make_endpoint(admin, llmock, model="openai/gpt-4o", rpm_limit=1)
    primary = make_endpoint(admin, llmock, fallback_endpoint_ids=[backup["id"]])
    llmock.queue({"type": "fail", "status": 500, "times": 1})
    first = chat(gateway, key, {"model": primary["slug"], "messages": MESSAGES})
    assert first.status_code == 200, first.text
    llmock.queue({"type": "fail", "status": 500, "times": 1})
    second = chat(gateway, key, {"model": primary["slug"], "messages": MESSAGES})
    assert_error(second, 429, "rate_limit_error", "rate_limit_exceeded")
    assert "Retry-After" in second.headers
    models = [record["model"] for record in llmock.requests()]
    assert models == ["gpt-4o-mini", "gpt-4o", "gpt-4o-mini"]


def test_fallback_not_tried_for_client_error(
    gateway: GatewayProcess, admin: httpx.Client, llmock: LLMockProcess, key: str
) -> None:
    backup = make_endpoint(admin, llmock, model="openai/gpt-4o")
    primary = make_endpoint(admin, llmock, fallback_endpoint_ids=[backup["id"]])
    llmock.queue({"type": "fail", "status": 401, "times": 1})
    response = chat(gateway, key, {"model": primary["slug"], "messages": MESSAGES})
    assert_error(response, 502, "upstream_error", "upstream_auth_failed")
    assert len(llmock.requests()) == 1


def test_fallback_denied_by_rules_never_tried(
    gateway: GatewayProcess, admin: httpx.Client, llmock: LLMockProcess
) -> None:
    backup = make_endpoint(admin, llmock, model="openai/gpt-4o")
    primary = make_endpoint(admin, llmock, fallback_endpoint_ids=[backup["id"]])
    strict = make_key(admin, blocked_models=["gpt-4o"])
    llmock.queue({"type": "fail", "status": 500, "times": 1})
    response = chat(
        gateway, strict["key"], {"model": primary["slug"], "messages": MESSAGES}
    )
    assert_error(response, 502, "upstream_error", "upstream_error")
    assert [record["model"] for record in llmock.requests()] == ["gpt-4o-mini"]


def test_openai_client_plain_request(
    gateway: GatewayProcess, admin: httpx.Client, endpoint: dict[str, Any], key: str
) -> None:
    client = openai.OpenAI(base_url=f"{gateway.url}/v1", api_key=key, max_retries=0)
    completion = client.chat.completions.create(
        model=endpoint["slug"], messages=[{"role": "user", "content": "ping pong"}]
    )
    assert "ping pong" in (completion.choices[0].message.content or "")
    assert completion.usage is not None
    assert completion.usage.completion_tokens > 0


def test_openai_client_streamed_request(
    gateway: GatewayProcess, endpoint: dict[str, Any], key: str
) -> None:
    client = openai.OpenAI(base_url=f"{gateway.url}/v1", api_key=key, max_retries=0)
    stream = client.chat.completions.create(
        model=endpoint["slug"],
        messages=[{"role": "user", "content": "stream me"}],
        stream=True,
    )
    text = "".join(
        chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices
    )
    assert "stream me" in text


def test_openai_client_reads_error(
    gateway: GatewayProcess, endpoint: dict[str, Any], key: str
) -> None:
    client = openai.OpenAI(base_url=f"{gateway.url}/v1", api_key=key, max_retries=0)
    with pytest.raises(openai.NotFoundError) as caught:
        client.chat.completions.create(model="no-such-endpoint", messages=MESSAGES)
    assert caught.value.code == "model_not_found"


def test_openai_client_embeddings(
    gateway: GatewayProcess, admin: httpx.Client, llmock: LLMockProcess, key: str
) -> None:
    embedder = make_endpoint(admin, llmock, model="openai/text-embedding-3-small")
    client = openai.OpenAI(base_url=f"{gateway.url}/v1", api_key=key, max_retries=0)
    result = client.embeddings.create(model=embedder["slug"], input=["one", "two"])
    assert len(result.data) == 2


def test_models_lists_allowed_slugs(
    gateway: GatewayProcess, admin: httpx.Client, llmock: LLMockProcess
) -> None:
    mini = make_endpoint(admin, llmock)
    large = make_endpoint(admin, llmock, model="openai/gpt-4o")
    limited = make_key(
        admin,
        allowed_endpoints=[mini["slug"], large["slug"]],
        blocked_models=["gpt-4o"],
    )
    response = httpx.get(
        f"{gateway.url}/v1/models",
        headers={"Authorization": f"Bearer {limited['key']}"},
    )
    assert response.status_code == 200
    assert [model["id"] for model in response.json()["data"]] == [mini["slug"]]


def test_models_requires_key(gateway: GatewayProcess) -> None:
    response = httpx.get(f"{gateway.url}/v1/models")
    assert_error(response, 401, "authentication_error", "missing_api_key")


def test_unknown_route_has_error_shape(gateway: GatewayProcess) -> None:
    assert_error(
        httpx.get(f"{gateway.url}/v2/nothing"),
        404,
        "invalid_request_error",
        "not_found",
    )
    response = httpx.get(f"{gateway.url}/v1/chat/completions")
    assert_error(response, 405, "invalid_request_error", "method_not_allowed")


def test_health_needs_no_key(gateway: GatewayProcess) -> None:
    response = httpx.get(f"{gateway.url}/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response.headers["x-request-id"].startswith("req_")


def test_denied_request_logged(
    gateway: GatewayProcess, admin: httpx.Client, endpoint: dict[str, Any]
) -> None:
    denied = make_key(admin, blocked_providers=["openai"])
    response = chat(
        gateway, denied["key"], {"model": endpoint["slug"], "messages": MESSAGES}
    )
    row = log_row(admin, response.headers["x-request-id"])
    assert row["status"] == 403
    assert row["error_code"] == "provider_not_allowed"
    assert row["key_prefix"] == denied["key_prefix"]
    assert row["source"] == "api"


def test_served_request_logged_with_usage(
    gateway: GatewayProcess, admin: httpx.Client, endpoint: dict[str, Any], key: str
) -> None:
    response = chat(gateway, key, {"model": endpoint["slug"], "messages": MESSAGES})
    row = log_row(admin, response.headers["x-request-id"])
    usage = response.json()["usage"]
    assert row["status"] == 200
    assert row["prompt_tokens"] == usage["prompt_tokens"]
    assert row["completion_tokens"] == usage["completion_tokens"]
    assert row["cost_usd"] > 0
    assert row["provider"] == "openai"


def test_endpoint_defaults_applied(
    gateway: GatewayProcess, admin: httpx.Client, llmock: LLMockProcess, key: str
) -> None:
    configured = make_endpoint(
        admin, llmock, system_prompt="You are terse.", temperature=0.25, max_tokens=33
    )
    response = chat(gateway, key, {"model": configured["slug"], "messages": MESSAGES})
    assert response.status_code == 200, response.text
    sent = llmock.requests()[0]["body"]
    assert sent["messages"][0] == {"role": "system", "content": "You are terse."}
    assert sent["temperature"] == 0.25
    assert sent["max_tokens"] == 33


def test_playground_adds_gateway_object(
    admin: httpx.Client, endpoint: dict[str, Any]
) -> None:
    response = admin.post(
        "/playground/chat", json={"endpoint": endpoint["slug"], "messages": MESSAGES}
    )
    assert response.status_code == 200, response.text
    info = response.json()["gateway"]
    assert info["request_id"] == response.headers["x-request-id"]
    assert info["completion_tokens"] > 0
    row = log_row(admin, info["request_id"])
    assert row["source"] == "playground"


def test_playground_applies_key_rules(
    admin: httpx.Client, llmock: LLMockProcess, endpoint: dict[str, Any]
) -> None:
    denied = make_key(admin, blocked_providers=["openai"])
    body = {"endpoint": endpoint["slug"], "messages": MESSAGES, "key_id": denied["id"]}
    response = admin.post("/playground/chat", json=body)
    assert_error(response, 403, "permission_error", "provider_not_allowed")
    assert llmock.requests() == []


def test_playground_requires_admin_key(gateway: GatewayProcess) -> None:
    response = httpx.post(
        f"{gateway.url}/admin/playground/chat",
        json={"endpoint": "x", "messages": MESSAGES},
    )
    assert response.status_code == 401


def test_secrets_never_in_output(
    gateway: GatewayProcess,
    admin: httpx.Client,
    llmock: LLMockProcess,
    endpoint: dict[str, Any],
) -> None:
    created_key = make_key(admin)
    plain = created_key["key"]
    llmock.queue({"type": "fail", "status": 401, "times": 1})
    responses = [
        chat(gateway, plain, {"model": endpoint["slug"], "messages": MESSAGES}),
        chat(gateway, plain, {"model": endpoint["slug"], "messages": MESSAGES}),
        chat(gateway, plain + "x", {"model": endpoint["slug"], "messages": MESSAGES}),
    ]
    for response in responses:
        assert PROVIDER_SECRET not in response.text
        assert plain not in response.text
    log_row(admin, responses[-1].headers["x-request-id"])
    output = gateway.output()
    assert PROVIDER_SECRET not in output
    assert plain not in output
    assert "Traceback" not in output

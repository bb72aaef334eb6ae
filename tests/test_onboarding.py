"""The getting-started steps, walked in order on a fresh service."""

from __future__ import annotations

from collections.abc import Callable

from tests.support import GatewayProcess, LLMockProcess


def steps_done(service: GatewayProcess) -> dict[str, bool]:
    with service.admin() as admin:
        body = admin.get("/onboarding").json()
    return {step["id"]: step["done"] for step in body["steps"]}


def test_steps_follow_the_walk(
    start_gateway: Callable[..., GatewayProcess], llmock: LLMockProcess
) -> None:
    # A long flush interval shows that the playground step does not wait for
    # its log row to reach the database.
    service = start_gateway(GATEWAY_LOG_FLUSH_SECONDS="60")
    assert not any(steps_done(service).values())

    with service.admin() as admin:
        provider_key = admin.post(
            "/provider-keys",
            json={
                "name": "mock",
                "provider": "openai",
                "api_key": "sk-test-onboarding-0000",
                "api_base": llmock.openai_base,
            },
        ).json()
        assert steps_done(service)["provider_key"]

        admin.post(
            "/endpoints",
            json={
                "slug": "first",
                "provider_key_id": provider_key["id"],
                "model": "openai/gpt-4o-mini",
            },
        )
        assert steps_done(service)["endpoint"]
        assert not steps_done(service)["playground"]

        reply = admin.post(
            "/playground/chat",
            json={"endpoint": "first", "messages": [{"role": "user", "content": "hi"}]},
        )
        assert reply.status_code == 200, reply.text
        assert steps_done(service)["playground"]

        admin.post(
            "/guardrails",
            json={"name": "pii", "kind": "pii", "scope": "input", "action": "mask"},
        )
    assert all(steps_done(service).values())
    with service.admin() as admin:
        assert admin.get("/onboarding").json()["next"] is None

"""The admin API against the real service, with llmock as the provider."""

from __future__ import annotations

import stat
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.keys import hash_key
from tests.support import GatewayProcess, LLMockProcess

PROVIDER_SECRET = "sk-llmock-provider-secret-0123456789"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def create_provider_key(
    admin: httpx.Client, api_base: str = "http://127.0.0.1:9/v1"
) -> Any:
    response = admin.post(
        "/provider-keys",
        json={
            "name": unique("openai"),
            "provider": "openai",
            "api_key": PROVIDER_SECRET,
            "api_base": api_base,
        },
    )
    assert response.status_code == 201, response.text
    return response.json()


def create_endpoint(admin: httpx.Client, provider_key_id: str, **fields: Any) -> Any:
    body = {
        "slug": unique("ep"),
        "provider_key_id": provider_key_id,
        "model": "openai/gpt-4o",
    }
    body.update(fields)
    response = admin.post("/endpoints", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def create_key(admin: httpx.Client, **fields: Any) -> Any:
    response = admin.post("/virtual-keys", json={"name": unique("key"), **fields})
    assert response.status_code == 201, response.text
    return response.json()


def error_of(response: httpx.Response) -> dict[str, Any]:
    error: dict[str, Any] = response.json()["error"]
    return error


@pytest.fixture
def provider_key(admin: httpx.Client) -> Any:
    return create_provider_key(admin)


# Authentication


ADMIN_ROUTES = [
    ("GET", "/provider-keys"),
    ("POST", "/provider-keys"),
    ("GET", "/endpoints"),
    ("GET", "/virtual-keys"),
    ("DELETE", "/virtual-keys/vk_000000000000"),
    ("GET", "/guardrails"),
    ("POST", "/acl/explain"),
    ("GET", "/logs"),
    ("GET", "/analytics/summary"),
    ("GET", "/catalog"),
    ("GET", "/onboarding"),
    ("GET", "/providers"),
]


@pytest.mark.parametrize(("method", "path"), ADMIN_ROUTES)
def test_admin_routes_reject_missing_key(
    gateway: GatewayProcess, method: str, path: str
) -> None:
    response = httpx.request(method, f"{gateway.url}/admin{path}", json={})

    assert response.status_code == 401
    assert error_of(response)["code"] == "missing_api_key"


@pytest.mark.parametrize(("method", "path"), ADMIN_ROUTES)
def test_admin_routes_reject_wrong_key(
    gateway: GatewayProcess, method: str, path: str
) -> None:
    headers = {"Authorization": "Bearer wrong-admin-key-0000000000"}
    response = httpx.request(
        method, f"{gateway.url}/admin{path}", json={}, headers=headers
    )

    assert response.status_code == 401
    assert error_of(response)["code"] == "invalid_api_key"
    assert "wrong-admin-key" not in response.text


def test_admin_key_file_generated(tmp_path: Path) -> None:
    service = GatewayProcess(tmp_path / "data", admin_key=None).start()
    try:
        key_file = tmp_path / "data" / "admin_key"
        with service.admin() as admin:
            response = admin.get("/onboarding")
    finally:
        service.stop()

    assert response.status_code == 200
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert key_file.read_text().strip() not in service.output()


# Provider keys


def test_providers_lists_litellm_ids(admin: httpx.Client) -> None:
    providers = admin.get("/providers").json()["data"]

    assert "openai" in providers
    assert "anthropic" in providers


def test_provider_key_masked_in_responses(admin: httpx.Client) -> None:
    created = create_provider_key(admin)
    listing = admin.get("/provider-keys")

    assert created["id"].startswith("pk_")
    assert created["api_key_masked"] == "sk-...6789"
    assert created["endpoint_count"] == 0
    assert PROVIDER_SECRET not in listing.text
    assert created["id"] in {item["id"] for item in listing.json()["data"]}


def test_provider_key_unknown_provider_suggests(admin: httpx.Client) -> None:
    response = admin.post(
        "/provider-keys",
        json={"name": unique("x"), "provider": "opneai", "api_key": "sk-x"},
    )

    assert response.status_code == 400
    assert error_of(response)["param"] == "provider"
    assert "'openai'" in error_of(response)["message"]


def test_provider_key_missing_field_named(admin: httpx.Client) -> None:
    response = admin.post(
        "/provider-keys", json={"name": unique("x"), "provider": "openai"}
    )

    assert response.status_code in (400, 422)
    assert "api_key" in error_of(response)["message"]


def test_provider_key_duplicate_name_conflicts(
    admin: httpx.Client, provider_key: Any
) -> None:
    response = admin.post(
        "/provider-keys",
        json={
            "name": provider_key["name"],
            "provider": "openai",
            "api_key": "sk-other-1234567",
        },
    )

    assert response.status_code == 409
    assert error_of(response)["param"] == "name"


def test_provider_key_patch_secret_and_base(
    admin: httpx.Client, provider_key: Any
) -> None:
    response = admin.patch(
        f"/provider-keys/{provider_key['id']}",
        json={
            "api_key": "sk-rotated-provider-secret-wxyz",
            "api_base": "http://127.0.0.1:8/v1",
        },
    )

    assert response.status_code == 200, response.text
    assert response.json()["api_key_masked"] == "sk-...wxyz"
    assert response.json()["api_base"] == "http://127.0.0.1:8/v1"
    assert "rotated-provider-secret" not in response.text


def test_provider_key_invalid_api_base(admin: httpx.Client, provider_key: Any) -> None:
    response = admin.patch(
        f"/provider-keys/{provider_key['id']}", json={"api_base": "ftp://x"}
    )

    assert response.status_code == 400
    assert error_of(response)["param"] == "api_base"


def test_provider_key_delete_in_use_conflicts(
    admin: httpx.Client, provider_key: Any
) -> None:
    endpoint = create_endpoint(admin, provider_key["id"])

    response = admin.delete(f"/provider-keys/{provider_key['id']}")

    assert response.status_code == 409
    assert error_of(response)["code"] == "in_use"
    assert endpoint["slug"] in error_of(response)["message"]
    assert f"'{provider_key['name']}'" in error_of(response)["message"]


def test_provider_key_delete_unused(admin: httpx.Client, provider_key: Any) -> None:
    assert admin.delete(f"/provider-keys/{provider_key['id']}").status_code == 200

    response = admin.delete(f"/provider-keys/{provider_key['id']}")
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


# Endpoints


def test_first_endpoint_generates_key_once(
    start_gateway: Callable[..., GatewayProcess],
) -> None:
    service = start_gateway()
    with service.admin() as admin:
        key = create_provider_key(admin)
        first = create_endpoint(admin, key["id"], slug="gpt4o")
        second = create_endpoint(
            admin, key["id"], slug="gpt4o-mini", model="gpt-4o-mini"
        )
        keys = admin.get("/virtual-keys").json()["data"]

    generated = first["generated_key"]
    assert generated["name"] == "gpt4o default key"
    assert generated["key"].startswith("sk-gw-")
    assert generated["key"].startswith(generated["key_prefix"])
    assert generated["gateway_url"] == f"{service.url}/v1"
    assert generated["slug"] == "gpt4o"
    assert "generated_key" not in second
    assert [item["id"] for item in keys] == [generated["id"]]
    assert keys[0]["allowed_endpoints"] == ["gpt4o"]
    assert keys[0]["max_budget_usd"] is None
    assert keys[0]["expires_at"] is None


def test_first_endpoint_key_uses_public_url(
    start_gateway: Callable[..., GatewayProcess],
) -> None:
    service = start_gateway(GATEWAY_PUBLIC_URL="https://gateway.example.test")
    with service.admin() as admin:
        key = create_provider_key(admin)
        first = create_endpoint(admin, key["id"])

    assert first["generated_key"]["gateway_url"] == "https://gateway.example.test/v1"


def test_endpoint_shape(admin: httpx.Client, provider_key: Any) -> None:
    endpoint = create_endpoint(
        admin, provider_key["id"], model="gpt-4o", temperature=0.3, rpm_limit=10
    )

    assert endpoint["id"].startswith("ep_")
    assert endpoint["provider"] == "openai"
    assert endpoint["display_name"] == endpoint["slug"]
    assert endpoint["temperature"] == 0.3
    assert endpoint["rpm_limit"] == 10
    assert endpoint["fallback_endpoint_ids"] == []
    assert endpoint["active"] is True
    assert endpoint["created_at"].endswith("Z")


@pytest.mark.parametrize(
    "slug", ["Upper", "has space", "-dash", "dash-", "a" * 64, "ünïcode"]
)
def test_endpoint_invalid_slug(
    admin: httpx.Client, provider_key: Any, slug: str
) -> None:
    response = admin.post(
        "/endpoints",
        json={
            "slug": slug,
            "provider_key_id": provider_key["id"],
            "model": "openai/gpt-4o",
        },
    )

    assert response.status_code in (400, 422)
    assert error_of(response)["param"] == "slug"


def test_endpoint_duplicate_slug_conflicts(
    admin: httpx.Client, provider_key: Any
) -> None:
    endpoint = create_endpoint(admin, provider_key["id"])

    response = admin.post(
        "/endpoints",
        json={
            "slug": endpoint["slug"],
            "provider_key_id": provider_key["id"],
            "model": "gpt-4o",
        },
    )

    assert response.status_code == 409
    assert error_of(response)["param"] == "slug"


def test_check_slug_suggests_free_slug(admin: httpx.Client, provider_key: Any) -> None:
    endpoint = create_endpoint(admin, provider_key["id"])

    taken = admin.get("/endpoints/check-slug", params={"slug": endpoint["slug"]}).json()
    invalid = admin.get("/endpoints/check-slug", params={"slug": "My Model!"}).json()
    free = admin.get("/endpoints/check-slug", params={"slug": unique("free")}).json()

    assert taken["valid"] is True
    assert taken["available"] is False
    assert taken["suggestion"] == f"{endpoint['slug']}-2"
    assert invalid["valid"] is False
    assert invalid["suggestion"] == "my-model"
    assert free["available"] is True
    assert free["suggestion"] is None


def test_endpoint_model_prefix_must_match_key(
    admin: httpx.Client, provider_key: Any
) -> None:
    response = admin.post(
        "/endpoints",
        json={
            "slug": unique("ep"),
            "provider_key_id": provider_key["id"],
            "model": "anthropic/claude-3-5-haiku",
        },
    )

    assert response.status_code == 400
    assert error_of(response)["param"] == "model"
    assert "'anthropic'" in error_of(response)["message"]
    assert "'openai'" in error_of(response)["message"]


def test_endpoint_unknown_provider_key(admin: httpx.Client) -> None:
    response = admin.post(
        "/endpoints",
        json={"slug": unique("ep"), "provider_key_id": "pk_missing", "model": "gpt-4o"},
    )

    assert response.status_code == 400
    assert error_of(response)["param"] == "provider_key_id"


def test_endpoint_fallbacks_checked(admin: httpx.Client, provider_key: Any) -> None:
    endpoint = create_endpoint(admin, provider_key["id"])
    path = f"/endpoints/{endpoint['id']}"

    itself = admin.patch(path, json={"fallback_endpoint_ids": [endpoint["id"]]})
    unknown = admin.patch(path, json={"fallback_endpoint_ids": ["ep_missing"]})

    assert itself.status_code == 400
    assert error_of(itself)["param"] == "fallback_endpoint_ids"
    assert unknown.status_code == 400
    assert "ep_missing" in error_of(unknown)["message"]


def test_endpoint_fallback_blocks_delete(
    admin: httpx.Client, provider_key: Any
) -> None:
    backup = create_endpoint(admin, provider_key["id"])
    main = create_endpoint(
        admin, provider_key["id"], fallback_endpoint_ids=[backup["id"]]
    )

    response = admin.delete(f"/endpoints/{backup['id']}")

    assert main["fallback_endpoint_ids"] == [backup["id"]]
    assert response.status_code == 409
    assert error_of(response)["code"] == "in_use"


def test_endpoint_patch_and_delete(admin: httpx.Client, provider_key: Any) -> None:
    endpoint = create_endpoint(admin, provider_key["id"])
    path = f"/endpoints/{endpoint['id']}"

    patched = admin.patch(path, json={"active": False, "max_tokens": 100})
    deleted = admin.delete(path)

    assert patched.status_code == 200, patched.text
    assert patched.json()["active"] is False
    assert patched.json()["max_tokens"] == 100
    assert deleted.status_code == 200
    assert admin.get(path).status_code == 404


def test_endpoint_rename_updates_key_access(
    admin: httpx.Client, provider_key: Any
) -> None:
    endpoint = create_endpoint(admin, provider_key["id"])
    key = create_key(admin, allowed_endpoints=[endpoint["slug"], "other-*"])
    new_slug = unique("renamed")

    response = admin.patch(f"/endpoints/{endpoint['id']}", json={"slug": new_slug})
    updated = admin.get(f"/virtual-keys/{key['id']}").json()

    assert response.status_code == 200, response.text
    assert updated["allowed_endpoints"] == [new_slug, "other-*"]


def test_endpoint_patch_null_slug_rejected(
    admin: httpx.Client, provider_key: Any
) -> None:
    endpoint = create_endpoint(admin, provider_key["id"])

    response = admin.patch(f"/endpoints/{endpoint['id']}", json={"slug": None})

    assert response.status_code == 400
    assert error_of(response)["param"] == "slug"


def test_endpoint_unknown_field_named(admin: httpx.Client, provider_key: Any) -> None:
    response = admin.post(
        "/endpoints",
        json={
            "slug": unique("ep"),
            "provider_key_id": provider_key["id"],
            "model": "gpt-4o",
            "temprature": 0.5,
        },
    )

    assert response.status_code in (400, 422)
    assert "temprature" in error_of(response)["message"]


# Virtual keys


def test_virtual_key_shown_once(admin: httpx.Client) -> None:
    created = create_key(
        admin, max_budget_usd=10, budget_period="monthly", rpm_limit=60
    )
    listing = admin.get("/virtual-keys").text
    single = admin.get(f"/virtual-keys/{created['id']}").json()

    assert created["key"].startswith("sk-gw-")
    assert created["status"] == "active"
    assert created["spend_usd"] == 0.0
    assert created["period_start"].endswith("-01T00:00:00Z")
    assert created["key"] not in listing
    assert hash_key(created["key"]) not in listing
    assert created["key_prefix"] in listing
    assert "key" not in single
    assert single["budget_period"] == "monthly"


def test_virtual_key_rotate_invalidates_old(
    gateway: GatewayProcess, admin: httpx.Client
) -> None:
    created = create_key(admin)
    rotated = admin.post(f"/virtual-keys/{created['id']}/rotate").json()
    listing = admin.get("/virtual-keys").text
    old = httpx.get(
        f"{gateway.url}/v1/models",
        headers={"Authorization": f"Bearer {created['key']}"},
    )
    new = httpx.get(
        f"{gateway.url}/v1/models",
        headers={"Authorization": f"Bearer {rotated['key']}"},
    )

    assert rotated["id"] == created["id"]
    assert rotated["key"] != created["key"]
    assert rotated["key_prefix"] != created["key_prefix"]
    assert created["key_prefix"] not in listing
    assert rotated["key_prefix"] in listing
    assert old.status_code == 401
    assert new.status_code == 200


def test_virtual_key_delete_revokes(
    gateway: GatewayProcess, admin: httpx.Client
) -> None:
    created = create_key(admin)

    revoked = admin.delete(f"/virtual-keys/{created['id']}").json()
    rotate = admin.post(f"/virtual-keys/{created['id']}/rotate")
    models = httpx.get(
        f"{gateway.url}/v1/models",
        headers={"Authorization": f"Bearer {created['key']}"},
    )

    assert revoked["status"] == "revoked"
    assert rotate.status_code == 409
    assert models.status_code == 401
    assert error_of(models)["code"] == "key_revoked"


def test_virtual_key_unknown_provider_suggests(admin: httpx.Client) -> None:
    response = admin.post(
        "/virtual-keys", json={"name": unique("key"), "blocked_providers": ["antropic"]}
    )

    assert response.status_code == 400
    assert error_of(response)["param"] == "blocked_providers"
    assert "anthropic" in error_of(response)["message"]


def test_virtual_key_lists_normalized(admin: httpx.Client) -> None:
    created = create_key(admin, allowed_models=[" GPT-4o* ", "gpt-4o*"])

    assert created["allowed_models"] == ["gpt-4o*"]


def test_virtual_key_past_expiry_rejected(admin: httpx.Client) -> None:
    past = (datetime.now(UTC) - timedelta(days=1)).isoformat()

    response = admin.post(
        "/virtual-keys", json={"name": unique("key"), "expires_at": past}
    )

    assert response.status_code == 400
    assert error_of(response)["param"] == "expires_at"


def test_virtual_key_bad_budget_period(admin: httpx.Client) -> None:
    response = admin.post(
        "/virtual-keys", json={"name": unique("key"), "budget_period": "yearly"}
    )

    assert response.status_code in (400, 422)
    assert "budget_period" in error_of(response)["message"]


def test_virtual_key_patch(admin: httpx.Client) -> None:
    created = create_key(admin)

    response = admin.patch(
        f"/virtual-keys/{created['id']}",
        json={"tpm_limit": 1000, "blocked_models": ["o1*"]},
    )

    assert response.status_code == 200, response.text
    assert response.json()["tpm_limit"] == 1000
    assert response.json()["blocked_models"] == ["o1*"]
    assert "key" not in response.json()


def test_virtual_key_unknown_id(admin: httpx.Client) -> None:
    response = admin.patch("/virtual-keys/vk_missing", json={"rpm_limit": 5})

    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


# Guardrails


def test_guardrail_crud(admin: httpx.Client) -> None:
    created = admin.post(
        "/guardrails",
        json={
            "name": unique("words"),
            "kind": "keyword",
            "scope": "input",
            "action": "mask",
            "config": {"words": ["Project Falcon"]},
        },
    )
    path = f"/guardrails/{created.json()['id']}"
    patched = admin.patch(path, json={"active": False})
    listed = admin.get("/guardrails").json()["data"]

    assert created.status_code == 201, created.text
    assert created.json()["id"].startswith("gr_")
    assert patched.json()["active"] is False
    assert created.json()["id"] in {item["id"] for item in listed}
    assert admin.delete(path).status_code == 200
    assert admin.get(path).status_code == 404


def test_guardrail_invalid_regex_named(admin: httpx.Client) -> None:
    response = admin.post(
        "/guardrails",
        json={
            "name": unique("re"),
            "kind": "regex",
            "scope": "both",
            "action": "block",
            "config": {"pattern": "(unclosed"},
        },
    )

    assert response.status_code == 400
    assert error_of(response)["param"] == "config"


def test_guardrail_dry_run_unsaved(admin: httpx.Client) -> None:
    response = admin.post(
        "/guardrails/test",
        json={
            "text": "write to alice@example.com",
            "guardrail": {
                "kind": "pii",
                "scope": "input",
                "action": "mask",
                "config": {},
            },
        },
    )

    assert response.status_code == 200, response.text
    result = response.json()
    assert result["blocked"] is False
    assert "alice@example.com" not in result["text"]
    assert result["matches"][0]["entity"] == "email"


# Access rules and catalog


def test_acl_explain_endpoint_and_model(admin: httpx.Client, provider_key: Any) -> None:
    endpoint = create_endpoint(admin, provider_key["id"], model="openai/gpt-4o")
    key = create_key(admin, blocked_models=["gpt-4o*"])

    by_endpoint = admin.post(
        "/acl/explain", json={"key_id": key["id"], "endpoint": endpoint["slug"]}
    ).json()
    by_model = admin.post(
        "/acl/explain",
        json={"key_id": key["id"], "model": "anthropic/claude-3-5-haiku"},
    ).json()

    assert by_endpoint["allowed"] is False
    assert by_endpoint["code"] == "model_not_allowed"
    assert by_endpoint["rule"] == "blocked_models"
    assert by_endpoint["entry"] == "gpt-4o*"
    assert by_endpoint["provider"] == "openai"
    assert by_endpoint["model"] == "gpt-4o"
    assert by_model["allowed"] is True
    assert by_model["rule"] is None


def test_acl_explain_needs_one_target(admin: httpx.Client) -> None:
    key = create_key(admin)

    neither = admin.post("/acl/explain", json={"key_id": key["id"]})
    bare = admin.post("/acl/explain", json={"key_id": key["id"], "model": "gpt-4o"})
    unknown_key = admin.post(
        "/acl/explain", json={"key_id": "vk_missing", "model": "openai/x"}
    )

    assert neither.status_code == 400
    assert bare.status_code == 400
    assert error_of(bare)["param"] == "model"
    assert unknown_key.status_code == 404


def test_catalog_lists_endpoints_and_decisions(
    admin: httpx.Client, provider_key: Any
) -> None:
    endpoint = create_endpoint(admin, provider_key["id"], model="gpt-4o")
    key = create_key(admin, allowed_providers=["anthropic"])

    page = admin.get(
        "/catalog", params={"q": "gpt-4o", "provider": "openai", "key_id": key["id"]}
    )
    body = page.json()
    gpt4o = next(item for item in body["data"] if item["id"] == "openai/gpt-4o")

    assert page.status_code == 200
    assert endpoint["slug"] in gpt4o["endpoints"]
    assert gpt4o["allowed"] is False
    assert gpt4o["denied_by"] == "allowed_providers"
    assert gpt4o["input_price_per_mtok"] > 0
    assert "openai" in body["providers"]
    assert "chat" in body["modes"]
    assert body["total"] >= len(body["data"])


def test_catalog_paging_and_bad_sort(admin: httpx.Client) -> None:
    first = admin.get("/catalog", params={"limit": 5}).json()
    second = admin.get("/catalog", params={"limit": 5, "offset": 5}).json()
    bad = admin.get("/catalog", params={"sort": "price"})

    assert len(first["data"]) == 5
    assert first["data"][-1]["id"] < second["data"][0]["id"]
    assert first["total"] == second["total"]
    assert bad.status_code == 400
    assert error_of(bad)["param"] == "sort"


# Logs, analytics and onboarding


def wait_for_log(admin: httpx.Client, **params: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        body = admin.get("/logs", params=params).json()
        if body["total"]:
            row: dict[str, Any] = body["data"][0]
            return row
        time.sleep(0.2)
    raise AssertionError(f"no log row for {params} within 30 s")


def test_logs_analytics_and_export(
    gateway: GatewayProcess, admin: httpx.Client, llmock: LLMockProcess
) -> None:
    provider = create_provider_key(admin, api_base=llmock.openai_base)
    endpoint = create_endpoint(admin, provider["id"], model="openai/gpt-4o-mini")
    key = create_key(admin)
    response = httpx.post(
        f"{gateway.url}/v1/chat/completions",
        headers={"Authorization": f"Bearer {key['key']}"},
        json={
            "model": endpoint["slug"],
            "messages": [{"role": "user", "content": "hi"}],
        },
        timeout=30,
    )
    assert response.status_code == 200, response.text

    row = wait_for_log(admin, key_id=key["id"])
    single = admin.get(f"/logs/{row['request_id']}").json()
    summary = admin.get("/analytics/summary").json()
    breakdown = admin.get(
        "/analytics/breakdown", params={"by": "key", "limit": 1000}
    ).json()
    csv = admin.get("/logs/export", params={"format": "csv", "key_id": key["id"]})
    parquet = admin.get("/logs/export", params={"format": "parquet"})

    assert row["endpoint"] == endpoint["slug"]
    assert row["status"] == 200
    assert row["source"] == "api"
    assert row["ts"].endswith("Z")
    assert "request_body" not in row
    assert single["request_id"] == row["request_id"]
    assert summary["requests"] >= 1
    assert key["id"] in {item["key_id"] for item in breakdown["data"]}
    assert csv.headers["content-type"].startswith("text/csv")
    assert row["request_id"] in csv.text
    assert parquet.content.startswith(b"PAR1")
    for text in (csv.text, admin.get("/logs").text, admin.get("/provider-keys").text):
        assert key["key"] not in text
        assert PROVIDER_SECRET not in text


def test_logs_filters_validated(admin: httpx.Client) -> None:
    bad_status = admin.get("/logs", params={"status": "fine"})
    bad_limit = admin.get("/logs", params={"limit": 5000})
    missing = admin.get("/logs/req-does-not-exist")

    assert bad_status.status_code == 400
    assert error_of(bad_status)["param"] == "status"
    assert bad_limit.status_code in (400, 422)
    assert "limit" in error_of(bad_limit)["message"]
    assert missing.status_code == 404


@pytest.mark.parametrize("bucket", ["hour", "day"])
def test_analytics_timeseries_route(admin: httpx.Client, bucket: str) -> None:
    response = admin.get("/analytics/timeseries", params={"bucket": bucket})

    assert response.status_code == 200
    assert isinstance(response.json()["data"], list)


def test_onboarding_fresh_service(start_gateway: Callable[..., GatewayProcess]) -> None:
    service = start_gateway()
    with service.admin() as admin:
        fresh = admin.get("/onboarding").json()
        create_provider_key(admin)
        after_key = admin.get("/onboarding").json()

    assert [step["done"] for step in fresh["steps"]] == [False, False, False, False]
    assert fresh["next"] == "provider_key"
    assert after_key["next"] == "endpoint"


# Input bounds and messages

INT32_MAX = 2**31 - 1


@pytest.mark.parametrize("field", ["rpm_limit", "tpm_limit"])
def test_virtual_key_integer_bounded(admin: httpx.Client, field: str) -> None:
    created = admin.post(
        "/virtual-keys", json={"name": unique("key"), field: INT32_MAX + 1}
    )
    key = create_key(admin, **{field: INT32_MAX})
    patched = admin.patch(f"/virtual-keys/{key['id']}", json={field: INT32_MAX + 1})

    for response in (created, patched):
        assert response.status_code == 422, response.text
        assert error_of(response)["param"] == field
        assert str(INT32_MAX) in error_of(response)["message"]
    assert key[field] == INT32_MAX


@pytest.mark.parametrize("field", ["rpm_limit", "max_tokens"])
def test_endpoint_integer_bounded(
    admin: httpx.Client, provider_key: Any, field: str
) -> None:
    body = {
        "slug": unique("ep"),
        "provider_key_id": provider_key["id"],
        "model": "openai/gpt-4o",
        field: INT32_MAX + 1,
    }
    created = admin.post("/endpoints", json=body)
    endpoint = create_endpoint(admin, provider_key["id"], **{field: INT32_MAX})
    patched = admin.patch(f"/endpoints/{endpoint['id']}", json={field: INT32_MAX + 1})

    for response in (created, patched):
        assert response.status_code == 422, response.text
        assert error_of(response)["param"] == field
        assert str(INT32_MAX) in error_of(response)["message"]
    assert endpoint[field] == INT32_MAX


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("-1", "greater than or equal to 0"),
        ("1e12", "less than or equal to"),
        ("NaN", "finite number"),
        ("Infinity", "finite number"),
    ],
)
def test_virtual_key_budget_bounded(
    admin: httpx.Client, value: str, reason: str
) -> None:
    content = f'{{"name": "{unique("key")}", "max_budget_usd": {value}}}'

    response = admin.post(
        "/virtual-keys",
        content=content,
        headers={"Content-Type": "application/json"},
    )

    assert response.status_code == 422, response.text
    assert error_of(response)["param"] == "max_budget_usd"
    assert reason in error_of(response)["message"]


def test_endpoint_temperature_range(admin: httpx.Client, provider_key: Any) -> None:
    endpoint = create_endpoint(admin, provider_key["id"], temperature=2)

    response = admin.patch(f"/endpoints/{endpoint['id']}", json={"temperature": 2.5})

    assert endpoint["temperature"] == 2
    assert response.status_code == 422
    assert error_of(response)["param"] == "temperature"


def test_logs_offset_bounded(admin: httpx.Client) -> None:
    too_large = admin.get("/logs", params={"offset": "99999999999999999999"})
    largest = admin.get("/logs", params={"offset": str(2**63 - 1)})

    assert too_large.status_code == 422, too_large.text
    assert error_of(too_large)["param"] == "offset"
    assert str(2**63 - 1) in error_of(too_large)["message"]
    assert largest.status_code == 200, largest.text
    assert largest.json()["data"] == []


def test_endpoint_long_slug_states_rule(admin: httpx.Client, provider_key: Any) -> None:
    response = admin.post(
        "/endpoints",
        json={
            "slug": "a" * 300,
            "provider_key_id": provider_key["id"],
            "model": "openai/gpt-4o",
        },
    )

    assert response.status_code == 400
    assert error_of(response)["param"] == "slug"
    assert "300 characters long" in error_of(response)["message"]
    assert "1 to 63" in error_of(response)["message"]


@pytest.mark.parametrize("secret", ["", "   "])
def test_provider_key_empty_secret_named(admin: httpx.Client, secret: str) -> None:
    response = admin.post(
        "/provider-keys",
        json={"name": unique("openai"), "provider": "openai", "api_key": secret},
    )

    assert response.status_code == 422
    assert error_of(response)["param"] == "api_key"
    assert "api_key is empty" in error_of(response)["message"]


@pytest.mark.parametrize("path", ["/provider-keys", "/virtual-keys", "/guardrails"])
def test_array_body_needs_object(admin: httpx.Client, path: str) -> None:
    response = admin.post(path, json=[{"name": "x"}])

    assert response.status_code == 422
    assert "must be a JSON object, not a JSON array" in error_of(response)["message"]


HIDDEN_CHARACTERS = ["\x00", "\x1b", "\u202e", "\u2067"]


@pytest.mark.parametrize("character", HIDDEN_CHARACTERS)
def test_names_reject_hidden_characters(
    admin: httpx.Client, provider_key: Any, character: str
) -> None:
    name = f"bad{character}name"
    key = create_key(admin)
    requests = [
        ("name", "/provider-keys", {"provider": "openai", "api_key": "sk-x"}),
        (
            "display_name",
            "/endpoints",
            {
                "slug": unique("ep"),
                "provider_key_id": provider_key["id"],
                "model": "openai/gpt-4o",
            },
        ),
        ("name", "/virtual-keys", {}),
        ("name", "/guardrails", {"kind": "keyword", "config": {"words": ["x"]}}),
    ]
    responses = [
        (field, admin.post(path, json={field: name, **body}))
        for field, path, body in requests
    ]
    responses.append(
        ("name", admin.patch(f"/virtual-keys/{key['id']}", json={"name": name}))
    )

    for field, response in responses:
        assert response.status_code == 422, response.text
        assert error_of(response)["param"] == field
        assert f"U+{ord(character):04X}" in error_of(response)["message"]


def test_allowed_endpoints_unknown_slug_suggests(
    admin: httpx.Client, provider_key: Any
) -> None:
    endpoint = create_endpoint(admin, provider_key["id"], slug=unique("typo-target"))
    typo = endpoint["slug"][:-1]
    key = create_key(admin)

    created = admin.post(
        "/virtual-keys", json={"name": unique("key"), "allowed_endpoints": [typo]}
    )
    patched = admin.patch(
        f"/virtual-keys/{key['id']}", json={"allowed_endpoints": [typo]}
    )

    for response in (created, patched):
        assert response.status_code == 400, response.text
        assert error_of(response)["param"] == "allowed_endpoints"
        assert f"'{typo}'" in error_of(response)["message"]
        assert f"did you mean '{endpoint['slug']}'" in error_of(response)["message"]


def test_allowed_endpoints_unknown_slug_without_match(admin: httpx.Client) -> None:
    response = admin.post(
        "/virtual-keys",
        json={"name": unique("key"), "allowed_endpoints": ["zzzzzzzzzzzz"]},
    )
    wildcard = create_key(admin, allowed_endpoints=["future-*"])

    assert response.status_code == 400
    assert "create the endpoint first" in error_of(response)["message"]
    assert wildcard["allowed_endpoints"] == ["future-*"]


def test_allowed_endpoints_deleted_endpoint_kept(
    admin: httpx.Client, provider_key: Any
) -> None:
    endpoint = create_endpoint(admin, provider_key["id"])
    key = create_key(admin, allowed_endpoints=[endpoint["slug"]])
    assert admin.delete(f"/endpoints/{endpoint['id']}").status_code == 200

    listing = admin.get("/virtual-keys")
    resent = admin.patch(
        f"/virtual-keys/{key['id']}",
        json={"allowed_endpoints": [endpoint["slug"]], "rpm_limit": 5},
    )
    added = admin.patch(
        f"/virtual-keys/{key['id']}",
        json={"allowed_endpoints": [endpoint["slug"], unique("missing")]},
    )

    assert listing.status_code == 200
    assert resent.status_code == 200, resent.text
    assert resent.json()["allowed_endpoints"] == [endpoint["slug"]]
    assert added.status_code == 400
    assert error_of(added)["param"] == "allowed_endpoints"

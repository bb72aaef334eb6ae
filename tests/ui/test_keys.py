"""Virtual keys page: create, list, integration, access preview, rotate and revoke."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

import httpx
import pytest
from streamlit.testing.v1 import AppTest

from tests.support import GatewayProcess, LLMockProcess
from tests.ui.conftest import create, endpoint, page_text, provider_key, run_page


@pytest.fixture
def slug(wb_admin: httpx.Client, llmock: LLMockProcess) -> str:
    suffix = uuid.uuid4().hex[:8]
    key = provider_key(wb_admin, llmock, f"keys {suffix}")
    return str(endpoint(wb_admin, key["id"], f"keys-{suffix}")["slug"])


@pytest.fixture
def virtual_key(wb_admin: httpx.Client, slug: str) -> dict[str, Any]:
    return create(
        wb_admin,
        "/virtual-keys",
        name=f"listed {uuid.uuid4().hex[:8]}",
        allowed_endpoints=[slug],
        blocked_models=["gpt-4o-mini*"],
        max_budget_usd=5.0,
        budget_period="monthly",
    )


def key_row(admin: httpx.Client, key_id: str) -> dict[str, Any]:
    rows = admin.get("/virtual-keys").json()["data"]
    return next(row for row in rows if row["id"] == key_id)


def names_of_keys(admin: httpx.Client) -> list[str]:
    return [row["name"] for row in admin.get("/virtual-keys").json()["data"]]


def open_keys_page() -> AppTest:
    return run_page("pages/3_Virtual_keys.py", action="create")


def test_create_key_with_every_field(
    workbench: GatewayProcess, wb_admin: httpx.Client, slug: str
) -> None:
    name = f"every field {uuid.uuid4().hex[:8]}"
    expiry = datetime.date.today() + datetime.timedelta(days=30)
    app = open_keys_page()
    app.text_input(key="keys_new_name").input(name)
    app.multiselect(key="keys_new_endpoints").set_value([slug])
    app.text_input(key="keys_new_allowed_models_typed").input("gpt-4o*")
    app.multiselect(key="keys_new_blocked_models").set_value(["openai/gpt-4o-mini"])
    app.multiselect(key="keys_new_allowed_providers").set_value(["openai"])
    app.multiselect(key="keys_new_blocked_providers").set_value(["anthropic"])
    app.number_input(key="keys_new_budget").set_value(12.5)
    app.selectbox(key="keys_new_period").set_value("weekly")
    app.number_input(key="keys_new_rpm").set_value(60)
    app.number_input(key="keys_new_tpm").set_value(10000)
    app.date_input(key="keys_new_expiry").set_value(expiry)
    app.run()

    app.button(key="keys_create").click().run()

    assert not app.exception
    assert not app.error
    plain = app.code[0].value
    assert plain.startswith("sk-gw-")
    assert all(plain in code.value for code in app.code[1:])
    saved = next(
        row
        for row in wb_admin.get("/virtual-keys").json()["data"]
        if row["name"] == name
    )
    assert saved["allowed_endpoints"] == [slug]
    assert saved["allowed_models"] == ["gpt-4o*"]
    assert saved["blocked_models"] == ["openai/gpt-4o-mini"]
    assert saved["allowed_providers"] == ["openai"]
    assert saved["blocked_providers"] == ["anthropic"]
    assert saved["max_budget_usd"] == 12.5
    assert saved["budget_period"] == "weekly"
    assert saved["rpm_limit"] == 60
    assert saved["tpm_limit"] == 10000
    assert saved["expires_at"].startswith(expiry.isoformat())

    app.button(key="ui_new_key_done").click().run()
    assert plain not in page_text(app)
    assert saved["key_prefix"] in page_text(app)


def test_unknown_provider_warns_and_service_rejects(
    workbench: GatewayProcess, wb_admin: httpx.Client
) -> None:
    name = f"typo {uuid.uuid4().hex[:8]}"
    app = open_keys_page()
    app.text_input(key="keys_new_name").input(name)
    app.text_input(key="keys_new_blocked_providers_typed").input("opnai")
    app.run()

    assert "`opnai` matches no known provider. Did you mean `openai`?" in page_text(app)
    assert app.multiselect(key="keys_new_blocked_providers").value == []

    app.button(key="keys_create").click().run()
    assert not app.exception
    assert app.error
    assert "opnai" in app.error[0].value
    assert "openai" in app.error[0].value
    assert name not in names_of_keys(wb_admin)


def test_typed_entries_merge_with_picked(
    workbench: GatewayProcess, wb_admin: httpx.Client
) -> None:
    name = f"typed {uuid.uuid4().hex[:8]}"
    app = open_keys_page()
    app.text_input(key="keys_new_name").input(name)
    app.multiselect(key="keys_new_blocked_providers").set_value(["anthropic"])
    app.text_input(key="keys_new_blocked_providers_typed").input(
        " bedrock* , anthropic,,"
    )
    app.run()

    app.button(key="keys_create").click().run()

    assert not app.exception
    assert not app.error
    saved = next(
        row
        for row in wb_admin.get("/virtual-keys").json()["data"]
        if row["name"] == name
    )
    assert saved["blocked_providers"] == ["anthropic", "bedrock*"]


@pytest.mark.parametrize(
    ("field", "value", "param"),
    [
        ("budget", -5.0, "max_budget_usd"),
        ("rpm", -1, "rpm_limit"),
        ("tpm", 0, "tpm_limit"),
    ],
)
def test_out_of_range_limit_creates_nothing(
    workbench: GatewayProcess,
    wb_admin: httpx.Client,
    field: str,
    value: float,
    param: str,
) -> None:
    name = f"bad limit {uuid.uuid4().hex[:8]}"
    app = open_keys_page()
    app.text_input(key="keys_new_name").input(name)
    app.number_input(key=f"keys_new_{field}").set_value(value)
    app.run()

    app.button(key="keys_create").click().run()

    assert not app.exception
    assert app.error
    assert param in app.error[0].value
    assert name not in names_of_keys(wb_admin)


def test_key_list_shows_budget_and_rules(
    workbench: GatewayProcess, virtual_key: dict[str, Any], slug: str
) -> None:
    app = run_page("pages/3_Virtual_keys.py")

    assert not app.exception
    text = page_text(app)
    assert virtual_key["key_prefix"] in text
    assert virtual_key["key"] not in text
    assert slug in text
    assert "gpt-4o-mini\\*" in text
    assert any("of $5.00" in str(element.proto) for element in app.get("progress"))


def test_integration_shows_env_snippets(
    workbench: GatewayProcess, virtual_key: dict[str, Any], slug: str
) -> None:
    app = run_page("pages/3_Virtual_keys.py")

    app.button(key=f"keys_integration_{virtual_key['id']}").click().run()

    snippets = [code.value for code in app.code]
    assert len(snippets) == 3
    assert all("GATEWAY_API_KEY" in snippet for snippet in snippets)
    assert all(virtual_key["key_prefix"] in snippet for snippet in snippets)
    assert all(virtual_key["key"] not in snippet for snippet in snippets)

    app.button(key="keys_integration_rotate").click().run()
    assert "Rotate" in page_text(app)


def test_rotate_shows_new_key_once(
    workbench: GatewayProcess, wb_admin: httpx.Client, virtual_key: dict[str, Any]
) -> None:
    app = run_page("pages/3_Virtual_keys.py")

    app.button(key=f"keys_rotate_{virtual_key['id']}").click().run()
    app.button(key="ui_confirm_yes").click().run()

    assert not app.exception
    new_key = app.code[0].value
    assert new_key.startswith("sk-gw-")
    assert new_key != virtual_key["key"]
    assert key_row(wb_admin, virtual_key["id"])["key_prefix"] == new_key[:12]


def test_revoke_after_confirm(
    workbench: GatewayProcess, wb_admin: httpx.Client, virtual_key: dict[str, Any]
) -> None:
    app = run_page("pages/3_Virtual_keys.py")

    app.button(key=f"keys_revoke_{virtual_key['id']}").click().run()
    assert key_row(wb_admin, virtual_key["id"])["status"] == "active"
    app.button(key="ui_confirm_yes").click().run()

    assert not app.exception
    assert key_row(wb_admin, virtual_key["id"])["status"] == "revoked"
    assert app.button(key=f"keys_rotate_{virtual_key['id']}").disabled


def test_access_preview_explains_model(
    workbench: GatewayProcess, virtual_key: dict[str, Any], slug: str
) -> None:
    app = run_page("pages/3_Virtual_keys.py")
    app.button(key=f"keys_access_{virtual_key['id']}").click().run()
    assert not app.exception
    assert "Catalog models:" in page_text(app)

    app.selectbox(key=f"keys_access_{virtual_key['id']}_model").set_value(
        "openai/gpt-4o-mini"
    ).run()

    assert not app.exception
    assert app.error
    assert "blocked_models" in app.error[0].value


def test_edit_key_saves(
    workbench: GatewayProcess, wb_admin: httpx.Client, virtual_key: dict[str, Any]
) -> None:
    app = run_page("pages/3_Virtual_keys.py")
    prefix = f"keys_edit_{virtual_key['id']}"

    app.button(key=prefix).click().run()
    app.number_input(key=f"{prefix}_rpm").set_value(7)
    app.button(key=f"{prefix}_save").click().run()

    assert not app.exception
    assert not app.error
    assert key_row(wb_admin, virtual_key["id"])["rpm_limit"] == 7


def test_edit_rejects_negative_rpm(
    workbench: GatewayProcess, wb_admin: httpx.Client, virtual_key: dict[str, Any]
) -> None:
    app = run_page("pages/3_Virtual_keys.py")
    prefix = f"keys_edit_{virtual_key['id']}"

    app.button(key=prefix).click().run()
    app.number_input(key=f"{prefix}_rpm").set_value(-1)
    app.button(key=f"{prefix}_save").click().run()

    assert not app.exception
    assert app.error
    assert "rpm_limit" in app.error[0].value
    assert key_row(wb_admin, virtual_key["id"])["rpm_limit"] is None


def test_edit_keeps_typed_patterns(
    workbench: GatewayProcess, virtual_key: dict[str, Any]
) -> None:
    app = run_page("pages/3_Virtual_keys.py")
    prefix = f"keys_edit_{virtual_key['id']}"

    app.button(key=prefix).click().run()

    assert not app.exception
    typed = app.text_input(key=f"{prefix}_blocked_models_typed")
    assert typed.value == "gpt-4o-mini*"
    assert app.multiselect(key=f"{prefix}_blocked_models").value == []


def test_access_preview_qualifies_endpoint_model(
    workbench: GatewayProcess, virtual_key: dict[str, Any], slug: str
) -> None:
    app = run_page("pages/3_Virtual_keys.py")

    app.button(key=f"keys_access_{virtual_key['id']}").click().run()

    assert not app.exception
    table = app.dataframe[0].value
    row = table[table["endpoint"] == slug].iloc[0]
    assert row["model"] == "openai/gpt-4o"

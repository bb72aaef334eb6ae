"""Endpoints and provider keys pages against a live service."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import httpx
from streamlit.testing.v1 import AppTest

from tests.support import GatewayProcess, LLMockProcess
from tests.ui.conftest import endpoint, page_text, provider_key, run_page

PROVIDER_SECRET = "sk-test-provider-secret-0123456789"


def fill_endpoint_form(app: AppTest, name: str, slug: str) -> AppTest:
    app.text_input(key="ep_name").input(name).run()
    app.text_input(key="ep_slug").input(slug)
    app.selectbox(key="ep_model").set_value("openai/gpt-4o")
    return app.run()


def test_endpoints_without_provider_key(
    start_gateway: Callable[..., GatewayProcess],
    point_workbench: Callable[[GatewayProcess], None],
) -> None:
    point_workbench(start_gateway())

    app = run_page("pages/2_Endpoints.py")

    assert not app.exception
    assert "Add a provider key first" in page_text(app)


def test_first_endpoint_shows_key_once(
    start_gateway: Callable[..., GatewayProcess],
    point_workbench: Callable[[GatewayProcess], None],
    llmock: LLMockProcess,
) -> None:
    service = start_gateway()
    point_workbench(service)
    with service.admin() as admin:
        provider_key(admin, llmock, "first")
    app = fill_endpoint_form(
        run_page("pages/2_Endpoints.py", action="create"), "Support", "support"
    )

    app.button(key="ep_create").click().run()

    assert not app.exception
    assert not app.error
    key = app.code[0].value
    assert key.startswith("sk-gw-")
    snippets = [code.value for code in app.code[1:]]
    assert len(snippets) == 3
    assert all(key in snippet and "support" in snippet for snippet in snippets)
    assert "only this once" in page_text(app)
    assert "action" not in app.query_params

    app.button(key="ui_new_key_done").click().run()
    assert key not in page_text(app)
    assert "support" in page_text(app)


def test_second_endpoint_has_no_key_dialog(
    workbench: GatewayProcess, wb_admin: httpx.Client, llmock: LLMockProcess
) -> None:
    suffix = uuid.uuid4().hex[:8]
    key = provider_key(wb_admin, llmock, f"second {suffix}")
    endpoint(wb_admin, key["id"], f"before-{suffix}")
    app = run_page("pages/2_Endpoints.py", action="create")
    app.selectbox(key="ep_key").set_value(key["id"])
    app = fill_endpoint_form(app.run(), "Second", f"second-{suffix}")

    app.button(key="ep_create").click().run()

    assert not app.exception
    assert not app.error
    assert not [code for code in app.code if code.value.startswith("sk-gw-")]
    assert f"second-{suffix}" in page_text(app)


def test_slug_suggested_from_name(workbench: GatewayProcess, wb_admin, llmock) -> None:
    provider_key(wb_admin, llmock, f"suggest {uuid.uuid4().hex[:8]}")
    app = run_page("pages/2_Endpoints.py", action="create")

    app.text_input(key="ep_name").input("Support Bot").run()

    slug = app.text_input(key="ep_slug").value
    assert slug
    assert slug == slug.lower()
    assert " " not in slug


def test_invalid_slug_shows_message(
    workbench: GatewayProcess, wb_admin, llmock
) -> None:
    provider_key(wb_admin, llmock, f"invalid {uuid.uuid4().hex[:8]}")
    app = run_page("pages/2_Endpoints.py", action="create")

    app.text_input(key="ep_slug").input("Bad Slug!").run()

    assert not app.exception
    assert any(":red[" in caption.value for caption in app.caption)


def test_model_options_follow_provider(
    workbench: GatewayProcess, wb_admin, llmock
) -> None:
    provider_key(wb_admin, llmock, f"models {uuid.uuid4().hex[:8]}")

    app = run_page("pages/2_Endpoints.py", action="create")

    options = app.selectbox(key="ep_model").options
    assert "openai/gpt-4o" in options
    assert all(option.startswith("openai/") for option in options)


def test_endpoint_deactivate_and_delete(
    workbench: GatewayProcess, wb_admin: httpx.Client, llmock: LLMockProcess
) -> None:
    suffix = uuid.uuid4().hex[:8]
    key = provider_key(wb_admin, llmock, f"toggle {suffix}")
    created = endpoint(wb_admin, key["id"], f"toggle-{suffix}")
    app = run_page("pages/2_Endpoints.py")

    app.button(key=f"ep_toggle_{created['id']}").click().run()
    rows = {row["id"]: row for row in wb_admin.get("/endpoints").json()["data"]}
    assert rows[created["id"]]["active"] is False

    app.button(key=f"ep_delete_{created['id']}").click().run()
    assert "Delete endpoint" in page_text(app)
    app.button(key="ui_confirm_yes").click().run()

    assert not app.exception
    rows = {row["id"]: row for row in wb_admin.get("/endpoints").json()["data"]}
    assert created["id"] not in rows


def test_endpoint_edit_saves(workbench: GatewayProcess, wb_admin, llmock) -> None:
    suffix = uuid.uuid4().hex[:8]
    key = provider_key(wb_admin, llmock, f"edit {suffix}")
    created = endpoint(wb_admin, key["id"], f"edit-{suffix}")
    app = run_page("pages/2_Endpoints.py")

    app.button(key=f"ep_edit_{created['id']}").click().run()
    app.number_input(key=f"ep_edit_{created['id']}_rpm").set_value(42)
    app.button(key=f"ep_edit_{created['id']}_save").click().run()

    assert not app.exception
    assert not app.error
    rows = {row["id"]: row for row in wb_admin.get("/endpoints").json()["data"]}
    assert rows[created["id"]]["rpm_limit"] == 42


def test_endpoint_edit_shows_success(
    workbench: GatewayProcess, wb_admin, llmock
) -> None:
    suffix = uuid.uuid4().hex[:8]
    key = provider_key(wb_admin, llmock, f"saved {suffix}")
    created = endpoint(wb_admin, key["id"], f"saved-{suffix}")
    app = run_page("pages/2_Endpoints.py")

    app.button(key=f"ep_edit_{created['id']}").click().run()
    app.button(key=f"ep_edit_{created['id']}_save").click().run()

    assert not app.exception
    assert f"Saved endpoint saved-{suffix}." in [item.value for item in app.success]


def test_endpoint_edit_moves_provider_key(
    workbench: GatewayProcess, wb_admin, llmock
) -> None:
    suffix = uuid.uuid4().hex[:8]
    old_key = provider_key(wb_admin, llmock, f"old {suffix}")
    new_key = provider_key(wb_admin, llmock, f"new {suffix}")
    created = endpoint(wb_admin, old_key["id"], f"move-{suffix}")
    app = run_page("pages/2_Endpoints.py")

    app.button(key=f"ep_edit_{created['id']}").click().run()
    selector = app.selectbox(key=f"ep_edit_{created['id']}_key")
    assert selector.value == old_key["id"]
    selector.set_value(new_key["id"])
    app.button(key=f"ep_edit_{created['id']}_save").click().run()

    assert not app.exception
    assert not app.error
    rows = {row["id"]: row for row in wb_admin.get("/endpoints").json()["data"]}
    assert rows[created["id"]]["provider_key_id"] == new_key["id"]


def test_endpoint_edit_out_of_range_temperature(
    workbench: GatewayProcess, wb_admin, llmock
) -> None:
    suffix = uuid.uuid4().hex[:8]
    key = provider_key(wb_admin, llmock, f"range {suffix}")
    created = endpoint(wb_admin, key["id"], f"range-{suffix}")
    app = run_page("pages/2_Endpoints.py")

    app.button(key=f"ep_edit_{created['id']}").click().run()
    app.number_input(key=f"ep_edit_{created['id']}_temp").set_value(5.0)
    app.button(key=f"ep_edit_{created['id']}_save").click().run()

    assert not app.exception
    assert app.error
    assert "temperature" in app.error[0].value
    rows = {row["id"]: row for row in wb_admin.get("/endpoints").json()["data"]}
    assert rows[created["id"]]["temperature"] is None


def test_endpoint_create_out_of_range_limits(
    workbench: GatewayProcess, wb_admin, llmock
) -> None:
    suffix = uuid.uuid4().hex[:8]
    key = provider_key(wb_admin, llmock, f"create range {suffix}")
    app = run_page("pages/2_Endpoints.py", action="create")
    app.selectbox(key="ep_key").set_value(key["id"])
    app = fill_endpoint_form(app.run(), "Range", f"create-range-{suffix}")

    app.number_input(key="ep_temperature").set_value(5.0)
    app.number_input(key="ep_max_tokens").set_value(0)
    app.button(key="ep_create").click().run()

    assert not app.exception
    assert app.error
    slugs = [row["slug"] for row in wb_admin.get("/endpoints").json()["data"]]
    assert f"create-range-{suffix}" not in slugs


def test_model_default_is_common_chat_model(
    workbench: GatewayProcess, wb_admin, llmock
) -> None:
    provider_key(wb_admin, llmock, f"default {uuid.uuid4().hex[:8]}")

    app = run_page("pages/2_Endpoints.py", action="create")

    assert app.selectbox(key="ep_model").value == "openai/gpt-4o-mini"


def test_provider_key_add_lists_masked(workbench: GatewayProcess, wb_admin) -> None:
    name = f"added {uuid.uuid4().hex[:8]}"
    app = run_page("pages/1_Provider_keys.py", action="add")

    app.text_input(key="pk_name").input(name)
    app.selectbox(key="pk_provider").set_value("openai")
    app.text_input(key="pk_secret").input(PROVIDER_SECRET)
    app.button(key="pk_add_submit").click().run()

    assert not app.exception
    assert not app.error
    assert name in page_text(app)
    assert PROVIDER_SECRET not in page_text(app)
    assert "sk-...6789" in page_text(app)


def test_provider_key_in_use_delete_shows_error(
    workbench: GatewayProcess, wb_admin: httpx.Client, llmock: LLMockProcess
) -> None:
    suffix = uuid.uuid4().hex[:8]
    key = provider_key(wb_admin, llmock, f"in use {suffix}")
    endpoint(wb_admin, key["id"], f"in-use-{suffix}")
    app = run_page("pages/1_Provider_keys.py")

    app.button(key=f"pk_delete_{key['id']}").click().run()
    app.button(key="ui_confirm_yes").click().run()

    assert not app.exception
    assert app.error
    assert f"'{key['name']}'" in app.error[0].value
    assert PROVIDER_SECRET not in page_text(app)

    app.button(key="ui_confirm_cancel").click().run()
    assert not app.exception
    assert "Delete provider key" not in page_text(app)

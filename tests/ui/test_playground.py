"""Playground page: preselection from ?model=, inline creation, chat and compare."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import pytest
from streamlit.testing.v1 import AppTest

from gateway import playground_state as pg
from tests.support import ROOT, GatewayProcess, LLMockProcess
from tests.ui.conftest import (
    PAGE_TIMEOUT_SECONDS,
    create,
    page_text,
    provider_key,
)

PAGE = "pages/5_Playground.py"
# A model that no test serves with an endpoint, so the page offers inline creation.
UNSERVED_MODEL = "openai/gpt-3.5-turbo-0125"


def open_page(path: str, /, **query_params: str) -> AppTest:
    """Run the page at `path` once, with Home.py as the main script as in the app.

    Page links such as `st.page_link("pages/...")` resolve only from there.
    """
    app = AppTest.from_file(str(ROOT / "Home.py"), default_timeout=PAGE_TIMEOUT_SECONDS)
    app.switch_page(path)
    app.query_params.update(query_params)
    return app.run()


def serving_endpoint(
    admin: httpx.Client, llmock: LLMockProcess, model: str
) -> dict[str, Any]:
    suffix = uuid.uuid4().hex[:8]
    key = provider_key(admin, llmock, f"playground {suffix}")
    return create(
        admin,
        "/endpoints",
        slug=f"pg-{suffix}",
        provider_key_id=key["id"],
        model=model,
    )


def playground_rows(admin: httpx.Client, slug: str, count: int) -> list[dict[str, Any]]:
    """Poll until the service has written `count` playground rows for `slug`."""
    for _ in range(100):
        rows = admin.get(
            "/logs", params={"endpoint": slug, "source": "playground"}
        ).json()
        if rows["total"] >= count:
            return list(rows["data"])
        time.sleep(0.1)
    raise AssertionError(f"no {count} playground log rows for {slug}")


def assistant_text(app: AppTest) -> str:
    replies = [message for message in app.chat_message if message.name == "assistant"]
    assert replies, "no assistant message"
    return "\n".join(str(element.value) for element in replies[-1].markdown)


def test_playground_runs(workbench: GatewayProcess) -> None:
    app = open_page(PAGE)

    assert not app.exception
    assert not app.error


def test_preselects_endpoint_from_model(
    workbench: GatewayProcess, wb_admin: httpx.Client, llmock: LLMockProcess
) -> None:
    model = "openai/gpt-4o-mini"
    created = serving_endpoint(wb_admin, llmock, model)
    requests_before = len(llmock.requests())

    app = open_page(PAGE, model=model)

    assert not app.exception
    chosen = app.selectbox(key="pg_endpoint").value
    serving = [
        row
        for row in wb_admin.get("/endpoints").json()["data"]
        if row["slug"] == chosen
    ]
    assert serving and pg.serves_model(serving[0], model)
    assert created["slug"] in app.selectbox(key="pg_endpoint").options
    assert not [button for button in app.button if button.key == "pg_create"]
    assert len(llmock.requests()) == requests_before


def test_offers_creation_without_sending(
    workbench: GatewayProcess, wb_admin: httpx.Client, llmock: LLMockProcess
) -> None:
    provider_key(wb_admin, llmock, f"offer {uuid.uuid4().hex[:8]}")
    endpoints_before = wb_admin.get("/endpoints").json()["data"]
    logs_before = wb_admin.get("/logs", params={"source": "playground"}).json()["total"]

    app = open_page(PAGE, model=UNSERVED_MODEL, action="open")

    assert not app.exception
    assert app.selectbox(key="pg_endpoint").value is None
    assert app.text_input(key="pg_new_slug").value == "gpt-3-5-turbo-0125"
    assert app.button(key="pg_create").label == f"Create endpoint for {UNSERVED_MODEL}"
    assert f"No active endpoint serves `{UNSERVED_MODEL}`" in page_text(app)
    assert wb_admin.get("/endpoints").json()["data"] == endpoints_before
    assert llmock.requests() == []
    logs_after = wb_admin.get("/logs", params={"source": "playground"}).json()["total"]
    assert logs_after == logs_before


def test_inline_creation_selects_new_endpoint(
    workbench: GatewayProcess, wb_admin: httpx.Client, llmock: LLMockProcess
) -> None:
    model = f"openai/inline-{uuid.uuid4().hex[:8]}"
    provider_key(wb_admin, llmock, f"inline {uuid.uuid4().hex[:8]}")
    app = open_page(PAGE, model=model)
    slug = app.text_input(key="pg_new_slug").value

    app.button(key="pg_create").click().run()

    assert not app.exception
    assert not app.error
    assert app.selectbox(key="pg_endpoint").value == slug
    created = [
        row for row in wb_admin.get("/endpoints").json()["data"] if row["slug"] == slug
    ]
    assert created and created[0]["model"] == model
    assert llmock.requests() == []


def test_taken_slug_disables_creation(
    workbench: GatewayProcess, wb_admin: httpx.Client, llmock: LLMockProcess
) -> None:
    taken = serving_endpoint(wb_admin, llmock, "openai/gpt-4o")["slug"]
    app = open_page(PAGE, model=f"openai/taken-{uuid.uuid4().hex[:8]}")

    app.text_input(key="pg_new_slug").input(taken).run()

    assert not app.exception
    assert app.button(key="pg_create").disabled


def test_chat_streams_reply_and_logs(
    workbench: GatewayProcess, wb_admin: httpx.Client, llmock: LLMockProcess
) -> None:
    slug = serving_endpoint(wb_admin, llmock, "openai/gpt-4o")["slug"]
    app = open_page(PAGE)
    app.selectbox(key="pg_endpoint").set_value(slug).run()

    app.chat_input(key="pg_prompt").set_value("Say pineapple twice").run()

    assert not app.exception
    assert not app.error
    assert "pineapple" in assistant_text(app).lower()
    assert any("completion tokens" in caption.value for caption in app.caption)
    rows = playground_rows(wb_admin, slug, 1)
    assert rows[0]["source"] == "playground"
    assert rows[0]["status"] == 200
    assert len(llmock.requests()) == 1


def test_chat_as_key_applies_its_rules(
    workbench: GatewayProcess, wb_admin: httpx.Client, llmock: LLMockProcess
) -> None:
    slug = serving_endpoint(wb_admin, llmock, "openai/gpt-4o")["slug"]
    key = create(
        wb_admin, "/virtual-keys", name="pg blocked", blocked_models=["gpt-4o"]
    )
    app = open_page(PAGE)
    app.selectbox(key="pg_endpoint").set_value(slug).run()
    app.selectbox(key="pg_key").set_value(key["id"]).run()

    app.chat_input(key="pg_prompt").set_value("hello").run()

    assert not app.exception
    assert app.error
    assert "gpt-4o" in app.error[0].value
    assert llmock.requests() == []


def test_compare_answers_in_columns(
    workbench: GatewayProcess, wb_admin: httpx.Client, llmock: LLMockProcess
) -> None:
    first = serving_endpoint(wb_admin, llmock, "openai/gpt-4o")["slug"]
    second = serving_endpoint(wb_admin, llmock, "openai/gpt-4o-mini")["slug"]
    app = open_page(PAGE)
    app.radio(key="pg_mode").set_value("Compare").run()
    assert app.button(key="pg_compare_send").disabled

    app.multiselect(key="pg_compare_endpoints").set_value([first, second])
    app.text_area(key="pg_compare_prompt").input("Name a fruit: kiwi").run()
    app.button(key="pg_compare_send").click().run()

    assert not app.exception
    assert not app.error
    stats = [
        caption.value for caption in app.caption if "completion tokens" in caption.value
    ]
    assert len(stats) == 2
    assert len(llmock.requests()) == 2
    assert playground_rows(wb_admin, first, 1)
    assert playground_rows(wb_admin, second, 1)


def test_view_code_shows_snippets(
    workbench: GatewayProcess, wb_admin: httpx.Client, llmock: LLMockProcess
) -> None:
    slug = serving_endpoint(wb_admin, llmock, "openai/gpt-4o")["slug"]
    app = open_page(PAGE)
    app.selectbox(key="pg_endpoint").set_value(slug).run()

    app.button(key="pg_view_code").click().run()

    assert not app.exception
    code = "\n".join(block.value for block in app.code)
    assert f"{workbench.url}/v1" in code
    assert f'"model": "{slug}"' in code


def test_view_code_keeps_unicode(
    workbench: GatewayProcess, wb_admin: httpx.Client, llmock: LLMockProcess
) -> None:
    slug = serving_endpoint(wb_admin, llmock, "openai/gpt-4o")["slug"]
    app = open_page(PAGE)
    app.selectbox(key="pg_endpoint").set_value(slug).run()

    app.button(key="pg_view_code").click().run()

    assert not app.exception
    body = app.code[-1].value
    assert '"content": "…"' in body
    assert "\\u" not in body


def test_compare_empty_prompt_warns(
    workbench: GatewayProcess, wb_admin: httpx.Client, llmock: LLMockProcess
) -> None:
    first = serving_endpoint(wb_admin, llmock, "openai/gpt-4o")["slug"]
    second = serving_endpoint(wb_admin, llmock, "openai/gpt-4o-mini")["slug"]
    app = open_page(PAGE)
    app.radio(key="pg_mode").set_value("Compare").run()
    app.multiselect(key="pg_compare_endpoints").set_value([first]).run()

    assert app.button(key="pg_compare_send").disabled
    assert "Choose 2 or 3 endpoints to compare." in page_text(app)

    app.multiselect(key="pg_compare_endpoints").set_value([first, second]).run()
    assert not app.button(key="pg_compare_send").disabled
    assert "Choose 2 or 3 endpoints to compare." not in page_text(app)

    app.button(key="pg_compare_send").click().run()

    assert not app.exception
    assert app.warning
    assert "The prompt is empty." in app.warning[0].value
    assert llmock.requests() == []


@pytest.mark.parametrize(
    ("model", "slug"),
    [
        ("openai/gpt-4o", "gpt-4o"),
        ("anthropic/claude-3.5-sonnet@20240620", "claude-3-5-sonnet-20240620"),
        ("bedrock/us.meta/llama3", "llama3"),
        ("gpt-4o-mini", "gpt-4o-mini"),
        ("openai/___", "model"),
    ],
)
def test_suggest_slug(model: str, slug: str) -> None:
    assert pg.suggest_slug(model) == slug


def test_endpoints_for_model_matches_forms() -> None:
    endpoints = [
        {
            "slug": "full",
            "model": "openai/gpt-4o",
            "provider": "openai",
            "active": True,
        },
        {"slug": "bare", "model": "gpt-4o", "provider": "openai", "active": True},
        {
            "slug": "off",
            "model": "openai/gpt-4o",
            "provider": "openai",
            "active": False,
        },
        {"slug": "other", "model": "gpt-4o", "provider": "azure", "active": True},
        {"slug": "alias", "model": "openai/gpt-4o-2024-08-06", "provider": "openai"},
    ]

    found = pg.endpoints_for_model(endpoints, "OpenAI/gpt-4o", catalog_slugs=["alias"])

    assert [endpoint["slug"] for endpoint in found] == ["full", "bare", "alias"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "not valid JSON"),
        ("[]", "JSON object"),
        ('{"messages": [{"role": "user", "content": "hi"}]}', "`endpoint`"),
        ('{"endpoint": "a", "messages": []}', "`messages`"),
    ],
)
def test_parse_request_rejects(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        pg.parse_request_json(text)


def test_build_request_leaves_out_unset() -> None:
    messages = pg.build_messages("Be brief.", [{"role": "user", "content": "hi"}])

    body = pg.build_request(
        "a", messages, temperature=None, max_tokens=None, key_id=None
    )

    assert body == {
        "endpoint": "a",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "hi"},
        ],
        "stream": True,
    }


def test_raw_request_mode_sends_nothing(
    workbench: GatewayProcess, wb_admin: httpx.Client, llmock: LLMockProcess
) -> None:
    serving_endpoint(wb_admin, llmock, "openai/gpt-4o")
    app = open_page(PAGE)

    app.radio(key="pg_mode").set_value("Raw request").run()

    assert not app.exception
    assert not app.error
    assert app.session_state["pg_raw_reply"] is None
    assert llmock.requests() == []


def test_model_preselected_again_on_return(
    workbench: GatewayProcess, wb_admin: httpx.Client, llmock: LLMockProcess
) -> None:
    model = f"openai/return-{uuid.uuid4().hex[:8]}"
    slug = serving_endpoint(wb_admin, llmock, model)["slug"]
    app = open_page(PAGE, model=model)
    assert app.selectbox(key="pg_endpoint").value == slug

    app.switch_page("pages/4_Catalog.py").run()
    app.query_params["model"] = model
    app.switch_page("pages/5_Playground.py").run()

    assert not app.exception
    assert app.selectbox(key="pg_endpoint").value == slug

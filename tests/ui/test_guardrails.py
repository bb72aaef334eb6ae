"""Guardrails page: create, toggle, delete with a confirmation, and the test box."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest
from streamlit.testing.v1 import AppTest

from tests.support import ROOT, GatewayProcess
from tests.ui.conftest import PAGE_TIMEOUT_SECONDS, create, page_text

PAGE = "pages/6_Guardrails.py"


def open_page(path: str, /, **query_params: str) -> AppTest:
    """Run the page at `path` once, with Home.py as the main script as in the app.

    Page links such as `st.page_link("pages/...")` resolve only from there.
    """
    app = AppTest.from_file(str(ROOT / "Home.py"), default_timeout=PAGE_TIMEOUT_SECONDS)
    app.switch_page(path)
    app.query_params.update(query_params)
    return app.run()


@pytest.fixture
def word() -> str:
    """A word that no other test sends, so a guardrail on it touches no other test."""
    return f"zebra{uuid.uuid4().hex[:8]}"


@pytest.fixture
def cleanup(wb_admin: httpx.Client) -> Iterator[list[str]]:
    """Collect the names of guardrails that a test creates, and delete them after it."""
    names: list[str] = []
    yield names
    for guardrail in wb_admin.get("/guardrails").json()["data"]:
        if guardrail["name"] in names:
            wb_admin.delete(f"/guardrails/{guardrail['id']}")


def by_name(admin: httpx.Client, name: str) -> dict | None:
    rows = admin.get("/guardrails").json()["data"]
    return next((row for row in rows if row["name"] == name), None)


def masked_text(app: AppTest) -> str:
    return app.code[-1].value


def test_guardrails_runs(workbench: GatewayProcess) -> None:
    app = open_page(PAGE, action="create")

    assert not app.exception
    assert not app.error
    assert "Ready for a new guardrail" in page_text(app)


def test_create_keyword_and_test_masks(
    workbench: GatewayProcess, wb_admin: httpx.Client, word: str, cleanup: list[str]
) -> None:
    name = f"mask {word}"
    cleanup.append(name)
    app = open_page(PAGE)
    app.selectbox(key="gr_kind").select("keyword").run()
    app.text_input(key="gr_name").input(name)
    app.text_area(key="gr_words").input(word)
    app.radio(key="gr_scope").set_value("both")
    app.radio(key="gr_action").set_value("mask")

    app.button(key="gr_create").click().run()

    assert not app.exception
    assert not app.error
    saved = by_name(wb_admin, name)
    assert saved is not None
    assert saved["kind"] == "keyword"
    assert saved["config"]["words"] == [word]
    assert saved["action"] == "mask"
    assert saved["scope"] == "both"
    assert name in page_text(app)
    assert [item.value for item in app.success] == [f"Created guardrail {name}."]
    assert app.text_input(key="gr_name").value == ""
    assert app.selectbox(key="gr_kind").value == "pii"
    assert app.radio(key="gr_scope").value == "input"
    assert app.radio(key="gr_action").value == "block"

    app.text_area(key="gr_test_text").input(f"I saw a {word} today")
    app.button(key="gr_test_active").click().run()

    assert not app.exception
    assert f"Masked by {name}" in page_text(app)
    assert word not in masked_text(app)
    assert masked_text(app).startswith("I saw a ")
    highlighted = app.get("html")[0].value
    assert f'<mark style="background: #fde2b8">{word}</mark>' in highlighted


def test_draft_pii_test_saves_nothing(
    workbench: GatewayProcess, wb_admin: httpx.Client
) -> None:
    before = wb_admin.get("/guardrails").json()["data"]
    app = open_page(PAGE)
    app.multiselect(key="gr_entities").set_value(["email"])
    app.radio(key="gr_action").set_value("block")
    app.text_area(key="gr_test_text").input("write to jane@example.com please")

    app.button(key="gr_test_draft").click().run()

    assert not app.exception
    assert "Blocked by draft (the new guardrail)" in page_text(app)
    table = app.dataframe[0].value
    assert list(table["Entity"]) == ["email"]
    assert list(table["Text"]) == ["jane@example.com"]
    assert wb_admin.get("/guardrails").json()["data"] == before


def test_draft_regex_masks(workbench: GatewayProcess) -> None:
    app = open_page(PAGE)
    app.selectbox(key="gr_kind").select("regex").run()
    app.text_input(key="gr_pattern").input(r"ORD-\d{6}")
    app.radio(key="gr_action").set_value("mask")
    app.text_area(key="gr_test_text").input("<b>order</b> ORD-123456 shipped")

    app.button(key="gr_test_draft").click().run()

    assert not app.exception
    assert "ORD-123456" not in masked_text(app)
    assert masked_text(app).startswith("<b>order</b> ")
    highlighted = app.get("html")[0].value
    assert "&lt;b&gt;order&lt;/b&gt;" in highlighted
    assert "<b>" not in highlighted
    assert ">ORD-123456</mark>" in highlighted


def test_toggle_disables_guardrail(
    workbench: GatewayProcess, wb_admin: httpx.Client, word: str, cleanup: list[str]
) -> None:
    name = f"toggle {word}"
    cleanup.append(name)
    saved = create(
        wb_admin,
        "/guardrails",
        name=name,
        kind="keyword",
        scope="input",
        action="block",
        config={"words": [word]},
    )
    app = open_page(PAGE)

    app.toggle(key=f"gr_active_{saved['id']}").set_value(False).run()

    assert not app.exception
    assert by_name(wb_admin, name)["active"] is False
    app.text_area(key="gr_test_text").input(f"a {word}")
    app.button(key="gr_test_active").click().run()
    assert "Nothing matched the active guardrails" in page_text(app)


def test_delete_asks_first(
    workbench: GatewayProcess, wb_admin: httpx.Client, word: str, cleanup: list[str]
) -> None:
    name = f"delete {word}"
    cleanup.append(name)
    saved = create(
        wb_admin,
        "/guardrails",
        name=name,
        kind="keyword",
        scope="input",
        action="block",
        config={"words": [word]},
    )
    app = open_page(PAGE)

    app.button(key=f"gr_delete_{saved['id']}").click().run()

    assert not app.exception
    assert by_name(wb_admin, name) is not None
    app.button(key="ui_confirm_yes").click().run()
    assert not app.exception
    assert by_name(wb_admin, name) is None


def test_invalid_regex_shows_service_message(workbench: GatewayProcess) -> None:
    app = open_page(PAGE)
    app.selectbox(key="gr_kind").select("regex").run()
    app.text_input(key="gr_name").input("broken")
    app.text_input(key="gr_pattern").input("(unclosed")

    app.button(key="gr_create").click().run()

    assert not app.exception
    assert app.error
    assert "pattern" in app.error[0].value.lower()

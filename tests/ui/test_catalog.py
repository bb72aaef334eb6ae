"""Catalog page: search, filters, paging, endpoint badges and a key's access marks."""

from __future__ import annotations

import uuid

import httpx
from streamlit.testing.v1 import AppTest

from tests.support import ROOT, GatewayProcess, LLMockProcess
from tests.ui.conftest import (
    PAGE_TIMEOUT_SECONDS,
    create,
    endpoint,
    provider_key,
)


def open_page(path: str, /, **query_params: str) -> AppTest:
    """Run the page at `path` once, with Home.py as the main script as in the app.

    Page links such as `st.page_link("pages/...")` resolve only from there.
    """
    app = AppTest.from_file(str(ROOT / "Home.py"), default_timeout=PAGE_TIMEOUT_SECONDS)
    app.switch_page(path)
    app.query_params.update(query_params)
    return app.run()


def models(app: AppTest) -> list[str]:
    return list(app.dataframe(key="cat_table").value["Model"])


def match_count(app: AppTest) -> int:
    caption = next(c.value for c in app.caption if c.value.endswith("models match."))
    return int(caption.split()[0].replace(",", ""))


def test_catalog_runs(workbench: GatewayProcess) -> None:
    app = open_page("pages/4_Catalog.py")

    assert not app.exception
    assert not app.error
    assert len(models(app)) == 50
    assert match_count(app) > 1000


def test_search_narrows_list(workbench: GatewayProcess) -> None:
    app = open_page("pages/4_Catalog.py")
    everything = match_count(app)

    app.text_input(key="cat_q").input("gpt-4o").run()

    assert not app.exception
    assert 0 < match_count(app) < everything
    assert all("gpt-4o" in model for model in models(app))


def test_filters_narrow_list(workbench: GatewayProcess) -> None:
    app = open_page("pages/4_Catalog.py")
    everything = match_count(app)

    app.selectbox(key="cat_provider").select("anthropic").run()
    anthropic = match_count(app)
    app.checkbox(key="cat_vision").check().run()
    with_vision = match_count(app)
    app.number_input(key="cat_min_context").set_value(150000).run()

    assert not app.exception
    assert 0 < anthropic < everything
    assert 0 < with_vision <= anthropic
    table = app.dataframe(key="cat_table").value
    assert set(table["Provider"]) == {"anthropic"}
    assert table["Vision"].all()
    assert (table["Context"] >= 150000).all()


def test_sort_by_input_price(workbench: GatewayProcess) -> None:
    app = open_page("pages/4_Catalog.py")

    app.selectbox(key="cat_sort").select("Input price, highest first").run()

    prices = list(app.dataframe(key="cat_table").value["Input $/1M"].dropna())
    assert prices == sorted(prices, reverse=True)


def test_next_page_shows_other_models(workbench: GatewayProcess) -> None:
    app = open_page("pages/4_Catalog.py")
    first = models(app)

    app.get("pagination")[0].select(2).run()

    assert not app.exception
    second = models(app)
    assert len(second) == 50
    assert not set(first) & set(second)


def test_served_model_shows_endpoint(
    workbench: GatewayProcess, wb_admin: httpx.Client, llmock: LLMockProcess
) -> None:
    suffix = uuid.uuid4().hex[:8]
    key = provider_key(wb_admin, llmock, f"catalog {suffix}")
    slug = endpoint(wb_admin, key["id"], f"catalog-{suffix}")["slug"]
    app = open_page("pages/4_Catalog.py")

    app.text_input(key="cat_q").input("openai/gpt-4o").run()

    table = app.dataframe(key="cat_table").value.set_index("Model")
    assert slug in list(table.loc["openai/gpt-4o", "Served by"])
    assert table.loc["openai/gpt-4o", "Try"] == "Playground?model=openai%2Fgpt-4o"


def test_key_marks_denied_models(
    workbench: GatewayProcess, wb_admin: httpx.Client
) -> None:
    name = f"catalog acl {uuid.uuid4().hex[:8]}"
    key = create(wb_admin, "/virtual-keys", name=name, blocked_models=["gpt-4o*"])
    app = open_page("pages/4_Catalog.py")

    app.selectbox(key="cat_key").set_value(key["id"]).run()
    app.selectbox(key="cat_provider").select("openai").run()
    app.text_input(key="cat_q").input("openai/gpt-4").run()

    assert not app.exception
    table = app.dataframe(key="cat_table").value.set_index("Model")
    assert table["Key may use"].dtype == bool
    assert not table.loc["openai/gpt-4o", "Key may use"]
    assert table.loc["openai/gpt-4o", "Denied by"] == "blocked_models"
    allowed = [model for model in table.index if "gpt-4o" not in model]
    assert allowed
    assert all(table.loc[model, "Key may use"] for model in allowed)


def test_search_kept_in_url(workbench: GatewayProcess) -> None:
    app = open_page("pages/4_Catalog.py", model="openai/gpt-4o-mini")

    assert not app.exception
    assert app.text_input(key="cat_q").value == "openai/gpt-4o-mini"
    assert all("openai/gpt-4o-mini" in model for model in models(app))
    assert app.query_params["q"] == "openai/gpt-4o-mini"

    app.text_input(key="cat_q").input("claude").run()

    assert app.query_params["q"] == "claude"

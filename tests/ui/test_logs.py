"""Logs page: filters in the URL, paging, row details, charts and exports."""

from __future__ import annotations

import io
import time
import uuid
from typing import Any

import httpx
import pyarrow.parquet as pq
import pytest
from streamlit.testing.v1 import AppTest

from tests.support import ROOT, GatewayProcess, LLMockProcess
from tests.ui.conftest import (
    PAGE_TIMEOUT_SECONDS,
    create,
    endpoint,
    page_text,
    provider_key,
)

PAGE = "pages/7_Logs.py"


def open_page(path: str, /, **query_params: str) -> AppTest:
    """Run the page at `path` once, with Home.py as the main script as in the app.

    Page links such as `st.page_link("pages/...")` resolve only from there.
    """
    app = AppTest.from_file(str(ROOT / "Home.py"), default_timeout=PAGE_TIMEOUT_SECONDS)
    app.switch_page(path)
    app.query_params.update(query_params)
    return app.run()


@pytest.fixture
def traffic(
    workbench: GatewayProcess, wb_admin: httpx.Client, llmock: LLMockProcess
) -> dict[str, Any]:
    """Log two playground, one API and one denied request on a new endpoint."""
    suffix = uuid.uuid4().hex[:8]
    key = provider_key(wb_admin, llmock, f"logs {suffix}")
    slug = endpoint(wb_admin, key["id"], f"logs-{suffix}")["slug"]
    virtual_key = create(wb_admin, "/virtual-keys", name=f"logs {suffix}")

    chat = {"endpoint": slug, "messages": [{"role": "user", "content": "hi"}]}
    for _ in range(2):
        assert wb_admin.post("/playground/chat", json=chat).status_code == 200

    api = httpx.post(
        f"{workbench.url}/v1/chat/completions",
        headers={"Authorization": f"Bearer {virtual_key['key']}"},
        json={"model": slug, "messages": [{"role": "user", "content": "hello"}]},
        timeout=30,
    )
    assert api.status_code == 200, api.text

    blocked_key = create(
        wb_admin,
        "/virtual-keys",
        name=f"logs blocked {suffix}",
        blocked_models=["gpt-4o"],
    )
    denied = httpx.post(
        f"{workbench.url}/v1/chat/completions",
        headers={"Authorization": f"Bearer {blocked_key['key']}"},
        json={"model": slug, "messages": [{"role": "user", "content": "hello"}]},
        timeout=30,
    )
    assert denied.status_code == 403, denied.text

    wait_for_rows(wb_admin, slug, 4)
    return {"slug": slug, "key_id": virtual_key["id"]}


def wait_for_rows(admin: httpx.Client, slug: str, count: int) -> None:
    """Poll until `count` rows for `slug` are written; the service writes in batches."""
    for _ in range(100):
        if admin.get("/logs", params={"endpoint": slug}).json()["total"] >= count:
            return
        time.sleep(0.1)
    raise AssertionError(f"the service did not write {count} log rows for {slug}")


def test_logs_runs(workbench: GatewayProcess) -> None:
    app = open_page(PAGE, action="view")

    assert not app.exception
    assert not app.error
    assert "Ready: filter the requests" in page_text(app)
    assert [metric.label for metric in app.metric][:3] == [
        "Requests",
        "Error rate",
        "Spend",
    ]


def test_filters_narrow_table(traffic: dict[str, Any]) -> None:
    app = open_page(PAGE)

    app.selectbox(key="logs_endpoint").set_value(traffic["slug"]).run()

    assert not app.exception
    table = app.dataframe(key="logs_table").value
    assert len(table) >= 3
    assert set(table["Endpoint"]) == {traffic["slug"]}

    app.selectbox(key="logs_source").set_value("playground").run()

    table = app.dataframe(key="logs_table").value
    assert len(table) == 2
    assert set(table["Source"]) == {"playground"}
    assert app.query_params["endpoint"] == traffic["slug"]
    assert app.query_params["source"] == "playground"


def test_filters_read_from_url(traffic: dict[str, Any]) -> None:
    app = open_page(PAGE, endpoint=traffic["slug"], key=traffic["key_id"], status="ok")

    assert not app.exception
    assert app.selectbox(key="logs_key").value == traffic["key_id"]
    table = app.dataframe(key="logs_table").value
    assert len(table) == 1
    assert list(table["Source"]) == ["api"]
    assert list(table["Status"]) == [200]


def test_error_filter_and_detail(
    traffic: dict[str, Any], wb_admin: httpx.Client
) -> None:
    rows = wb_admin.get(
        "/logs", params={"endpoint": traffic["slug"], "status": "error"}
    )
    failed = rows.json()["data"][0]

    app = open_page(
        PAGE, endpoint=traffic["slug"], status="error", request=failed["request_id"]
    )

    assert not app.exception
    table = app.dataframe(key="logs_table").value
    assert list(table["Status"]) == [403]
    text = page_text(app)
    assert f"Request `{failed['request_id']}`" in text
    assert f"Error code `{failed['error_code']}`" in text
    assert next(m for m in app.metric if m.label == "Status").value == "403"


def test_unknown_url_values_fall_back(workbench: GatewayProcess) -> None:
    app = open_page(PAGE, range="forever", status="teapot", key="vk_missing", page="x")

    assert not app.exception
    assert app.selectbox(key="logs_range").value == "24h"
    assert app.selectbox(key="logs_status").value == "Any"
    assert app.selectbox(key="logs_key").value is None


def test_export_csv_and_parquet(traffic: dict[str, Any]) -> None:
    app = open_page(PAGE, endpoint=traffic["slug"])

    app.button(key="logs_prepare").click().run()

    assert not app.exception
    export = app.session_state["logs_export"]
    assert export["format"] == "csv"
    lines = export["data"].decode().strip().splitlines()
    assert "request_id" in lines[0]
    assert len(lines) == 1 + 4
    assert all(traffic["slug"] in line for line in lines[1:])
    assert app.download_button(key="logs_download").label.startswith("Download CSV")

    app.radio(key="logs_format").set_value("parquet").run()
    app.button(key="logs_prepare").click().run()

    export = app.session_state["logs_export"]
    table = pq.read_table(io.BytesIO(export["data"]))
    assert table.num_rows == 4
    assert set(table.column("endpoint").to_pylist()) == {traffic["slug"]}


@pytest.mark.parametrize("time_range", ["1h", "24h", "7d", "30d", "all"])
def test_time_ranges_run(time_range: str, traffic: dict[str, Any]) -> None:
    app = open_page(PAGE, range=time_range, endpoint=traffic["slug"])

    assert not app.exception
    assert not app.error
    assert len(app.dataframe(key="logs_table").value) == 4
    assert len(app.get("vega_lite_chart")) == 2

"""One gateway service and llmock for the workbench tests, and helpers to run pages."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.support import ROOT, GatewayProcess, LLMockProcess

PAGE_TIMEOUT_SECONDS = 30


@pytest.fixture(scope="session")
def workbench_gateway(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[GatewayProcess]:
    """Start the service that the workbench tests share, with a fast log flush."""
    data_dir = tmp_path_factory.mktemp("workbench") / "data"
    service = GatewayProcess(data_dir, env={"GATEWAY_LOG_FLUSH_SECONDS": "0.1"}).start()
    yield service
    service.stop()


@pytest.fixture
def point_workbench(
    monkeypatch: pytest.MonkeyPatch,
) -> Callable[[GatewayProcess], None]:
    """Point the pages at a service and drop what earlier tests cached."""

    def point(service: GatewayProcess) -> None:
        monkeypatch.setenv("GATEWAY_URL", service.url)
        monkeypatch.setenv("GATEWAY_ADMIN_KEY", service.admin_key or "")
        st.cache_data.clear()
        st.cache_resource.clear()

    return point


@pytest.fixture
def workbench(
    workbench_gateway: GatewayProcess, point_workbench: Callable[[GatewayProcess], None]
) -> GatewayProcess:
    point_workbench(workbench_gateway)
    return workbench_gateway


@pytest.fixture
def wb_admin(workbench: GatewayProcess) -> Iterator[httpx.Client]:
    with workbench.admin() as client:
        yield client


def run_page(page: str, **query_params: str) -> AppTest:
    """Run a page (such as `Home.py` or `pages/2_Endpoints.py`) once.

    The app starts at `Home.py` and switches to the page, as in the browser,
    so that links between pages resolve.
    """
    app = AppTest.from_file(str(ROOT / "Home.py"), default_timeout=PAGE_TIMEOUT_SECONDS)
    for name, value in query_params.items():
        app.query_params[name] = value
    if page != "Home.py":
        app.switch_page(page)
    return app.run()


def page_text(app: AppTest) -> str:
    """Return every text, code, caption and message a page shows, for searching."""
    parts: list[str] = []
    for kind in ("markdown", "caption", "code", "error", "warning", "info", "success"):
        parts.extend(str(element.value) for element in getattr(app, kind))
    parts.extend(str(element.value) for element in app.get("subheader"))
    parts.extend(str(element.value) for element in app.title)
    return "\n".join(parts)


def create(admin: httpx.Client, path: str, **body: Any) -> dict[str, Any]:
    response = admin.post(path, json=body)
    assert response.status_code in (200, 201), response.text
    result: dict[str, Any] = response.json()
    return result


def provider_key(
    admin: httpx.Client, llmock: LLMockProcess, name: str
) -> dict[str, Any]:
    return create(
        admin,
        "/provider-keys",
        name=name,
        provider="openai",
        api_key="sk-test-provider-secret-0123456789",
        api_base=llmock.openai_base,
    )


def endpoint(admin: httpx.Client, key_id: str, slug: str) -> dict[str, Any]:
    return create(
        admin, "/endpoints", slug=slug, provider_key_id=key_id, model="openai/gpt-4o"
    )


def screenshot_dir() -> Path:
    """Return where the browser walk saves screenshots.

    Runs write to the git-ignored test-artifacts/ folder; set SCREENSHOT_DIR
    to docs/screenshots to refresh the README's pictures.
    """
    path = Path(
        os.environ.get("SCREENSHOT_DIR", ROOT / "test-artifacts" / "screenshots")
    )
    if not path.is_absolute():
        path = ROOT / path
    path.mkdir(parents=True, exist_ok=True)
    return path

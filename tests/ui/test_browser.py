"""The getting-started walk in Debian's chromium, from an empty workbench to the logs.

It also saves a screenshot of each page (see `screenshot_dir`) for the README.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from gateway.snippets import SAMPLE_PROMPT
from tests.support import ROOT, GatewayProcess, LLMockProcess, free_port, wait_for_http
from tests.ui.conftest import screenshot_dir

pytestmark = pytest.mark.browser
playwright_api = pytest.importorskip("playwright.sync_api")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-extensions",
    "--no-first-run",
]
WAIT_MS = 30_000
MODEL = "openai/gpt-4o"


@pytest.fixture
def fresh_gateway(start_gateway: Callable[..., GatewayProcess]) -> GatewayProcess:
    return start_gateway(GATEWAY_LOG_FLUSH_SECONDS="0.1")


@pytest.fixture
def workbench_url(fresh_gateway: GatewayProcess, tmp_path: Path) -> Iterator[str]:
    """Start `streamlit run Home.py` against the fresh service."""
    port = free_port()
    log = tmp_path / "streamlit.log"
    env = {
        **os.environ,
        "GATEWAY_URL": fresh_gateway.url,
        "GATEWAY_ADMIN_KEY": fresh_gateway.admin_key or "",
    }
    command = [sys.executable, "-m", "streamlit", "run", "Home.py"]
    options = ["--server.port", str(port), "--server.headless", "true"]
    options += ["--browser.gatherUsageStats", "false"]
    process = subprocess.Popen(
        command + options,
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(f"{url}/_stcore/health", process, log)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture
def page(workbench_url: str) -> Iterator[playwright_api.Page]:
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        context.grant_permissions(
            ["clipboard-read", "clipboard-write"], origin=workbench_url
        )
        page = context.new_page()
        page.set_default_timeout(WAIT_MS)
        yield page
        browser.close()


class ClickCounter:
    """Clicks a locator and counts it, for the steps whose click count is the target."""

    def __init__(self) -> None:
        self.count = 0

    def click(self, locator: playwright_api.Locator) -> None:
        locator.click()
        self.count += 1


def settle(page: playwright_api.Page) -> None:
    """Wait until Streamlit has finished the current run."""
    page.wait_for_load_state("networkidle")
    page.locator('[data-testid="stStatusWidget"]').wait_for(
        state="detached", timeout=WAIT_MS
    )


def shoot(page: playwright_api.Page, name: str) -> None:
    settle(page)
    page.screenshot(path=str(screenshot_dir() / f"{name}.png"), full_page=True)


def open_page(page: playwright_api.Page, base: str, path: str, title: str) -> None:
    page.goto(f"{base}/{path}")
    page.get_by_role("heading", name=title).first.wait_for()
    settle(page)


def field(page: playwright_api.Page, label: str) -> playwright_api.Locator:
    """Return the input that a Streamlit widget labels `label`."""
    return page.locator(f'input[aria-label="{label}"]')


def run_python(code: str, tmp_path: Path) -> str:
    program = tmp_path / "snippet.py"
    program.write_text(code)
    result = subprocess.run(
        [sys.executable, str(program)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_getting_started_walk(
    page: playwright_api.Page,
    workbench_url: str,
    fresh_gateway: GatewayProcess,
    llmock: LLMockProcess,
    tmp_path: Path,
) -> None:
    expect = playwright_api.expect

    # An empty workbench shows the first card only.
    open_page(page, workbench_url, "", "AI Gateway")
    expect(page.get_by_text("Getting started · step 1 of 4")).to_be_visible()
    shoot(page, "home-empty")

    # Card 1 opens the provider key form. The key points at llmock.
    page.get_by_role("button", name="Add a provider key").click()
    page.get_by_role("heading", name="Provider keys").first.wait_for()
    field(page, "Name").fill("llmock")
    field(page, "API key").fill("sk-test-provider-secret-0123456789")
    field(page, "Base URL (optional)").fill(llmock.openai_base)
    page.get_by_role("button", name="Add key").click()
    expect(page.get_by_text("sk-...6789")).to_be_visible()
    expect(page.get_by_text("sk-test-provider-secret-0123456789")).to_have_count(0)
    shoot(page, "provider-keys")

    # Card 2 opens the endpoint form. From there: Create, then copy the key.
    open_page(page, workbench_url, "", "AI Gateway")
    page.get_by_role("button", name="Create endpoint").first.click()
    page.get_by_role("heading", name="Endpoints").first.wait_for()
    field(page, "Display name").fill("Support bot")
    field(page, "Display name").press("Tab")
    expect(field(page, "Slug")).not_to_have_value("")
    settle(page)
    model = field(page, "Model")
    model.fill(MODEL)
    model.press("Enter")
    settle(page)
    slug = field(page, "Slug").input_value()
    shoot(page, "endpoint-form")

    clicks = ClickCounter()
    clicks.click(page.get_by_role("button", name="Create endpoint").last)
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_text("only this once")).to_be_visible()
    key_block = dialog.locator('[data-testid="stCode"]').first
    key_block.hover()
    clicks.click(key_block.get_by_role("button").first)
    copied = page.evaluate("navigator.clipboard.readText()")
    shown_key = key_block.inner_text().strip()
    assert copied.strip() == shown_key
    assert shown_key.startswith("sk-gw-")
    expect(dialog.locator('[data-testid="stCode"]').nth(1)).to_contain_text(slug)
    assert clicks.count <= 2
    shoot(page, "endpoint-key-dialog")

    # The Python tab is open without a click, and its snippet runs as shown.
    expect(dialog.get_by_role("tab", name="Python")).to_have_attribute(
        "aria-selected", "true"
    )
    python_code = dialog.locator(
        '[data-testid="stTabPanel"]:visible [data-testid="stCode"]'
    )
    code = python_code.inner_text()
    assert copied.strip() in code
    assert SAMPLE_PROMPT in run_python(code, tmp_path)
    dialog.get_by_role("button", name="I have copied the key").click()
    expect(page.get_by_role("dialog")).to_have_count(0)

    # The catalog links a model to /Playground?model=<id>. That link sits in a
    # canvas-drawn grid, so the walk opens the same URL directly.
    open_page(page, workbench_url, "Catalog", "Model catalog")
    shoot(page, "catalog")
    open_page(page, workbench_url, f"Playground?model={MODEL}", "Playground")
    prompt = page.get_by_test_id("stChatInput").locator("textarea")
    prompt.fill("Hello from the walk")
    prompt.press("Enter")
    expect(page.get_by_test_id("stChatMessage").nth(1)).to_contain_text(
        "Hello from the walk"
    )
    shoot(page, "playground")

    # Card 4: a guardrail.
    open_page(page, workbench_url, "", "AI Gateway")
    expect(page.get_by_text("Getting started · step 4 of 4")).to_be_visible()
    page.get_by_role("button", name="Add guardrail").first.click()
    page.get_by_role("heading", name="Guardrails").first.wait_for()
    field(page, "Name").fill("No email addresses")
    page.get_by_role("button", name="Create guardrail").click()
    expect(page.get_by_text("No email addresses").first).to_be_visible()
    shoot(page, "guardrails")

    # Every card is gone, and the dashboard and the logs show the requests.
    open_page(page, workbench_url, "", "AI Gateway")
    expect(page.get_by_text(re.compile("Getting started"))).to_have_count(0)
    shoot(page, "home")
    open_page(page, workbench_url, "Endpoints", "Endpoints")
    shoot(page, "endpoints")
    open_page(page, workbench_url, "Virtual_keys", "Virtual keys")
    expect(page.get_by_text(shown_key)).to_have_count(0)
    shoot(page, "virtual-keys")

    with fresh_gateway.admin() as admin:
        rows = admin.get("/logs").json()["data"]
    assert {row["source"] for row in rows} >= {"api", "playground"}
    open_page(page, workbench_url, "Logs", "Logs")
    shoot(page, "logs")
    # The rows sit in a canvas-drawn data grid, so the check reads the count above it.
    expect(page.get_by_text(f"{len(rows)} requests", exact=True)).to_be_visible()
    assert httpx.get(f"{fresh_gateway.url}/health", timeout=10).status_code == 200

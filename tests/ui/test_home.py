"""Home: the getting-started cards, the stats and the quick actions."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

import httpx
import pytest

from tests.support import GatewayProcess, LLMockProcess
from tests.ui.conftest import create, endpoint, page_text, provider_key, run_page

CARD_TITLES = [
    "Add a provider key",
    "Create your first endpoint",
    "Test it in the playground",
    "Enable a guardrail",
]


def card_title(page_text_: str) -> str | None:
    shown = [title for title in CARD_TITLES if title in page_text_]
    assert len(shown) <= 1, shown
    return shown[0] if shown else None


def wait_for_logs(admin: httpx.Client, count: int) -> None:
    """Poll until the service has written `count` log rows, since it writes batches."""
    for _ in range(100):
        if admin.get("/logs").json()["total"] >= count:
            return
        time.sleep(0.1)
    raise AssertionError(f"the service did not write {count} log rows")


def test_home_runs(workbench: GatewayProcess) -> None:
    app = run_page("Home.py")

    assert not app.exception
    assert not app.error
    assert len(app.metric) == 5


def test_cards_follow_onboarding(
    start_gateway: Callable[..., GatewayProcess],
    point_workbench: Callable[[GatewayProcess], None],
    llmock: LLMockProcess,
) -> None:
    service = start_gateway()
    point_workbench(service)
    with service.admin() as admin:
        assert card_title(page_text(run_page("Home.py"))) == CARD_TITLES[0]

        key = provider_key(admin, llmock, "cards")
        assert card_title(page_text(run_page("Home.py"))) == CARD_TITLES[1]

        slug = endpoint(admin, key["id"], "cards")["slug"]
        assert card_title(page_text(run_page("Home.py"))) == CARD_TITLES[2]

        chat = {"endpoint": slug, "messages": [{"role": "user", "content": "hi"}]}
        assert admin.post("/playground/chat", json=chat).status_code == 200
        wait_for_logs(admin, 1)
        assert card_title(page_text(run_page("Home.py"))) == CARD_TITLES[3]

        create(
            admin,
            "/guardrails",
            name="no emails",
            kind="pii",
            scope="input",
            action="mask",
            config={"entities": ["email"]},
        )
        app = run_page("Home.py")
        assert card_title(page_text(app)) is None
        assert not [button for button in app.button if button.key == "home_card_go"]


def test_card_button_opens_provider_keys(
    start_gateway: Callable[..., GatewayProcess],
    point_workbench: Callable[[GatewayProcess], None],
) -> None:
    point_workbench(start_gateway())
    app = run_page("Home.py")

    app.button(key="home_card_go").click().run()

    assert not app.exception
    assert app.title[0].value == "Provider keys"
    assert app.query_params["action"] == "add"


@pytest.mark.parametrize(
    ("button", "title", "action"),
    [
        ("home_qa_create_endpoint", "Endpoints", "create"),
        ("home_qa_add_guardrail", "Guardrails", "create"),
        ("home_qa_view_logs", "Logs", "view"),
        ("home_qa_open_playground", "Playground", "open"),
    ],
)
def test_quick_action_opens_page(
    button: str, title: str, action: str | None, workbench: GatewayProcess
) -> None:
    app = run_page("Home.py")

    app.button(key=button).click().run()

    assert not app.exception
    assert app.title[0].value == title
    assert app.query_params.get("action") == action


def test_stats_count_requests(
    workbench: GatewayProcess, wb_admin: httpx.Client, llmock: LLMockProcess
) -> None:
    suffix = uuid.uuid4().hex[:8]
    key = provider_key(wb_admin, llmock, f"stats {suffix}")
    slug = endpoint(wb_admin, key["id"], f"stats-{suffix}")["slug"]
    virtual_key = create(wb_admin, "/virtual-keys", name=f"stats {suffix}")
    before = wb_admin.get("/logs").json()["total"]
    response = httpx.post(
        f"{workbench.url}/v1/chat/completions",
        headers={"Authorization": f"Bearer {virtual_key['key']}"},
        json={"model": slug, "messages": [{"role": "user", "content": "hello"}]},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    wait_for_logs(wb_admin, before + 1)

    app = run_page("Home.py", period="24h")

    assert not app.exception
    requests = next(metric for metric in app.metric if metric.label == "Requests")
    assert int(requests.value.replace(",", "")) >= 1
    assert "Spend by model" in page_text(app)
    assert virtual_key["key"] not in page_text(app)


def test_error_rate_dash_without_requests(
    start_gateway: Callable[..., GatewayProcess],
    point_workbench: Callable[[GatewayProcess], None],
) -> None:
    point_workbench(start_gateway())

    app = run_page("Home.py")

    assert not app.exception
    error_rate = next(metric for metric in app.metric if metric.label == "Error rate")
    assert error_rate.value == "–"

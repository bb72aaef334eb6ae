"""The curl, Python and Node snippets run as shown against a real endpoint on llmock."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest

from gateway.snippets import SAMPLE_PROMPT, Snippet, build_snippets
from tests.support import ROOT, GatewayProcess, LLMockProcess
from tests.ui.conftest import create, endpoint, provider_key

NODE_MODULES = ROOT / "tests" / "node" / "node_modules"
RUNNERS = {"curl": ["sh"], "Python": [sys.executable], "Node": ["node"]}
SUFFIXES = {"curl": ".sh", "Python": ".py", "Node": ".js"}


@pytest.fixture
def slug_and_key(wb_admin: httpx.Client, llmock: LLMockProcess) -> tuple[str, dict]:
    suffix = uuid.uuid4().hex[:8]
    key = provider_key(wb_admin, llmock, f"snippets {suffix}")
    slug = endpoint(wb_admin, key["id"], f"snippets-{suffix}")["slug"]
    virtual_key = create(wb_admin, "/virtual-keys", name=f"snippets {suffix}")
    return slug, virtual_key


def run_snippet(snippet: Snippet, folder: Path, env: dict[str, str]) -> str:
    if snippet.label == "Node" and not NODE_MODULES.is_dir():
        pytest.skip(
            "tests/node/node_modules is missing: run scripts/install-test-tools.sh"
        )
    if shutil.which(RUNNERS[snippet.label][0]) is None:
        pytest.skip(f"{RUNNERS[snippet.label][0]} is not installed")
    program = folder / f"snippet{SUFFIXES[snippet.label]}"
    program.write_text(snippet.code)
    result = subprocess.run(
        [*RUNNERS[snippet.label], str(program)],
        env={**os.environ, "NODE_PATH": str(NODE_MODULES), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize("label", ["curl", "Python", "Node"])
def test_snippet_with_key_runs(
    label: str,
    workbench: GatewayProcess,
    slug_and_key: tuple[str, dict],
    tmp_path: Path,
) -> None:
    slug, key = slug_and_key
    snippets = build_snippets(f"{workbench.url}/v1", slug, api_key=key["key"])
    snippet = next(item for item in snippets if item.label == label)

    output = run_snippet(snippet, tmp_path, {"GATEWAY_API_KEY": ""})

    assert key["key"] in snippet.code
    assert SAMPLE_PROMPT in output


@pytest.mark.parametrize("label", ["curl", "Python", "Node"])
def test_snippet_from_env_runs(
    label: str,
    workbench: GatewayProcess,
    slug_and_key: tuple[str, dict],
    tmp_path: Path,
) -> None:
    slug, key = slug_and_key
    snippets = build_snippets(f"{workbench.url}/v1", slug, key_prefix=key["key_prefix"])
    snippet = next(item for item in snippets if item.label == label)

    output = run_snippet(snippet, tmp_path, {"GATEWAY_API_KEY": key["key"]})

    assert key["key"] not in snippet.code
    assert key["key_prefix"] in snippet.code
    assert "GATEWAY_API_KEY" in snippet.code
    assert SAMPLE_PROMPT in output


def test_curl_snippet_without_env_names_prefix(tmp_path: Path) -> None:
    snippets = build_snippets(
        "http://127.0.0.1:9/v1", "demo", key_prefix="sk-gw-Ab12Cd"
    )
    snippet = next(item for item in snippets if item.label == "curl")
    program = tmp_path / "snippet.sh"
    program.write_text(snippet.code)
    env = {
        name: value for name, value in os.environ.items() if name != "GATEWAY_API_KEY"
    }

    result = subprocess.run(
        ["sh", str(program)], env=env, capture_output=True, text=True
    )

    assert result.returncode != 0
    assert "sk-gw-Ab12Cd" in result.stderr


def test_snippets_python_first() -> None:
    snippets = build_snippets("http://127.0.0.1:9/v1", "demo", api_key="sk-gw-x")

    assert [item.label for item in snippets] == ["Python", "Node", "curl"]


def test_python_snippet_imports_os_only_for_env() -> None:
    with_key = build_snippets("http://127.0.0.1:9/v1", "demo", api_key="sk-gw-x")[0]
    from_env = build_snippets(
        "http://127.0.0.1:9/v1", "demo", key_prefix="sk-gw-Ab12Cd"
    )[0]

    assert "import os" not in with_key.code
    assert "import os" in from_env.code
    assert 'os.environ["GATEWAY_API_KEY"]' in from_env.code

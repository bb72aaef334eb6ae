"""Fixtures that start real processes: llmock as the provider, and the service."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

# Importing the package first makes litellm read its bundled price map
# instead of downloading one, in every test module that imports litellm.
import gateway as _gateway_package  # noqa: F401
from tests.support import GatewayProcess, LLMockProcess


@pytest.fixture(scope="session")
def llmock(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LLMockProcess]:
    server = LLMockProcess(tmp_path_factory.mktemp("llmock")).start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _reset_llmock(request: pytest.FixtureRequest) -> None:
    if "llmock" in request.fixturenames:
        request.getfixturevalue("llmock").reset()


@pytest.fixture(scope="session")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    """One service shared by the session; tests create their own objects in it."""
    service = GatewayProcess(tmp_path_factory.mktemp("gateway") / "data").start()
    yield service
    service.stop()


@pytest.fixture
def start_gateway(tmp_path: Path) -> Iterator[Callable[..., GatewayProcess]]:
    """Start a fresh service with an empty data folder, for tests that need one."""
    started: list[GatewayProcess] = []

    def start(**env: str) -> GatewayProcess:
        service = GatewayProcess(tmp_path / f"data{len(started)}", env=env).start()
        started.append(service)
        return service

    yield start
    for service in started:
        service.stop()


@pytest.fixture
def admin(gateway: GatewayProcess) -> Iterator[httpx.Client]:
    with gateway.admin() as client:
        yield client

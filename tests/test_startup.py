"""Starting and stopping the service process: files, modes, log lines, bad settings."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx

from tests.support import ROOT, GatewayProcess


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def run_service(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway.proxy_server", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_first_start_creates_private_files(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o755)
    service = GatewayProcess(data_dir).start()
    service.stop()
    for name in ("encryption.key", "gateway.duckdb"):
        assert mode_of(service.data_dir / name) == 0o600, name
    assert mode_of(service.data_dir) == 0o700


def test_ready_line_names_address_and_folder(
    start_gateway: Callable[..., GatewayProcess],
) -> None:
    service = start_gateway()
    output = service.output()
    assert f"ready on http://127.0.0.1:{service.port}" in output
    assert str(service.data_dir.resolve()) in output


def test_generated_admin_key_used_without_variable(tmp_path: Path) -> None:
    service = GatewayProcess(tmp_path / "data", admin_key=None).start()
    try:
        with service.admin() as admin:
            assert admin.get("/onboarding").status_code == 200
        assert service.admin_key is not None
        assert mode_of(service.data_dir / "admin_key") == 0o600
        assert service.admin_key not in service.output()
    finally:
        service.stop()


def test_bad_port_variable_names_it() -> None:
    result = run_service(GATEWAY_PORT="not-a-port")
    assert result.returncode == 2
    assert "GATEWAY_PORT='not-a-port' is invalid" in result.stderr


def test_short_admin_key_rejected_without_echo() -> None:
    result = run_service(GATEWAY_ADMIN_KEY="short-secret")
    assert result.returncode == 2
    assert "GATEWAY_ADMIN_KEY" in result.stderr
    assert "short-secret" not in result.stderr


def test_port_in_use_names_the_fix(
    start_gateway: Callable[..., GatewayProcess], tmp_path: Path
) -> None:
    service = start_gateway()
    result = run_service("--port", str(service.port), "--data-dir", str(tmp_path / "b"))
    assert result.returncode == 2
    assert f"cannot listen on 127.0.0.1:{service.port}" in result.stderr
    assert "--port" in result.stderr


def test_sigterm_stops_cleanly(start_gateway: Callable[..., GatewayProcess]) -> None:
    service = start_gateway()
    code = service.stop()
    assert code in (0, -15)
    assert "log rows and spend written" in service.output()


def test_admin_key_checked_before_body(gateway: GatewayProcess) -> None:
    response = httpx.post(
        f"{gateway.url}/admin/provider-keys",
        content=b'{"name":',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "missing_api_key"


def test_admin_body_over_limit_rejected(gateway: GatewayProcess) -> None:
    with gateway.admin() as admin:
        response = admin.post("/guardrails/test", content=b"x" * (5 * 1024 * 1024))
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "request_too_large"


def test_admin_form_body_names_content_type(gateway: GatewayProcess) -> None:
    with gateway.admin() as admin:
        response = admin.post(
            "/provider-keys",
            content=b'{"name": "x", "provider": "openai", "api_key": "sk-1"}',
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    assert response.status_code == 422
    message = response.json()["error"]["message"]
    assert "application/x-www-form-urlencoded" in message
    assert "Content-Type: application/json" in message


def test_openapi_declares_bearer_auth(gateway: GatewayProcess) -> None:
    document = httpx.get(f"{gateway.url}/openapi.json").json()
    schemes = document["components"]["securitySchemes"]
    assert any(scheme.get("scheme") == "bearer" for scheme in schemes.values())

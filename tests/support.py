"""Real processes for tests: the gateway service and an llmock provider."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
TEST_ADMIN_KEY = "test-admin-key-0123456789abcdef"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_http(
    url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 180
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"process exited with {process.returncode}:\n{log.read_text()}"
            )
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer within {timeout}s:\n{log.read_text()}")


@dataclass
class GatewayProcess:
    """The service, run as `python -m gateway.proxy_server` on a free loopback port."""

    data_dir: Path
    env: dict[str, str] = field(default_factory=dict)
    admin_key: str | None = TEST_ADMIN_KEY
    port: int = 0
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.data_dir.parent / f"gateway-{self.data_dir.name}.log"

    def start(self) -> GatewayProcess:
        self.port = free_port()
        env = {**os.environ, **self.env}
        env.pop("GATEWAY_ADMIN_KEY", None)
        if self.admin_key:
            env["GATEWAY_ADMIN_KEY"] = self.admin_key
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gateway.proxy_server", "--port", str(self.port)]
            + ["--data-dir", str(self.data_dir)],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        wait_for_http(f"{self.url}/health", self.process, self.log_path)
        if self.admin_key is None:
            self.admin_key = (self.data_dir / "admin_key").read_text().strip()
        return self

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.process is None:
            return 0
        self.process.send_signal(sig)
        try:
            code = self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
        self.process = None
        return code

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def admin(self) -> httpx.Client:
        return httpx.Client(
            base_url=f"{self.url}/admin",
            headers={"Authorization": f"Bearer {self.admin_key}"},
            timeout=30,
        )


@dataclass
class LLMockProcess:
    """llmock serving OpenAI, Anthropic and the other wire formats on one port."""

    workdir: Path
    port: int = 0
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def openai_base(self) -> str:
        return f"{self.url}/v1"

    @property
    def anthropic_base(self) -> str:
        return f"{self.url}/anthropic"

    def start(self) -> LLMockProcess:
        self.port = free_port()
        log_path = self.workdir / "llmock.log"
        llmock = Path(sys.executable).with_name("llmock")
        self.process = subprocess.Popen(
            [str(llmock), "serve", "--host", "127.0.0.1", "--port", str(self.port)]
            + ["--response-style", "echo", "--log-level", "warning"],
            stdout=log_path.open("ab"),
            stderr=subprocess.STDOUT,
        )
        wait_for_http(f"{self.url}/_llmock/requests", self.process, log_path)
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    def requests(self) -> list[dict[str, Any]]:
        return list(
            httpx.get(f"{self.url}/_llmock/requests", timeout=10).json()["requests"]
        )

    def reset(self) -> None:
        httpx.post(f"{self.url}/_llmock/reset", timeout=10)

    def queue(self, *behaviors: dict[str, Any]) -> None:
        """Queue scripted faults, such as `{"type": "fail", "status": 429}`."""
        response = httpx.post(
            f"{self.url}/_llmock/scenario",
            json={"behaviors": list(behaviors)},
            timeout=10,
        )
        response.raise_for_status()

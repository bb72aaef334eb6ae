"""The two services under test, each started as its own process and pinned to one CPU.

LiteLLM Proxy runs from its own virtual environment with one worker and a
master key. Without a database it has no virtual keys, spend or request log,
so it does less per request than the gateway, which authenticates a virtual
key, checks its ACL and limits and logs every request to DuckDB.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.procs import free_port, peak_rss_mib, pinned, stop_process, wait_for_http
from bench.upstream import MODEL

ROOT = Path(__file__).resolve().parent.parent
LITELLM_VENV = ROOT / "bench" / ".venv-litellm"
UPSTREAM_SECRET = "sk-upstream-bench-0123456789abcdef"
LITELLM_MASTER_KEY = "sk-litellm-bench-master-key"
ADMIN_KEY = "bench-admin-key-0123456789abcdef"
PLAIN_MODEL = "bench-plain"
STREAM_MODEL = "bench-stream"


@dataclass
class Contender:
    name: str
    workdir: Path
    cpus: str | None
    upstream_url: str
    port: int = 0
    api_key: str = ""
    process: subprocess.Popen[bytes] | None = None
    env: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.workdir / f"{self.name}.log"

    def command(self) -> list[str]:
        raise NotImplementedError

    def ready_url(self) -> str:
        raise NotImplementedError

    def configure(self) -> None:
        """Create what the benchmark's requests need, once the process answers."""

    def start(self) -> Contender:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        command = pinned(self.command(), self.cpus)
        env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True", **self.env}
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=self.log_path.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_for_http(self.ready_url(), self.process, self.log_path)
        self.configure()
        return self

    def peak_rss_mib(self) -> float:
        return peak_rss_mib(self.process.pid) if self.process else 0.0

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)
            self.process = None


class LiteLLMProxy(Contender):
    def command(self) -> list[str]:
        config = self.workdir / "litellm-config.yaml"
        # YAML is a superset of JSON, so the config needs no YAML writer.
        config.write_text(json.dumps(self._config(), indent=2))
        return [
            str(LITELLM_VENV / "bin" / "litellm"),
            "--config", str(config),
            "--host", "127.0.0.1",
            "--port", str(self.port),
            "--num_workers", "1",
        ]  # fmt: skip

    def _config(self) -> dict[str, object]:
        def entry(name: str, path: str) -> dict[str, object]:
            params = {
                "model": f"openai/{MODEL}",
                "api_base": f"{self.upstream_url}/{path}/v1",
                "api_key": UPSTREAM_SECRET,
            }
            return {"model_name": name, "litellm_params": params}

        return {
            "model_list": [entry(PLAIN_MODEL, "plain"), entry(STREAM_MODEL, "stream")],
            "general_settings": {"master_key": LITELLM_MASTER_KEY},
            "litellm_settings": {"telemetry": False},
        }

    def ready_url(self) -> str:
        return f"{self.url}/health/liveliness"

    def configure(self) -> None:
        self.api_key = LITELLM_MASTER_KEY


class Gateway(Contender):
    def command(self) -> list[str]:
        self.env.setdefault("GATEWAY_ADMIN_KEY", ADMIN_KEY)
        return [
            sys.executable, "-m", "gateway.proxy_server",
            "--host", "127.0.0.1",
            "--port", str(self.port),
            "--data-dir", str(self.workdir / "data"),
        ]  # fmt: skip

    def ready_url(self) -> str:
        return f"{self.url}/health"

    def configure(self) -> None:
        headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
        with httpx.Client(
            base_url=f"{self.url}/admin", headers=headers, timeout=30
        ) as admin:
            for slug, path in ((PLAIN_MODEL, "plain"), (STREAM_MODEL, "stream")):
                provider_key = _created(
                    admin.post(
                        "/provider-keys",
                        json={
                            "name": f"upstream-{path}",
                            "provider": "openai",
                            "api_key": UPSTREAM_SECRET,
                            "api_base": f"{self.upstream_url}/{path}/v1",
                        },
                    )
                )
                _created(
                    admin.post(
                        "/endpoints",
                        json={
                            "slug": slug,
                            "provider_key_id": provider_key["id"],
                            "model": MODEL,
                        },
                    )
                )
            key = _created(admin.post("/virtual-keys", json=BENCH_KEY_SETTINGS))
        self.api_key = key["key"]


BENCH_KEY_SETTINGS = {
    "name": "bench",
    "allowed_endpoints": [PLAIN_MODEL, STREAM_MODEL],
    "allowed_providers": ["openai"],
    "blocked_models": ["gpt-3.5*"],
    "rpm_limit": 1_000_000_000,
    "tpm_limit": 2_000_000_000,
}


def _created(response: httpx.Response) -> dict[str, object]:
    if response.status_code >= 300:
        raise RuntimeError(
            f"admin call {response.request.method} {response.request.url.path} "
            f"failed with {response.status_code}: {response.text[:500]}"
        )
    body: dict[str, object] = response.json()
    return body

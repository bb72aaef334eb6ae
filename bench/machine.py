"""The machine and software versions that a benchmark result was measured with."""

from __future__ import annotations

import os
import platform
import re
import subprocess
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LITELLM_VENV_PYTHON = ROOT / "bench" / ".venv-litellm" / "bin" / "python"


def describe_machine() -> dict[str, str]:
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.MULTILINE)
    meminfo = Path("/proc/meminfo").read_text()
    total_kib = int(re.search(r"^MemTotal:\s*(\d+)", meminfo, re.MULTILINE).group(1))  # type: ignore[union-attr]
    return {
        "cpu": model.group(1).strip() if model else platform.processor(),
        "cores": str(os.cpu_count()),
        "memory_gib": f"{total_kib / 1024 / 1024:.1f}",
        "kernel": platform.release(),
        "python": platform.python_version(),
        "gateway_litellm": _version("litellm"),
        "proxy_litellm": _litellm_proxy_version(),
        "uvicorn": _version("uvicorn"),
        "httpx": _version("httpx"),
        "nginx": _command_version(["nginx", "-v"]).removeprefix("nginx version: "),
        "wrk": " ".join(_command_version(["wrk", "-v"]).split()[:2]),
    }


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def _litellm_proxy_version() -> str:
    if not LITELLM_VENV_PYTHON.exists():
        return "not installed"
    code = "from importlib.metadata import version; print(version('litellm'))"
    completed = subprocess.run(
        [str(LITELLM_VENV_PYTHON), "-c", code],
        capture_output=True,
        text=True,
        check=False,
    )
    return completed.stdout.strip() or "unknown"


def _command_version(command: list[str]) -> str:
    try:
        completed = subprocess.run(command, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        return "not installed"
    text = (completed.stdout + completed.stderr).strip().splitlines()
    return text[0] if text else "unknown"

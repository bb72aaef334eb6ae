"""Run wrk against one URL and parse the JSON line that chat.lua prints."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.procs import pinned

LUA_SCRIPT = Path(__file__).with_name("chat.lua")


@dataclass(frozen=True)
class WrkResult:
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    non_2xx: int
    socket_errors: int

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def run_wrk(
    url: str,
    body_file: Path,
    api_key: str,
    connections: int,
    seconds: float,
    cpus: str | None,
) -> WrkResult:
    command = [
        "wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s",
        "-s", str(LUA_SCRIPT), url,
    ]  # fmt: skip
    env = {**os.environ, "BENCH_BODY_FILE": str(body_file), "BENCH_API_KEY": api_key}
    completed = subprocess.run(
        pinned(command, cpus),
        env=env,
        capture_output=True,
        text=True,
        timeout=seconds + 60,
    )
    return parse_output(completed.stdout, completed.stderr)


def parse_output(stdout: str, stderr: str = "") -> WrkResult:
    lines = [line for line in stdout.splitlines() if line.startswith("BENCH_JSON ")]
    if not lines:
        raise RuntimeError(f"wrk printed no summary:\n{stdout}\n{stderr}")
    raw = json.loads(lines[-1].removeprefix("BENCH_JSON "))
    seconds = raw["duration_us"] / 1e6
    return WrkResult(
        requests=raw["requests"],
        seconds=seconds,
        rps=raw["requests"] / seconds,
        p50_ms=raw["p50_us"] / 1000,
        p90_ms=raw["p90_us"] / 1000,
        p99_ms=raw["p99_us"] / 1000,
        max_ms=raw["max_us"] / 1000,
        non_2xx=raw["status_errors"],
        socket_errors=sum(
            raw[name]
            for name in (
                "connect_errors",
                "read_errors",
                "write_errors",
                "timeout_errors",
            )
        ),
    )

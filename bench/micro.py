"""Shared helpers of the micro-benchmarks: timing loops and the results files."""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.machine import describe_machine

RESULTS = Path(__file__).with_name("results")


def per_call_us(
    function: Callable[[], object], calls: int, repeats: int = 7
) -> dict[str, float]:
    """Time `calls` calls `repeats` times; return best and median µs per call."""
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        for _ in range(calls):
            function()
        samples.append((time.perf_counter() - started) / calls * 1e6)
    return {"best_us": min(samples), "median_us": statistics.median(samples)}


def timed_ms(function: Callable[[], object], repeats: int = 5) -> dict[str, float]:
    """Run a slower call `repeats` times; return the best and median milliseconds."""
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        samples.append((time.perf_counter() - started) * 1000)
    return {"best_ms": min(samples), "median_ms": statistics.median(samples)}


def save(name: str, payload: dict[str, Any]) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"micro_{name}.json"
    document = {"machine": describe_machine(), **payload}
    path.write_text(json.dumps(document, indent=2, default=str) + "\n")
    print(json.dumps(payload, indent=2, default=str))
    print(f"wrote {path}")
    return path

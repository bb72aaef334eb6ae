"""Micro-benchmark: dashboard and logs-page aggregates over 1 million request log rows.

The rows go into a real DuckDB file through `Store.insert_logs`, spread over
30 days, 50 keys, 12 endpoints and 4 models with 5% errors. Each query the
dashboard and the logs page send is then timed. Target < 150 ms each.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.micro import save, timed_ms
from gateway import analytics
from gateway.models import LogRow
from gateway.store import LogFilter, Store

TARGET_MS = 150.0
ROWS = 1_000_000
BATCH = 50_000
NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)
MODELS = ("gpt-4o-mini", "gpt-4o", "claude-3-5-haiku", "llama-3.1-8b")


def make_row(index: int) -> LogRow:
    failed = index % 20 == 0
    return LogRow(
        request_id=f"req-{index:08d}",
        ts=NOW - timedelta(seconds=(index * 2.592) % 2_592_000),
        source="api" if index % 10 else "playground",
        status=429 if failed else 200,
        key_id=f"key-{index % 50}",
        key_prefix=f"sk-gw-k{index % 50:05d}",
        endpoint=f"chat-{index % 12}",
        provider="openai" if index % 4 < 2 else "anthropic",
        model=MODELS[index % 4],
        error_code="rate_limit_exceeded" if failed else None,
        prompt_tokens=0 if failed else 100 + index % 400,
        completion_tokens=0 if failed else 20 + index % 200,
        cost_usd=0.0 if failed else 0.00002 * (1 + index % 5),
        latency_ms=5 + index % 900,
        upstream_ms=3 + index % 850,
    )


def fill(store: Store) -> float:
    started = time.perf_counter()
    for first in range(0, ROWS, BATCH):
        store.insert_logs([make_row(index) for index in range(first, first + BATCH)])
    return ROWS / (time.perf_counter() - started)


def store_queries(store: Store) -> dict[str, Callable[[], Any]]:
    week = LogFilter(start=NOW - timedelta(days=7), end=NOW)
    month = LogFilter(start=NOW - timedelta(days=30), end=NOW)
    one_key = LogFilter(key_id="key-7", status="error")
    return {
        "summary, 30 days": lambda: store.log_summary(month),
        "summary, 7 days": lambda: store.log_summary(week),
        "hourly series, 7 days": lambda: store.log_timeseries(week, "hour"),
        "daily series, 30 days": lambda: store.log_timeseries(month, "day"),
        "top keys by spend": lambda: store.log_breakdown(month, "key", 10),
        "top endpoints": lambda: store.log_breakdown(month, "endpoint", 10),
        "top models": lambda: store.log_breakdown(month, "model", 10),
        "logs page 1, no filter": lambda: store.query_logs(
            LogFilter(), limit=50, offset=0, with_bodies=False
        ),
        "logs page 200, no filter": lambda: store.query_logs(
            LogFilter(), limit=50, offset=10_000, with_bodies=False
        ),
        "logs, one key's errors": lambda: store.query_logs(
            one_key, limit=50, offset=0, with_bodies=False
        ),
    }


def analytics_queries(store: Store) -> dict[str, Callable[[], Any]]:
    """Time the dashboard's functions, which wrap the store queries and fill gaps."""
    month = LogFilter(start=NOW - timedelta(days=30), end=NOW)
    week = LogFilter(start=NOW - timedelta(days=7), end=NOW)
    return {
        "analytics.summary, 30 days": lambda: analytics.summary(store, month),
        "analytics.timeseries, hourly, 7 days": lambda: analytics.timeseries(
            store, week, "hour"
        ),
        "analytics.breakdown by key": lambda: analytics.breakdown(
            store, month, "key", 10
        ),
    }


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(Path(tmp) / "gateway.duckdb")
        insert_rate = fill(store)
        queries = {**store_queries(store), **analytics_queries(store)}
        results = {}
        for label, query in queries.items():
            query()
            results[label] = timed_ms(query, repeats=7)
        store.close()
    worst = max(item["median_ms"] for item in results.values())
    save(
        "analytics",
        {
            "target_ms": TARGET_MS,
            "rows": ROWS,
            "insert_rows_per_second": insert_rate,
            "worst_median_ms": worst,
            "queries": results,
        },
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

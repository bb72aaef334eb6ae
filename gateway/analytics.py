"""Dashboard aggregates of the request log, shaped for the admin API.

DuckDB does the aggregation (see `Store.log_summary` and its neighbours).
A request counts as an error when its status is 400 or more, and latency
quantiles cover successful requests only, so fast denials do not hide slow
upstream calls.
"""

from __future__ import annotations

from typing import Any

from gateway.admin_views import iso
from gateway.store import BreakdownBy, Bucket, LogFilter, Store


def summary(store: Store, where: LogFilter) -> dict[str, Any]:
    row = store.log_summary(where)
    p50, p95, p99 = row["latency"] or (None, None, None)
    requests = int(row["requests"])
    errors = int(row["errors"])
    prompt = int(row["prompt_tokens"])
    completion = int(row["completion_tokens"])
    return {
        "requests": requests,
        "errors": errors,
        "error_rate": errors / requests if requests else 0.0,
        "spend_usd": float(row["spend_usd"]),
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "latency_p50_ms": p50,
        "latency_p95_ms": p95,
        "latency_p99_ms": p99,
    }


def timeseries(store: Store, where: LogFilter, bucket: Bucket) -> dict[str, Any]:
    data = []
    for row in store.log_timeseries(where, bucket):
        p50, p95 = row["latency"] or (None, None)
        data.append(
            {
                "bucket": iso(row["bucket"]),
                "requests": int(row["requests"]),
                "errors": int(row["errors"]),
                "spend_usd": float(row["spend_usd"]),
                "total_tokens": int(row["total_tokens"]),
                "latency_p50_ms": p50,
                "latency_p95_ms": p95,
            }
        )
    return {"data": data}


def breakdown(
    store: Store, where: LogFilter, by: BreakdownBy, limit: int
) -> dict[str, Any]:
    data = []
    for row in store.log_breakdown(where, by, limit):
        item: dict[str, Any] = {
            "name": row["name"],
            "requests": int(row["requests"]),
            "errors": int(row["errors"]),
            "spend_usd": float(row["spend_usd"]),
            "total_tokens": int(row["total_tokens"]),
            "latency_p50_ms": row["latency_p50_ms"],
        }
        if by == "key":
            # A deleted or unknown key id still shows, under its prefix.
            item["key_id"] = row["name"]
            item["name"] = row["key_name"] or row["key_prefix"] or row["name"]
            item["key_prefix"] = row["key_prefix"]
        data.append(item)
    return {"data": data}

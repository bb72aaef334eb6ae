"""Dashboard aggregates of the request log, shaped for the admin API.

DuckDB does the aggregation (see `Store.log_summary` and its neighbours).
A request counts as an error when its status is 400 or more, and latency
quantiles cover successful requests only, so fast denials do not hide slow
upstream calls.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from gateway.admin_views import iso, usd
from gateway.periods import as_utc
from gateway.store import BreakdownBy, Bucket, LogFilter, Store

# Past this many buckets only the buckets with requests are returned, so a
# request for hourly buckets over years stays small.
MAX_FILLED_BUCKETS = 5000
_STEPS = {"hour": timedelta(hours=1), "day": timedelta(days=1)}


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
        "spend_usd": usd(float(row["spend_usd"])),
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "latency_p50_ms": p50,
        "latency_p95_ms": p95,
        "latency_p99_ms": p99,
    }


def timeseries(store: Store, where: LogFilter, bucket: Bucket) -> dict[str, Any]:
    """Return one row per bucket, oldest first, with empty buckets filled with zeros."""
    rows = {row["bucket"]: row for row in store.log_timeseries(where, bucket)}
    data = []
    for moment in _bucket_starts(list(rows), where, bucket):
        row = rows.get(moment)
        if row is None:
            data.append(_empty_bucket(moment))
            continue
        p50, p95 = row["latency"] or (None, None)
        data.append(
            {
                "bucket": iso(moment),
                "requests": int(row["requests"]),
                "errors": int(row["errors"]),
                "spend_usd": usd(float(row["spend_usd"])),
                "total_tokens": int(row["total_tokens"]),
                "latency_p50_ms": p50,
                "latency_p95_ms": p95,
            }
        )
    return {"data": data}


def _bucket_starts(
    found: list[datetime], where: LogFilter, bucket: Bucket
) -> list[datetime]:
    """List every bucket from the start (or first row) to the end (or last row)."""
    step = _STEPS[bucket]
    first = _truncate(where.start, bucket) if where.start else min(found, default=None)
    end = where.end - timedelta(microseconds=1) if where.end else None
    last = _truncate(end, bucket) if end else max(found, default=None)
    if first is None or last is None or last < first:
        return sorted(found)
    if (last - first) / step >= MAX_FILLED_BUCKETS:
        return sorted(found)
    starts = []
    moment = first
    while moment <= last:
        starts.append(moment)
        moment += step
    return starts


def _truncate(moment: datetime, bucket: Bucket) -> datetime:
    moment = as_utc(moment).replace(minute=0, second=0, microsecond=0)
    return moment.replace(hour=0) if bucket == "day" else moment


def _empty_bucket(moment: datetime) -> dict[str, Any]:
    return {
        "bucket": iso(moment),
        "requests": 0,
        "errors": 0,
        "spend_usd": 0.0,
        "total_tokens": 0,
        "latency_p50_ms": None,
        "latency_p95_ms": None,
    }


def breakdown(
    store: Store, where: LogFilter, by: BreakdownBy, limit: int
) -> dict[str, Any]:
    data = []
    for row in store.log_breakdown(where, by, limit):
        item: dict[str, Any] = {
            "name": row["name"],
            "requests": int(row["requests"]),
            "errors": int(row["errors"]),
            "spend_usd": usd(float(row["spend_usd"])),
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

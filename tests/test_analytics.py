"""Log analytics over a DuckDB file filled through the store."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gateway import analytics
from gateway.models import LogRow, VirtualKey
from gateway.onboarding import onboarding
from gateway.store import LogFilter, Store

HOUR = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)


def row(index: int, **fields: object) -> LogRow:
    values: dict[str, object] = {
        "ts": HOUR,
        "source": "api",
        "status": 200,
        "key_id": "vk_a",
        "key_prefix": "sk-gw-AAAAAA",
        "endpoint": "gpt4o",
        "provider": "openai",
        "model": "gpt-4o",
        "prompt_tokens": 10,
        "completion_tokens": 5,
        "cost_usd": 0.01,
        "latency_ms": 100.0,
    }
    values.update(fields)
    return LogRow(request_id=f"req-{index}", **values)  # type: ignore[arg-type]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(tmp_path / "gateway.duckdb")
    opened.insert_virtual_key(
        VirtualKey(
            id="vk_a",
            name="backend",
            key_hash="0" * 64,
            key_prefix="sk-gw-AAAAAA",
            created_at=HOUR,
        )
    )
    rows = [row(i, latency_ms=float(100 + i)) for i in range(10)]
    rows += [
        row(
            10,
            ts=HOUR + timedelta(minutes=70),
            status=502,
            latency_ms=5.0,
            cost_usd=0.0,
        ),
        row(
            11,
            ts=HOUR + timedelta(minutes=75),
            key_id="vk_b",
            key_prefix="sk-gw-BBBBBB",
            endpoint="haiku",
            provider="anthropic",
            model="claude-3-5-haiku",
            cost_usd=0.5,
            prompt_tokens=100,
            completion_tokens=50,
        ),
        row(12, ts=HOUR + timedelta(days=1), status=403, cost_usd=0.0),
    ]
    opened.insert_logs(rows)
    yield opened
    opened.close()


def test_summary_totals(store: Store) -> None:
    result = analytics.summary(store, LogFilter())

    assert result["requests"] == 13
    assert result["errors"] == 2
    assert result["error_rate"] == pytest.approx(2 / 13)
    assert result["spend_usd"] == pytest.approx(0.6)
    assert result["prompt_tokens"] == 12 * 10 + 100
    assert result["completion_tokens"] == 12 * 5 + 50
    assert (
        result["total_tokens"] == result["prompt_tokens"] + result["completion_tokens"]
    )


def test_summary_latency_skips_errors(store: Store) -> None:
    result = analytics.summary(store, LogFilter(end=HOUR + timedelta(hours=1)))

    assert result["requests"] == 10
    assert result["latency_p50_ms"] == pytest.approx(104.5)
    assert 108 <= result["latency_p95_ms"] <= 109
    assert result["latency_p99_ms"] <= 109


def test_summary_empty_range(store: Store) -> None:
    result = analytics.summary(store, LogFilter(start=HOUR + timedelta(days=30)))

    assert result["requests"] == 0
    assert result["error_rate"] == 0.0
    assert result["latency_p50_ms"] is None


def test_timeseries_hour_buckets(store: Store) -> None:
    data = analytics.timeseries(store, LogFilter(), "hour")["data"]

    assert len(data) == 25
    assert data[0]["bucket"] == "2026-12-04T10:00:00Z"
    assert data[-1]["bucket"] == "2026-12-05T10:00:00Z"
    assert [item["requests"] for item in data[:3]] == [10, 2, 0]
    assert data[-1]["requests"] == 1
    assert [item["errors"] for item in data[:2]] == [0, 1]
    assert data[1]["spend_usd"] == pytest.approx(0.5)
    assert data[1]["total_tokens"] == 15 + 150
    assert data[2]["latency_p50_ms"] is None


def test_timeseries_fills_requested_range(store: Store) -> None:
    where = LogFilter(start=HOUR - timedelta(minutes=90), end=HOUR + timedelta(hours=2))

    data = analytics.timeseries(store, where, "hour")["data"]

    assert [item["bucket"][11:13] for item in data] == ["08", "09", "10", "11"]
    assert [item["requests"] for item in data] == [0, 0, 10, 2]


def test_timeseries_empty_store_range(tmp_path: Path) -> None:
    empty = Store.open(tmp_path / "empty.duckdb")
    try:
        data = analytics.timeseries(empty, LogFilter(), "day")["data"]
    finally:
        empty.close()

    assert data == []


def test_timeseries_day_buckets(store: Store) -> None:
    data = analytics.timeseries(store, LogFilter(), "day")["data"]

    assert [item["requests"] for item in data] == [12, 1]


def test_breakdown_by_key_names_and_orders(store: Store) -> None:
    data = analytics.breakdown(store, LogFilter(), "key", 10)["data"]

    assert [item["key_id"] for item in data] == ["vk_b", "vk_a"]
    assert data[0]["name"] == "sk-gw-BBBBBB"
    assert data[1]["name"] == "backend"
    assert data[1]["key_prefix"] == "sk-gw-AAAAAA"
    assert data[1]["requests"] == 12


def test_breakdown_by_key_shows_current_prefix(store: Store) -> None:
    store.update_virtual_key("vk_a", {"key_prefix": "sk-gw-NEWNEW"})

    data = analytics.breakdown(store, LogFilter(), "key", 10)["data"]

    rotated = next(item for item in data if item["key_id"] == "vk_a")
    assert rotated["key_prefix"] == "sk-gw-NEWNEW"
    unknown = next(item for item in data if item["key_id"] == "vk_b")
    assert unknown["key_prefix"] == "sk-gw-BBBBBB"


def test_breakdown_by_model_qualifies_names(store: Store) -> None:
    data = analytics.breakdown(store, LogFilter(), "model", 10)["data"]

    assert [item["name"] for item in data] == [
        "anthropic/claude-3-5-haiku",
        "openai/gpt-4o",
    ]
    assert "key_prefix" not in data[0]


@pytest.mark.parametrize(
    ("by", "names"),
    [("endpoint", ["haiku", "gpt4o"]), ("provider", ["anthropic", "openai"])],
)
def test_breakdown_by_column(store: Store, by: str, names: list[str]) -> None:
    data = analytics.breakdown(store, LogFilter(), by, 10)["data"]  # type: ignore[arg-type]

    assert [item["name"] for item in data] == names


def test_breakdown_limit(store: Store) -> None:
    data = analytics.breakdown(store, LogFilter(), "model", 1)["data"]

    assert len(data) == 1


def test_onboarding_next_step(store: Store) -> None:
    result = onboarding(store)

    assert [step["id"] for step in result["steps"]] == [
        "provider_key",
        "endpoint",
        "playground",
        "guardrail",
    ]
    assert result["next"] == "provider_key"


def test_spend_rounded_without_float_noise(tmp_path: Path) -> None:
    # 0.1 + 0.2 sums to 0.30000000000000004 in binary floating point.
    opened = Store.open(tmp_path / "noise.duckdb")
    opened.insert_logs([row(1, cost_usd=0.1), row(2, cost_usd=0.2)])
    try:
        summary = analytics.summary(opened, LogFilter())
        bucket = analytics.timeseries(opened, LogFilter(), "hour")["data"][0]
        (group,) = analytics.breakdown(opened, LogFilter(), "model", 10)["data"]
    finally:
        opened.close()

    assert summary["spend_usd"] == 0.3
    assert bucket["spend_usd"] == 0.3
    assert group["spend_usd"] == 0.3

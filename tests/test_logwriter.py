"""The batched request-log writer: buffering, background writes, retries, the bound."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gateway.logwriter import LogWriter
from gateway.models import LogRow, VirtualKey
from gateway.periods import PERIOD_EPOCH
from gateway.spend import SpendLedger
from gateway.store import LogFilter, Store

NOW = datetime(2026, 12, 4, 15, 30, tzinfo=UTC)


class FakeLogStore:
    """Record inserted rows and saved spend, in place of the DuckDB store."""

    def __init__(self) -> None:
        self.rows: list[LogRow] = []
        self.batches = 0
        self.spend: dict[tuple[str, datetime], float] = {}
        self.failures_left = 0
        self.inserted = threading.Event()

    def insert_logs(self, rows: Sequence[LogRow]) -> None:
        if self.failures_left:
            self.failures_left -= 1
            raise OSError("database is locked")
        self.rows.extend(rows)
        self.batches += 1
        self.inserted.set()

    def load_spend(self) -> dict[tuple[str, datetime], float]:
        return dict(self.spend)

    def save_spend(self, items: dict[tuple[str, datetime], float]) -> None:
        self.spend.update(items)


def make_row(number: int) -> LogRow:
    return LogRow(
        request_id=f"req_{number:06d}",
        ts=NOW,
        source="api",
        status=200,
        key_id="vk_1",
        key_prefix="sk-gw-Ab12Cd",
        endpoint="gpt4o",
        provider="openai",
        model="gpt-4o",
        prompt_tokens=10,
        completion_tokens=5,
        cost_usd=0.001,
        latency_ms=12.5,
        guardrail_actions=["pii:mask"],
    )


def make_writer(
    store: FakeLogStore, flush_seconds: float = 1.0, max_pending: int = 100_000
) -> LogWriter:
    ledger = SpendLedger(store)
    return LogWriter(
        store, ledger, flush_seconds=flush_seconds, max_pending=max_pending
    )


def test_add_buffers_until_flush() -> None:
    store = FakeLogStore()
    writer = make_writer(store)
    for number in range(3):
        writer.add(make_row(number))

    assert store.rows == []
    assert writer.stats()["pending"] == 3

    assert writer.flush() == 3
    assert [row.request_id for row in store.rows] == [
        "req_000000",
        "req_000001",
        "req_000002",
    ]
    assert writer.stats()["written"] == 3
    assert writer.stats()["pending"] == 0


def test_thread_writes_within_interval() -> None:
    store = FakeLogStore()
    writer = make_writer(store, flush_seconds=0.05)
    writer.start()
    try:
        writer.add(make_row(1))
        assert store.inserted.wait(timeout=30)
    finally:
        writer.stop()
    assert len(store.rows) == 1


def test_stop_writes_rows_and_spend() -> None:
    store = FakeLogStore()
    ledger = SpendLedger(store)
    writer = LogWriter(store, ledger, flush_seconds=60)
    writer.start()
    key = VirtualKey(id="vk_1", name="k", key_hash="0" * 64, key_prefix="sk-gw-Ab12Cd")
    ledger.settle(ledger.reserve(key, 0.1, NOW), 0.05)
    for number in range(100):
        writer.add(make_row(number))

    writer.stop()

    assert len(store.rows) == 100
    assert store.spend == {("vk_1", PERIOD_EPOCH): 0.05}
    assert writer.stats()["pending"] == 0


def test_failed_write_keeps_rows_in_order(caplog: pytest.LogCaptureFixture) -> None:
    store = FakeLogStore()
    store.failures_left = 2
    writer = make_writer(store)
    writer.add(make_row(1))
    writer.add(make_row(2))

    with caplog.at_level(logging.ERROR, logger="gateway.logwriter"):
        assert writer.flush() == 0
        writer.add(make_row(3))
        assert writer.flush() == 0

    failures = [r for r in caplog.records if "failed" in r.getMessage()]
    assert len(failures) == 1
    assert "writing 2 request log rows failed" in failures[0].getMessage()
    assert "database is locked" in failures[0].getMessage()
    assert writer.stats()["failed_passes"] == 2

    assert writer.flush() == 3
    assert [row.request_id for row in store.rows] == [
        "req_000001",
        "req_000002",
        "req_000003",
    ]
    assert writer.stats()["failed_passes"] == 0


def test_bound_drops_oldest_rows(caplog: pytest.LogCaptureFixture) -> None:
    store = FakeLogStore()
    writer = make_writer(store, max_pending=3)
    for number in range(5):
        writer.add(make_row(number))

    with caplog.at_level(logging.ERROR, logger="gateway.logwriter"):
        writer.flush()

    assert [row.request_id for row in store.rows] == [
        "req_000002",
        "req_000003",
        "req_000004",
    ]
    assert writer.stats()["dropped"] == 2
    drops = [r.getMessage() for r in caplog.records if "dropped" in r.getMessage()]
    assert drops == [
        "dropped the 2 oldest request log rows because 3 rows were waiting "
        "to be written; check that the database is writable"
    ]


def test_bound_applies_to_requeued_rows() -> None:
    store = FakeLogStore()
    store.failures_left = 1
    writer = make_writer(store, max_pending=4)
    for number in range(3):
        writer.add(make_row(number))
    writer.flush()
    for number in range(3, 6):
        writer.add(make_row(number))

    assert writer.stats()["pending"] == 4
    assert writer.flush() == 4
    assert [row.request_id for row in store.rows] == [
        f"req_00000{n}" for n in range(2, 6)
    ]
    assert writer.stats()["dropped"] == 2


def test_stop_reports_unwritten_rows(caplog: pytest.LogCaptureFixture) -> None:
    store = FakeLogStore()
    store.failures_left = 1
    writer = make_writer(store)
    writer.add(make_row(1))

    with caplog.at_level(logging.ERROR, logger="gateway.logwriter"):
        writer.stop()

    messages = [r.getMessage() for r in caplog.records]
    assert any("stopped with 1 rows unwritten" in message for message in messages)


def test_concurrent_adds_all_written() -> None:
    store = FakeLogStore()
    writer = make_writer(store, flush_seconds=0.01)
    writer.start()

    def add_many(offset: int) -> None:
        for number in range(offset, offset + 1000):
            writer.add(make_row(number))

    threads = [threading.Thread(target=add_many, args=(n * 1000,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    writer.stop()

    assert len(store.rows) == 8000
    assert len({row.request_id for row in store.rows}) == 8000
    assert writer.stats()["written"] == 8000


def test_invalid_settings_rejected() -> None:
    store = FakeLogStore()
    with pytest.raises(ValueError, match="flush_seconds"):
        make_writer(store, flush_seconds=0)
    with pytest.raises(ValueError, match="max_pending"):
        make_writer(store, max_pending=0)


def test_real_store_rows_readable_after_stop(tmp_path: Path) -> None:
    path = tmp_path / "gateway.duckdb"
    store = Store.open(path)
    ledger = SpendLedger(store)
    writer = LogWriter(store, ledger, flush_seconds=60)
    writer.start()
    key = VirtualKey(id="vk_1", name="k", key_hash="0" * 64, key_prefix="sk-gw-Ab12Cd")
    ledger.settle(ledger.reserve(key, 1.0, NOW), 0.25)
    for number in range(50):
        writer.add(make_row(number))

    writer.stop()
    store.close()

    reopened = Store.open(path)
    try:
        total, rows = reopened.query_logs(
            LogFilter(), limit=100, offset=0, with_bodies=False
        )
        spend = reopened.load_spend()
    finally:
        reopened.close()
    assert total == 50
    assert {row["request_id"] for row in rows} == {f"req_{n:06d}" for n in range(50)}
    assert rows[0]["guardrail_actions"] == ["pii:mask"]
    assert spend == {("vk_1", PERIOD_EPOCH): 0.25}

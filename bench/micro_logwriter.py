"""Micro-benchmark: sustained rows per second of the log writer into a DuckDB file.

A producer thread adds `ROWS` rows as fast as it can while the writer's own
thread flushes them, pausing whenever `MAX_WAITING` rows wait so that the
writer never drops rows. The rate counts from the first `add` until the
store contains every row, so it is the rate the writer sustains.
"""

from __future__ import annotations

import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from bench.micro import save
from gateway.logwriter import LogWriter
from gateway.models import LogRow
from gateway.spend import SpendLedger
from gateway.store import LogFilter, Store

ROWS = 500_000
MAX_WAITING = 100_000


def make_row(index: int) -> LogRow:
    return LogRow(
        request_id=uuid.uuid4().hex,
        ts=datetime.now(UTC),
        source="api",
        status=200 if index % 20 else 429,
        key_id=f"key-{index % 50}",
        key_prefix="sk-gw-bench0",
        endpoint=f"chat-{index % 7}",
        provider="openai",
        model="gpt-4o-mini",
        prompt_tokens=12,
        completion_tokens=7,
        cost_usd=0.0000063,
        latency_ms=1.5,
        upstream_ms=0.4,
    )


def produce(writer: LogWriter, rows: list[LogRow]) -> None:
    for index, row in enumerate(rows):
        writer.add(row)
        if index % 1000 == 0:
            while writer.stats()["pending"] >= MAX_WAITING:
                time.sleep(0.001)


def main() -> int:
    rows = [make_row(index) for index in range(ROWS)]
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(Path(tmp) / "gateway.duckdb")
        writer = LogWriter(store, SpendLedger(store), flush_seconds=0.2)
        writer.start()
        started = time.perf_counter()
        producer = threading.Thread(target=produce, args=(writer, rows))
        producer.start()
        producer.join()
        add_seconds = time.perf_counter() - started
        while writer.stats()["written"] < ROWS and writer.stats()["dropped"] == 0:
            time.sleep(0.01)
        total_seconds = time.perf_counter() - started
        stats = writer.stats()
        writer.stop()
        stored = store.log_summary(LogFilter())["requests"]
        store.close()
    save(
        "logwriter",
        {
            "rows": ROWS,
            "rows_per_second": ROWS / total_seconds,
            "producer_seconds": add_seconds,
            "seconds": total_seconds,
            "stored": stored,
            "writer_stats": stats,
        },
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

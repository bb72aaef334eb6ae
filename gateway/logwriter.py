"""The batched request-log writer.

The data plane calls `add` on the event loop. It appends to an in-memory
buffer under a lock that a flush holds only to swap the buffer out, so it
never waits for the database. A daemon thread writes the buffer with
`store.insert_logs` at least every `flush_seconds`, and flushes the spend
ledger in the same pass.

If a write fails, its rows go back to the front of the buffer for the next
pass. The buffer holds at most `max_pending` rows; beyond that the oldest
rows are dropped and counted, so a store that stays down cannot exhaust
memory.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from typing import Protocol

from gateway.models import LogRow

logger = logging.getLogger(__name__)

DEFAULT_MAX_PENDING = 200_000
# A pass starts early once this many rows wait, so bursts are written in
# batches of about this size rather than one large batch per interval.
_EARLY_FLUSH_ROWS = 5_000


class LogStore(Protocol):
    def insert_logs(self, rows: list[LogRow]) -> None: ...


class Flushable(Protocol):
    def flush(self) -> int: ...


class LogWriter:
    def __init__(
        self,
        store: LogStore,
        ledger: Flushable,
        flush_seconds: float = 1.0,
        max_pending: int = DEFAULT_MAX_PENDING,
    ) -> None:
        if flush_seconds <= 0:
            raise ValueError(f"flush_seconds must be positive, got {flush_seconds}")
        if max_pending < 1:
            raise ValueError(f"max_pending must be at least 1, got {max_pending}")
        self._store = store
        self._ledger = ledger
        self._flush_seconds = flush_seconds
        self._max_pending = max_pending
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._pending: deque[LogRow] = deque()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._written = 0
        self._dropped = 0
        self._unreported_drops = 0
        self._failed_passes = 0
        self._ledger_failing = False

    def add(self, row: LogRow) -> None:
        """Buffer one row for the next write, without waiting for the database."""
        with self._lock:
            if len(self._pending) >= self._max_pending:
                self._pending.popleft()
                self._dropped += 1
                self._unreported_drops += 1
            self._pending.append(row)
            wake = len(self._pending) == _EARLY_FLUSH_ROWS
        if wake:
            self._wake.set()

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stopping.clear()
        self._thread = threading.Thread(
            target=self._run, name="gateway-log-writer", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread, then write everything still buffered and the spend."""
        thread = self._thread
        if thread is not None:
            self._stopping.set()
            self._wake.set()
            thread.join()
            self._thread = None
        self.flush()

        lost = self.stats()["pending"]
        if lost:
            logger.error(
                "request log writer stopped with %d rows unwritten; they are lost",
                lost,
            )

    def stats(self) -> dict[str, int]:
        """Counters: rows written, pending, dropped, and failed write passes."""
        with self._lock:
            return {
                "written": self._written,
                "pending": len(self._pending),
                "dropped": self._dropped,
                "failed_passes": self._failed_passes,
            }

    def flush(self) -> int:
        """Write the buffered rows and the spend now, and return the rows written."""
        with self._flush_lock:
            written = self._write_rows()
            self._flush_ledger()
            self._report_drops()
            return written

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._wake.wait(self._flush_seconds)
            self._wake.clear()
            if self._stopping.is_set():
                return
            try:
                self.flush()
            except Exception:
                # flush handles store errors itself, so this is a bug. The
                # thread survives it to keep writing later rows.
                logger.exception("request log writer pass failed")

    def _write_rows(self) -> int:
        with self._lock:
            rows = list(self._pending)
            self._pending.clear()
        if not rows:
            return 0
        try:
            self._store.insert_logs(rows)
        # NOTE: a row that the store rejects on its own fails its whole batch on
        # every pass, until the bound drops it with the rows around it.
        except Exception as exc:
            self._requeue(rows, exc)
            return 0

        with self._lock:
            self._written += len(rows)
            recovered_after = self._failed_passes
            self._failed_passes = 0
        if recovered_after:
            logger.info(
                "request log writes recovered after %d failed passes; wrote %d rows",
                recovered_after,
                len(rows),
            )
        return len(rows)

    def _requeue(self, rows: list[LogRow], exc: Exception) -> None:
        """Put failed rows back before newer ones; drop the oldest over the bound."""
        with self._lock:
            self._failed_passes += 1
            first_failure = self._failed_passes == 1
            self._pending.extendleft(reversed(rows))
            overflow = len(self._pending) - self._max_pending
            for _ in range(max(0, overflow)):
                self._pending.popleft()
            self._dropped += max(0, overflow)
            self._unreported_drops += max(0, overflow)
            pending = len(self._pending)
        if first_failure:
            logger.error(
                "writing %d request log rows failed (%s: %s); keeping %d rows "
                "buffered and retrying every %.1f s",
                len(rows),
                type(exc).__name__,
                exc,
                pending,
                self._flush_seconds,
            )

    def _flush_ledger(self) -> None:
        try:
            self._ledger.flush()
        except Exception as exc:
            if not self._ledger_failing:
                logger.error(
                    "writing spend totals failed (%s: %s); they stay in memory "
                    "and are retried on every pass",
                    type(exc).__name__,
                    exc,
                )
            self._ledger_failing = True
            return
        if self._ledger_failing:
            logger.info("writing spend totals recovered")
        self._ledger_failing = False

    def _report_drops(self) -> None:
        with self._lock:
            dropped = self._unreported_drops
            self._unreported_drops = 0
        if dropped:
            logger.error(
                "dropped the %d oldest request log rows because %d rows were "
                "waiting to be written; check that the database is writable",
                dropped,
                self._max_pending,
            )

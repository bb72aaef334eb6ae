"""The DuckDB store: the only module that speaks SQL.

One connection, guarded by a lock, serves every thread: the log writer
inserts from a background thread while admin requests read and write from
the server's worker threads. Times go in as naive UTC `TIMESTAMP` values and
come out as aware UTC datetimes. Provider secrets arrive here already
encrypted; virtual keys arrive as a SHA-256 hash and a display prefix.
"""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import duckdb
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pa_parquet

from gateway.migrations import apply_migrations
from gateway.models import Endpoint, Guardrail, LogRow, VirtualKey

ExportFormat = Literal["csv", "parquet"]
Bucket = Literal["hour", "day"]
BreakdownBy = Literal["model", "key", "endpoint", "provider"]

_TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "provider_keys": (
        "id",
        "name",
        "provider",
        "secret_encrypted",
        "api_base",
        "created_at",
    ),
    "endpoints": tuple(Endpoint.__dataclass_fields__),
    "virtual_keys": tuple(VirtualKey.__dataclass_fields__),
    "guardrails": tuple(Guardrail.__dataclass_fields__),
}

_LOG_COLUMNS = tuple(LogRow.__dataclass_fields__)
_BODY_COLUMNS = ("request_body", "response_body")

_LOG_SCHEMA = pa.schema(
    [
        ("request_id", pa.string()),
        ("ts", pa.timestamp("us")),
        ("source", pa.string()),
        ("status", pa.int32()),
        ("key_id", pa.string()),
        ("key_prefix", pa.string()),
        ("endpoint", pa.string()),
        ("provider", pa.string()),
        ("model", pa.string()),
        ("error_code", pa.string()),
        ("prompt_tokens", pa.int64()),
        ("completion_tokens", pa.int64()),
        ("cost_usd", pa.float64()),
        ("latency_ms", pa.float64()),
        ("upstream_ms", pa.float64()),
        ("stream", pa.bool_()),
        ("guardrail_actions", pa.list_(pa.string())),
        ("request_body", pa.string()),
        ("response_body", pa.string()),
    ]
)

# `model` in a log row may or may not carry the provider prefix; this shows it once.
_QUALIFIED_MODEL = (
    "CASE WHEN provider IS NULL OR model IS NULL "
    "OR starts_with(model, provider || '/') "
    "THEN model ELSE provider || '/' || model END"
)

# Each breakdown groups by raw columns and names the group afterwards, because
# building the qualified model name once per group is cheaper than per row.
_BREAKDOWN_GROUPS: dict[str, tuple[str, str]] = {
    "model": ("provider, model", _QUALIFIED_MODEL),
    "endpoint": ("endpoint", "endpoint"),
    "provider": ("provider", "provider"),
    "key": ("key_id", "key_id"),
}


@dataclass(frozen=True, repr=False)
class StoredProviderKey:
    """A provider key row whose secret is a `SecretBox` token, never plain text."""

    id: str
    name: str
    provider: str
    secret_encrypted: str
    api_base: str | None
    created_at: datetime

    def __repr__(self) -> str:
        return f"StoredProviderKey(id={self.id!r}, provider={self.provider!r})"


@dataclass(frozen=True)
class LogFilter:
    """Filters of the request log; `None` filters nothing. `end` is exclusive."""

    start: datetime | None = None
    end: datetime | None = None
    key_id: str | None = None
    endpoint: str | None = None
    model: str | None = None
    status: Literal["ok", "error"] | int | None = None
    source: str | None = None


@dataclass(frozen=True)
class OnboardingState:
    has_provider_key: bool
    has_endpoint: bool
    has_playground_success: bool
    has_active_guardrail: bool


class Store:
    def __init__(self, conn: duckdb.DuckDBPyConnection, path: Path) -> None:
        self._conn = conn
        self._lock = threading.RLock()
        self.path = path

    @classmethod
    def open(cls, path: Path) -> Store:
        """Open or create the database file and bring its schema up to date."""
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = duckdb.connect(str(path))
        try:
            conn.execute("SET TimeZone = 'UTC'")
            apply_migrations(conn)
        except Exception:
            conn.close()
            raise
        return cls(conn, path)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def checkpoint(self) -> None:
        """Write the write-ahead log into the database file."""
        with self._lock:
            self._conn.execute("CHECKPOINT").fetchall()

    def schema_version(self) -> int:
        return int(self._one("SELECT max(version) FROM schema_version")[0])

    # Provider keys

    def insert_provider_key(self, key: StoredProviderKey) -> None:
        self._insert("provider_keys", asdict(key))

    def list_provider_keys(self) -> list[StoredProviderKey]:
        rows = self._select("SELECT * FROM provider_keys ORDER BY created_at, id")
        return [StoredProviderKey(**_read_times(row)) for row in rows]

    def get_provider_key(self, key_id: str) -> StoredProviderKey | None:
        rows = self._select("SELECT * FROM provider_keys WHERE id = ?", [key_id])
        return StoredProviderKey(**_read_times(rows[0])) if rows else None

    def update_provider_key(self, key_id: str, changes: dict[str, Any]) -> bool:
        return self._update("provider_keys", key_id, changes)

    def delete_provider_key(self, key_id: str) -> bool:
        return self._delete("provider_keys", key_id)

    # Endpoints

    def insert_endpoint(self, endpoint: Endpoint) -> None:
        self._insert("endpoints", asdict(endpoint))

    def list_endpoints(self) -> list[Endpoint]:
        rows = self._select("SELECT * FROM endpoints ORDER BY created_at, id")
        return [_endpoint(row) for row in rows]

    def get_endpoint(self, endpoint_id: str) -> Endpoint | None:
        rows = self._select("SELECT * FROM endpoints WHERE id = ?", [endpoint_id])
        return _endpoint(rows[0]) if rows else None

    def update_endpoint(self, endpoint_id: str, changes: dict[str, Any]) -> bool:
        return self._update("endpoints", endpoint_id, changes)

    def delete_endpoint(self, endpoint_id: str) -> bool:
        return self._delete("endpoints", endpoint_id)

    def count_endpoints(self) -> int:
        return int(self._one("SELECT count(*) FROM endpoints")[0])

    # Virtual keys

    def insert_virtual_key(self, key: VirtualKey) -> None:
        self._insert("virtual_keys", asdict(key))

    def list_virtual_keys(self) -> list[VirtualKey]:
        rows = self._select("SELECT * FROM virtual_keys ORDER BY created_at, id")
        return [_virtual_key(row) for row in rows]

    def get_virtual_key(self, key_id: str) -> VirtualKey | None:
        rows = self._select("SELECT * FROM virtual_keys WHERE id = ?", [key_id])
        return _virtual_key(rows[0]) if rows else None

    def update_virtual_key(self, key_id: str, changes: dict[str, Any]) -> bool:
        return self._update("virtual_keys", key_id, changes)

    # Guardrails

    def insert_guardrail(self, guardrail: Guardrail) -> None:
        self._insert("guardrails", asdict(guardrail))

    def list_guardrails(self) -> list[Guardrail]:
        rows = self._select("SELECT * FROM guardrails ORDER BY created_at, id")
        return [_guardrail(row) for row in rows]

    def get_guardrail(self, guardrail_id: str) -> Guardrail | None:
        rows = self._select("SELECT * FROM guardrails WHERE id = ?", [guardrail_id])
        return _guardrail(rows[0]) if rows else None

    def update_guardrail(self, guardrail_id: str, changes: dict[str, Any]) -> bool:
        return self._update("guardrails", guardrail_id, changes)

    def delete_guardrail(self, guardrail_id: str) -> bool:
        return self._delete("guardrails", guardrail_id)

    # Spend

    def load_spend(self) -> dict[tuple[str, datetime], float]:
        rows = self._select("SELECT key_id, period_start, spend_usd FROM key_spend")
        return {
            (row["key_id"], _utc(row["period_start"])): float(row["spend_usd"])
            for row in rows
        }

    def save_spend(self, items: dict[tuple[str, datetime], float]) -> None:
        """Store absolute spend totals, replacing those of the same key and period."""
        if not items:
            return
        params = [
            [key_id, _naive(start), amount] for (key_id, start), amount in items.items()
        ]
        with self._lock:
            self._conn.executemany(
                "INSERT OR REPLACE INTO key_spend VALUES (?, ?, ?)", params
            )

    # Request logs

    def insert_logs(self, rows: Sequence[LogRow]) -> None:
        """Append log rows in one columnar insert."""
        if not rows:
            return
        columns: dict[str, list[Any]] = {name: [] for name in _LOG_COLUMNS}
        for row in rows:
            for name in _LOG_COLUMNS:
                columns[name].append(getattr(row, name))
        columns["ts"] = [_naive(ts) for ts in columns["ts"]]
        table = pa.table(columns, schema=_LOG_SCHEMA)
        with self._lock:
            self._conn.register("incoming_logs", table)
            try:
                self._conn.execute(
                    "INSERT INTO request_logs SELECT * FROM incoming_logs"
                ).fetchall()
            finally:
                self._conn.unregister("incoming_logs")

    def query_logs(
        self, where: LogFilter, *, limit: int, offset: int, with_bodies: bool
    ) -> tuple[int, list[dict[str, Any]]]:
        """Return the number of matching rows and one page of them, newest first."""
        clause, params = _log_where(where)
        total = int(self._one(f"SELECT count(*) FROM request_logs {clause}", params)[0])
        sql = (
            f"SELECT {_log_columns(with_bodies)} FROM request_logs {clause} "
            "ORDER BY ts DESC, request_id LIMIT ? OFFSET ?"
        )
        rows = self._select(sql, [*params, limit, offset])
        return total, [_read_times(row) for row in rows]

    def get_log(self, request_id: str, *, with_bodies: bool) -> dict[str, Any] | None:
        columns = _log_columns(with_bodies)
        sql = f"SELECT {columns} FROM request_logs WHERE request_id = ? LIMIT 1"
        rows = self._select(sql, [request_id])
        return _read_times(rows[0]) if rows else None

    def export_logs(
        self, where: LogFilter, fmt: ExportFormat, *, with_bodies: bool
    ) -> bytes:
        """Return the matching rows, newest first, as a CSV or Parquet file."""
        clause, params = _log_where(where)
        columns = _log_columns(with_bodies, as_text=fmt == "csv")
        sql = (
            f"SELECT {columns} FROM request_logs {clause} ORDER BY ts DESC, request_id"
        )
        with self._lock:
            table = self._conn.sql(sql, params=params).to_arrow_table()
        buffer = io.BytesIO()
        if fmt == "csv":
            pa_csv.write_csv(table, buffer)
        else:
            pa_parquet.write_table(table, buffer)
        return buffer.getvalue()

    # Analytics

    def log_summary(self, where: LogFilter) -> dict[str, Any]:
        """Total the matching rows. Latency quantiles count successful requests only."""
        clause, params = _log_where(where)
        sql = f"""
            SELECT count(*) AS requests,
                   count(*) FILTER (WHERE status >= 400) AS errors,
                   coalesce(sum(cost_usd), 0) AS spend_usd,
                   coalesce(sum(prompt_tokens), 0) AS prompt_tokens,
                   coalesce(sum(completion_tokens), 0) AS completion_tokens,
                   quantile_cont(latency_ms, [0.5, 0.95, 0.99])
                       FILTER (WHERE status < 400) AS latency
            FROM request_logs {clause}
        """
        return self._select(sql, params)[0]

    def log_timeseries(self, where: LogFilter, bucket: Bucket) -> list[dict[str, Any]]:
        """Return hour or day buckets that have requests, oldest first."""
        clause, params = _log_where(where)
        sql = f"""
            SELECT date_trunc(?, ts) AS bucket,
                   count(*) AS requests,
                   count(*) FILTER (WHERE status >= 400) AS errors,
                   coalesce(sum(cost_usd), 0) AS spend_usd,
                   coalesce(sum(prompt_tokens + completion_tokens), 0) AS total_tokens,
                   quantile_cont(latency_ms, [0.5, 0.95])
                       FILTER (WHERE status < 400) AS latency
            FROM request_logs {clause}
            GROUP BY 1 ORDER BY 1
        """
        rows = self._select(sql, [bucket, *params])
        return [_read_times(row) for row in rows]

    def log_breakdown(
        self, where: LogFilter, by: BreakdownBy, limit: int
    ) -> list[dict[str, Any]]:
        """Return the largest groups by spend, then by requests.

        By key, `key_prefix` is the key's current prefix, so a rotated key
        shows its new one. A deleted key keeps the prefix from its log rows.
        """
        clause, params = _log_where(where)
        columns, name = _BREAKDOWN_GROUPS[by]
        sql = f"""
            WITH grouped AS (
                SELECT {columns},
                       any_value(key_prefix) AS key_prefix,
                       count(*) AS requests,
                       count(*) FILTER (WHERE status >= 400) AS errors,
                       coalesce(sum(cost_usd), 0) AS spend_usd,
                       coalesce(sum(prompt_tokens + completion_tokens), 0)
                           AS total_tokens,
                       quantile_cont(latency_ms, 0.5) FILTER (WHERE status < 400)
                           AS latency_p50_ms
                FROM request_logs {clause}
                GROUP BY {columns}
            )
            SELECT {name} AS name,
                   coalesce(virtual_keys.key_prefix, grouped.key_prefix)
                       AS key_prefix,
                   requests, errors, spend_usd, total_tokens, latency_p50_ms,
                   virtual_keys.name AS key_name
            FROM grouped LEFT JOIN virtual_keys ON ? AND virtual_keys.id = {name}
            ORDER BY spend_usd DESC, requests DESC, name NULLS LAST
            LIMIT ?
        """
        return self._select(sql, [*params, by == "key", limit])

    def onboarding_state(self) -> OnboardingState:
        row = self._one(
            """
            SELECT (SELECT count(*) FROM provider_keys) > 0,
                   (SELECT count(*) FROM endpoints) > 0,
                   EXISTS (SELECT 1 FROM request_logs
                           WHERE source = 'playground' AND status = 200),
                   (SELECT count(*) FROM guardrails WHERE active) > 0
            """
        )
        return OnboardingState(*(bool(value) for value in row))

    # Generic helpers. Table and column names come from `_TABLE_COLUMNS`, not callers.

    def _insert(self, table: str, values: dict[str, Any]) -> None:
        columns = _TABLE_COLUMNS[table]
        placeholders = ", ".join("?" for _ in columns)
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})"
        with self._lock:
            self._conn.execute(
                sql, [_to_db(values[name]) for name in columns]
            ).fetchall()

    def _update(self, table: str, row_id: str, changes: dict[str, Any]) -> bool:
        unknown = set(changes) - set(_TABLE_COLUMNS[table]) | ({"id"} & set(changes))
        if unknown:
            raise ValueError(f"invalid columns to update in {table}: {sorted(unknown)}")
        if not changes:
            return self._exists(table, row_id)
        assignments = ", ".join(f"{name} = ?" for name in changes)
        params = [_to_db(value) for value in changes.values()]
        sql = f"UPDATE {table} SET {assignments} WHERE id = ? RETURNING id"
        return bool(self._select(sql, [*params, row_id]))

    def _delete(self, table: str, row_id: str) -> bool:
        return bool(
            self._select(f"DELETE FROM {table} WHERE id = ? RETURNING id", [row_id])
        )

    def _exists(self, table: str, row_id: str) -> bool:
        return bool(self._select(f"SELECT id FROM {table} WHERE id = ?", [row_id]))

    def _select(self, sql: str, params: Iterable[Any] = ()) -> list[dict[str, Any]]:
        with self._lock:
            cursor = self._conn.execute(sql, list(params))
            names = [column[0] for column in cursor.description or ()]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def _one(self, sql: str, params: Iterable[Any] = ()) -> tuple[Any, ...]:
        with self._lock:
            rows = self._conn.execute(sql, list(params)).fetchall()
        if not rows:
            raise LookupError(f"query returned no row: {sql.split()[0]}")
        return tuple(rows[0])


def _log_columns(with_bodies: bool, *, as_text: bool = False) -> str:
    """List the log columns to select; `as_text` renders lists and times for CSV."""
    names = [name for name in _LOG_COLUMNS if with_bodies or name not in _BODY_COLUMNS]
    if not as_text:
        return ", ".join(names)
    text = {
        "ts": "strftime(ts, '%Y-%m-%dT%H:%M:%S.%fZ') AS ts",
        "guardrail_actions": (
            "array_to_string(guardrail_actions, ';') AS guardrail_actions"
        ),
    }
    return ", ".join(text.get(name, name) for name in names)


def _log_where(where: LogFilter) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if where.start is not None:
        clauses.append("ts >= ?")
        params.append(_naive(where.start))
    if where.end is not None:
        clauses.append("ts < ?")
        params.append(_naive(where.end))
    for name in ("key_id", "endpoint", "source"):
        value = getattr(where, name)
        if value is not None:
            clauses.append(f"{name} = ?")
            params.append(value)
    if where.model is not None:
        clauses.append(f"(model = ? OR {_QUALIFIED_MODEL} = ?)")
        params.extend([where.model, where.model])
    if where.status == "ok":
        clauses.append("status < 400")
    elif where.status == "error":
        clauses.append("status >= 400")
    elif where.status is not None:
        clauses.append("status = ?")
        params.append(where.status)
    return ("WHERE " + " AND ".join(clauses)) if clauses else "", params


def _to_db(value: Any) -> Any:
    if isinstance(value, datetime):
        return _naive(value)
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, dict):
        return json.dumps(value)
    return value


def _naive(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC)


def _read_times(row: dict[str, Any]) -> dict[str, Any]:
    return {
        name: _utc(value) if isinstance(value, datetime) else value
        for name, value in row.items()
    }


def _endpoint(row: dict[str, Any]) -> Endpoint:
    row = _read_times(row)
    row["fallback_endpoint_ids"] = tuple(row["fallback_endpoint_ids"])
    return Endpoint(**row)


def _virtual_key(row: dict[str, Any]) -> VirtualKey:
    row = _read_times(row)
    for name in (
        "allowed_endpoints",
        "allowed_models",
        "blocked_models",
        "allowed_providers",
        "blocked_providers",
    ):
        row[name] = tuple(row[name])
    return VirtualKey(**row)


def _guardrail(row: dict[str, Any]) -> Guardrail:
    row = _read_times(row)
    row["config"] = json.loads(row["config"])
    return Guardrail(**row)

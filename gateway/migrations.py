"""Numbered schema migrations for the DuckDB store.

Each migration runs once, in order, inside a transaction, and records its
number in `schema_version`. Opening a database again applies only the
migrations it has not seen yet. Add a migration by appending to
`MIGRATIONS`; never edit one that has shipped.

Times are stored as naive `TIMESTAMP` values in UTC.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import duckdb

logger = logging.getLogger(__name__)

_V1_CONFIGURATION = """
CREATE TABLE provider_keys (
    id VARCHAR PRIMARY KEY,
    name VARCHAR NOT NULL,
    provider VARCHAR NOT NULL,
    secret_encrypted VARCHAR NOT NULL,
    api_base VARCHAR,
    created_at TIMESTAMP NOT NULL
);
CREATE TABLE endpoints (
    id VARCHAR PRIMARY KEY,
    slug VARCHAR NOT NULL,
    display_name VARCHAR NOT NULL,
    provider_key_id VARCHAR NOT NULL,
    model VARCHAR NOT NULL,
    system_prompt VARCHAR,
    temperature DOUBLE,
    max_tokens INTEGER,
    fallback_endpoint_ids VARCHAR[] NOT NULL,
    rpm_limit INTEGER,
    active BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE TABLE virtual_keys (
    id VARCHAR PRIMARY KEY,
    name VARCHAR NOT NULL,
    key_hash VARCHAR NOT NULL,
    key_prefix VARCHAR NOT NULL,
    allowed_endpoints VARCHAR[] NOT NULL,
    allowed_models VARCHAR[] NOT NULL,
    blocked_models VARCHAR[] NOT NULL,
    allowed_providers VARCHAR[] NOT NULL,
    blocked_providers VARCHAR[] NOT NULL,
    max_budget_usd DOUBLE,
    budget_period VARCHAR NOT NULL,
    rpm_limit INTEGER,
    tpm_limit INTEGER,
    expires_at TIMESTAMP,
    active BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE TABLE guardrails (
    id VARCHAR PRIMARY KEY,
    name VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,
    scope VARCHAR NOT NULL,
    action VARCHAR NOT NULL,
    config JSON NOT NULL,
    active BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL
);
"""

_V2_REQUEST_LOGS = """
CREATE TABLE request_logs (
    request_id VARCHAR NOT NULL,
    ts TIMESTAMP NOT NULL,
    source VARCHAR NOT NULL,
    status INTEGER NOT NULL,
    key_id VARCHAR,
    key_prefix VARCHAR,
    endpoint VARCHAR,
    provider VARCHAR,
    model VARCHAR,
    error_code VARCHAR,
    prompt_tokens BIGINT NOT NULL,
    completion_tokens BIGINT NOT NULL,
    cost_usd DOUBLE NOT NULL,
    latency_ms DOUBLE NOT NULL,
    upstream_ms DOUBLE NOT NULL,
    stream BOOLEAN NOT NULL,
    guardrail_actions VARCHAR[] NOT NULL,
    request_body VARCHAR,
    response_body VARCHAR
);
CREATE TABLE key_spend (
    key_id VARCHAR NOT NULL,
    period_start TIMESTAMP NOT NULL,
    spend_usd DOUBLE NOT NULL,
    PRIMARY KEY (key_id, period_start)
);
"""

MIGRATIONS: tuple[tuple[int, str], ...] = (
    (1, _V1_CONFIGURATION),
    (2, _V2_REQUEST_LOGS),
)


def current_version(conn: duckdb.DuckDBPyConnection) -> int:
    """Return the highest applied migration number, 0 for an empty database."""
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_version "
        "(version INTEGER PRIMARY KEY, applied_at TIMESTAMP NOT NULL)"
    )
    rows = conn.execute(
        "SELECT coalesce(max(version), 0) FROM schema_version"
    ).fetchall()
    return int(rows[0][0])


def apply_migrations(conn: duckdb.DuckDBPyConnection) -> int:
    """Apply every pending migration and return the resulting schema version."""
    version = current_version(conn)
    known = MIGRATIONS[-1][0]
    if version > known:
        raise RuntimeError(
            f"the database has schema version {version}, newer than this "
            f"gateway's {known}; upgrade the gateway or point --data-dir "
            "at another folder"
        )
    for number, script in MIGRATIONS:
        if number <= version:
            continue
        conn.execute("BEGIN TRANSACTION")
        try:
            conn.execute(script)
            applied_at = datetime.now(UTC).replace(tzinfo=None)
            conn.execute(
                "INSERT INTO schema_version VALUES (?, ?)", [number, applied_at]
            )
            conn.execute("COMMIT")
        except Exception:
            conn.execute("ROLLBACK")
            raise
        logger.info("applied schema migration %d", number)
        version = number
    return version

"""The DuckDB store: migrations, CRUD, spend, logs and secrets at rest."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gateway.crypto import load_or_create_secret_box
from gateway.keys import generate_key
from gateway.migrations import MIGRATIONS
from gateway.models import Endpoint, Guardrail, LogRow, VirtualKey
from gateway.store import LogFilter, Store, StoredProviderKey

NOW = datetime(2026, 12, 4, 15, 0, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(tmp_path / "gateway.duckdb")
    yield opened
    opened.close()


def provider_key(
    secret_encrypted: str = "token", key_id: str = "pk_1"
) -> StoredProviderKey:
    return StoredProviderKey(
        id=key_id,
        name=f"key {key_id}",
        provider="openai",
        secret_encrypted=secret_encrypted,
        api_base=None,
        created_at=NOW,
    )


def endpoint(endpoint_id: str = "ep_1", slug: str = "gpt4o") -> Endpoint:
    return Endpoint(
        id=endpoint_id,
        slug=slug,
        display_name="GPT-4o",
        provider_key_id="pk_1",
        model="openai/gpt-4o",
        temperature=0.2,
        fallback_endpoint_ids=("ep_2",),
        created_at=NOW,
    )


def virtual_key(plain_hash: str = "h" * 64, key_id: str = "vk_1") -> VirtualKey:
    return VirtualKey(
        id=key_id,
        name="backend",
        key_hash=plain_hash,
        key_prefix="sk-gw-Ab12Cd",
        allowed_endpoints=("gpt4o",),
        blocked_models=("gpt-4o*",),
        max_budget_usd=10.0,
        budget_period="monthly",
        expires_at=NOW + timedelta(days=30),
        created_at=NOW,
    )


def log_row(request_id: str, **fields: object) -> LogRow:
    values: dict[str, object] = {"ts": NOW, "source": "api", "status": 200}
    values.update(fields)
    return LogRow(request_id=request_id, **values)  # type: ignore[arg-type]


def test_migrations_idempotent_on_reopen(tmp_path: Path) -> None:
    path = tmp_path / "gateway.duckdb"
    first = Store.open(path)
    first.insert_endpoint(endpoint())
    first.close()

    second = Store.open(path)
    try:
        assert second.schema_version() == MIGRATIONS[-1][0]
        assert [item.slug for item in second.list_endpoints()] == ["gpt4o"]
    finally:
        second.close()


def test_provider_key_crud(store: Store) -> None:
    store.insert_provider_key(provider_key())

    assert store.get_provider_key("pk_1") == provider_key()
    assert store.update_provider_key("pk_1", {"api_base": "http://127.0.0.1:1"})
    assert store.list_provider_keys()[0].api_base == "http://127.0.0.1:1"
    assert store.delete_provider_key("pk_1")
    assert store.get_provider_key("pk_1") is None
    assert not store.delete_provider_key("pk_1")


def test_endpoint_round_trip(store: Store) -> None:
    store.insert_endpoint(endpoint())

    assert store.get_endpoint("ep_1") == endpoint()
    assert store.count_endpoints() == 1


def test_endpoint_update_changes_only_given_fields(store: Store) -> None:
    store.insert_endpoint(endpoint())

    assert store.update_endpoint("ep_1", {"slug": "fast", "fallback_endpoint_ids": ()})

    updated = store.get_endpoint("ep_1")
    assert updated is not None
    assert updated.slug == "fast"
    assert updated.fallback_endpoint_ids == ()
    assert updated.temperature == 0.2


def test_update_unknown_id_returns_false(store: Store) -> None:
    assert not store.update_endpoint("ep_missing", {"active": False})
    assert not store.update_endpoint("ep_missing", {})


def test_update_rejects_unknown_column(store: Store) -> None:
    store.insert_endpoint(endpoint())

    with pytest.raises(ValueError, match="nickname"):
        store.update_endpoint("ep_1", {"nickname": "x"})


def test_virtual_key_round_trip(store: Store) -> None:
    store.insert_virtual_key(virtual_key())

    assert store.get_virtual_key("vk_1") == virtual_key()
    assert store.update_virtual_key("vk_1", {"active": False})
    assert [key.active for key in store.list_virtual_keys()] == [False]


def test_guardrail_config_round_trip(store: Store) -> None:
    guardrail = Guardrail(
        id="gr_1",
        name="no secrets",
        kind="keyword",
        scope="both",
        action="mask",
        config={"words": ["alpha", "beta"]},
        created_at=NOW,
    )
    store.insert_guardrail(guardrail)

    assert store.get_guardrail("gr_1") == guardrail
    assert store.update_guardrail("gr_1", {"config": {"words": ["gamma"]}})
    assert store.list_guardrails()[0].config == {"words": ["gamma"]}
    assert store.delete_guardrail("gr_1")
    assert store.list_guardrails() == []


def test_spend_upsert_keeps_absolute_values(store: Store) -> None:
    start = datetime(2026, 12, 1, tzinfo=UTC)
    store.save_spend({("vk_1", start): 1.5})
    store.save_spend({("vk_1", start): 2.5, ("vk_2", start): 0.25})

    assert store.load_spend() == {("vk_1", start): 2.5, ("vk_2", start): 0.25}


def test_spend_period_start_is_aware_utc(store: Store) -> None:
    store.save_spend({("vk_1", datetime(2026, 12, 1, tzinfo=UTC)): 1.0})

    [(_, start)] = store.load_spend()
    assert start.tzinfo is UTC


def test_insert_logs_and_query_newest_first(store: Store) -> None:
    store.insert_logs(
        [
            log_row(
                "r1", ts=NOW - timedelta(minutes=2), guardrail_actions=["pii:mask"]
            ),
            log_row("r2", ts=NOW - timedelta(minutes=1), status=403, key_id="vk_1"),
            log_row("r3", ts=NOW, source="playground"),
        ]
    )

    total, rows = store.query_logs(LogFilter(), limit=2, offset=0, with_bodies=False)

    assert total == 3
    assert [row["request_id"] for row in rows] == ["r3", "r2"]
    assert "request_body" not in rows[0]
    assert store.get_log("r1", with_bodies=False)["guardrail_actions"] == ["pii:mask"]  # type: ignore[index]


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        (LogFilter(status="error"), ["r2"]),
        (LogFilter(status="ok"), ["r3", "r1"]),
        (LogFilter(status=403), ["r2"]),
        (LogFilter(key_id="vk_1"), ["r2"]),
        (LogFilter(source="playground"), ["r3"]),
        (LogFilter(model="openai/gpt-4o"), ["r1"]),
        (LogFilter(model="gpt-4o"), ["r1"]),
        (LogFilter(start=NOW - timedelta(minutes=1)), ["r3", "r2"]),
        (LogFilter(end=NOW - timedelta(minutes=1)), ["r1"]),
    ],
)
def test_log_filters(store: Store, where: LogFilter, expected: list[str]) -> None:
    store.insert_logs(
        [
            log_row(
                "r1", ts=NOW - timedelta(minutes=2), provider="openai", model="gpt-4o"
            ),
            log_row("r2", ts=NOW - timedelta(minutes=1), status=403, key_id="vk_1"),
            log_row("r3", ts=NOW, source="playground"),
        ]
    )

    _, rows = store.query_logs(where, limit=10, offset=0, with_bodies=False)

    assert [row["request_id"] for row in rows] == expected


def test_logs_from_another_thread(store: Store) -> None:
    def write(prefix: str) -> None:
        for index in range(20):
            store.insert_logs([log_row(f"{prefix}{index}")])

    threads = [threading.Thread(target=write, args=(name,)) for name in "abc"]
    for thread in threads:
        thread.start()
    for _ in range(20):
        store.query_logs(LogFilter(), limit=5, offset=0, with_bodies=False)
    for thread in threads:
        thread.join()

    assert store.query_logs(LogFilter(), limit=1, offset=0, with_bodies=False)[0] == 60


def test_export_csv_and_parquet(store: Store) -> None:
    store.insert_logs(
        [log_row("r1", guardrail_actions=["a", "b"]), log_row("r2", status=500)]
    )

    csv = store.export_logs(
        LogFilter(status="error"), "csv", with_bodies=False
    ).decode()
    parquet = store.export_logs(LogFilter(), "parquet", with_bodies=False)

    assert csv.splitlines()[0].startswith('"request_id","ts"')
    assert len(csv.splitlines()) == 2
    assert "2026-12-04T15:00:00.000000Z" in csv
    assert parquet.startswith(b"PAR1")


def test_onboarding_state_playground_needs_success(store: Store) -> None:
    store.insert_logs([log_row("r1", source="playground", status=502)])
    assert not store.onboarding_state().has_playground_success

    store.insert_logs([log_row("r2", source="playground", status=200)])
    assert store.onboarding_state().has_playground_success


def test_secrets_absent_from_database_file(tmp_path: Path) -> None:
    path = tmp_path / "gateway.duckdb"
    box = load_or_create_secret_box(tmp_path)
    provider_secret = "sk-provider-very-secret-0123456789"
    plain, key_hash, prefix = generate_key()
    store = Store.open(path)
    store.insert_provider_key(provider_key(box.encrypt(provider_secret)))
    store.insert_virtual_key(virtual_key(key_hash))
    store.checkpoint()
    store.close()

    data = path.read_bytes()
    wal = path.with_name(path.name + ".wal")
    if wal.exists():
        data += wal.read_bytes()

    # The hash is stored as written; finding it shows the bytes are searchable.
    assert key_hash.encode() in data
    assert provider_secret.encode() not in data
    assert plain.encode() not in data
    assert plain[len(prefix) :].encode() not in data

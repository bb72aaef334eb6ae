"""Micro-benchmark: authenticating a virtual key (SHA-256, then a snapshot lookup).

The snapshot is built from a real store containing `KEYS` keys, then the store is
closed. Every lookup after that runs with no database connection at all, so
the timing shows that authentication reads memory only.
"""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path

from bench.micro import per_call_us, save
from gateway.crypto import load_or_create_secret_box
from gateway.keys import generate_key, hash_key
from gateway.models import VirtualKey
from gateway.snapshot import build_snapshot
from gateway.store import Store

KEYS = 2_000


def build(folder: Path) -> tuple[object, list[str]]:
    store = Store.open(folder / "gateway.duckdb")
    plains = []
    for index in range(KEYS):
        plain, key_hash, prefix = generate_key()
        store.insert_virtual_key(
            VirtualKey(
                id=f"key-{index}",
                name=f"k{index}",
                key_hash=key_hash,
                key_prefix=prefix,
                created_at=datetime.now(UTC),
            )
        )
        plains.append(plain)
    snapshot = build_snapshot(store, load_or_create_secret_box(folder))
    store.close()
    return snapshot, plains


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        snapshot, plains = build(Path(tmp))
    keys_by_hash = snapshot.keys_by_hash  # type: ignore[attr-defined]
    known, unknown = plains[KEYS // 2], "sk-gw-" + "x" * 43

    def authenticate(plain: str = known) -> object:
        return keys_by_hash.get(hash_key(plain))

    assert authenticate() is not None, "a stored key was not found in the snapshot"
    assert authenticate(unknown) is None
    results = {
        "known key": per_call_us(authenticate, 100_000),
        "unknown key": per_call_us(lambda: authenticate(unknown), 100_000),
        "sha256 alone": per_call_us(lambda: hash_key(known), 100_000),
    }
    save(
        "auth",
        {
            "keys_in_snapshot": KEYS,
            "store_closed_before_timing": True,
            "cases": results,
        },
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

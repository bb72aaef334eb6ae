"""Secrets at rest: the Fernet box and the generated key files."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from pydantic import SecretStr

from gateway.crypto import (
    ADMIN_KEY_FILE,
    ENCRYPTION_KEY_FILE,
    load_or_create_admin_key,
    load_or_create_secret_box,
)
from gateway.settings import Settings


def file_mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_secret_box_round_trip(tmp_path: Path) -> None:
    box = load_or_create_secret_box(tmp_path)
    token = box.encrypt("sk-provider-secret-1234")

    assert "sk-provider-secret-1234" not in token
    assert box.decrypt(token) == "sk-provider-secret-1234"


def test_secret_box_key_file_is_private(tmp_path: Path) -> None:
    load_or_create_secret_box(tmp_path)

    assert file_mode(tmp_path / ENCRYPTION_KEY_FILE) == 0o600


def test_secret_box_reloads_same_key(tmp_path: Path) -> None:
    token = load_or_create_secret_box(tmp_path).encrypt("value")

    assert load_or_create_secret_box(tmp_path).decrypt(token) == "value"


def test_secret_box_rejects_other_key(tmp_path: Path) -> None:
    token = load_or_create_secret_box(tmp_path / "one").encrypt("value")
    other = load_or_create_secret_box(tmp_path / "two")

    with pytest.raises(ValueError, match="encryption.key"):
        other.decrypt(token)


def test_secret_box_repr_hides_key(tmp_path: Path) -> None:
    box = load_or_create_secret_box(tmp_path)
    key = (tmp_path / ENCRYPTION_KEY_FILE).read_text().strip()

    assert key not in repr(box)


def test_admin_key_generated_once_private(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)

    first = load_or_create_admin_key(settings)
    second = load_or_create_admin_key(settings)

    assert first == second
    assert len(first) >= 32
    assert (tmp_path / ADMIN_KEY_FILE).read_text().strip() == first
    assert file_mode(tmp_path / ADMIN_KEY_FILE) == 0o600


def test_admin_key_from_settings_writes_no_file(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path, admin_key=SecretStr("configured-admin-key-0123")
    )

    assert load_or_create_admin_key(settings) == "configured-admin-key-0123"
    assert not (tmp_path / ADMIN_KEY_FILE).exists()

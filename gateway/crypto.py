"""Secrets at rest: the Fernet box that encrypts provider secrets, and the admin key.

Both live in the data folder as files with mode 0600, created on first start.
Losing `encryption.key` makes the stored provider secrets unreadable, so it
belongs in the same backup as the DuckDB file.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Callable
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from gateway.settings import Settings

logger = logging.getLogger(__name__)

ENCRYPTION_KEY_FILE = "encryption.key"
ADMIN_KEY_FILE = "admin_key"
_ADMIN_KEY_BYTES = 32


class SecretBox:
    """Fernet encryption of short strings (AES-128-CBC with HMAC-SHA256)."""

    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(key)

    def __repr__(self) -> str:
        return "SecretBox(<key hidden>)"

    def encrypt(self, plain: str) -> str:
        return self._fernet.encrypt(plain.encode()).decode("ascii")

    def decrypt(self, token: str) -> str:
        """Return the plain text; raise `ValueError` for a token made by another key."""
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode()
        except (InvalidToken, UnicodeError) as exc:
            raise ValueError(
                "a stored secret cannot be decrypted with the data folder's "
                "encryption.key; restore the key file that belongs to this database"
            ) from exc


def load_or_create_secret_box(data_dir: Path) -> SecretBox:
    """Read `data_dir/encryption.key`, creating a random key on first start."""
    path = data_dir / ENCRYPTION_KEY_FILE
    key = _read_or_create(path, lambda: Fernet.generate_key().decode("ascii"))
    try:
        return SecretBox(key.encode("ascii"))
    except ValueError as exc:
        raise ValueError(
            f"{path} does not contain a valid Fernet key; restore it from a backup"
        ) from exc


def load_or_create_admin_key(settings: Settings) -> str:
    """Return `GATEWAY_ADMIN_KEY` if set, else the key in `data_dir/admin_key`.

    The file is created with a random key on first start.
    """
    if settings.admin_key is not None:
        return settings.admin_key.get_secret_value()
    path = settings.data_dir / ADMIN_KEY_FILE
    return _read_or_create(path, lambda: secrets.token_urlsafe(_ADMIN_KEY_BYTES))


def _read_or_create(path: Path, generate: Callable[[], str]) -> str:
    if path.exists():
        _warn_if_readable_by_others(path)
        return path.read_text().strip()

    path.parent.mkdir(parents=True, exist_ok=True)
    value = generate()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        # Another process created it between the check and the open; use theirs.
        return path.read_text().strip()
    with os.fdopen(fd, "w") as file:
        file.write(value + "\n")
    logger.info("created %s (mode 0600)", path)
    return value


def _warn_if_readable_by_others(path: Path) -> None:
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        logger.warning(
            "%s has mode %o; run 'chmod 600 %s' so only its owner can read it",
            path,
            mode,
            path,
        )

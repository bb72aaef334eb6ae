"""Virtual key secrets: generation, hashing and the display prefix."""

from __future__ import annotations

import hashlib
import secrets

from gateway.models import KEY_PREFIX

# 32 bytes of randomness is 256 bits, well over the 128 bits the key format promises.
_RANDOM_BYTES = 32
_DISPLAY_CHARS = 6


def generate_key() -> tuple[str, str, str]:
    """Create a key and return `(plain, sha256_hex, display_prefix)`."""
    plain = KEY_PREFIX + secrets.token_urlsafe(_RANDOM_BYTES)
    return plain, hash_key(plain), display_prefix(plain)


def hash_key(plain: str) -> str:
    return hashlib.sha256(plain.encode()).hexdigest()


def display_prefix(plain: str) -> str:
    """Return the part of a key that listings show, such as `sk-gw-Ab12Cd`."""
    return plain[: len(KEY_PREFIX) + _DISPLAY_CHARS]

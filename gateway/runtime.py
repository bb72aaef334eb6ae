"""The running service's parts, built at startup and closed at shutdown.

Routes reach it through `request.app.state.runtime`. Configuration that the
data plane reads on every request (keys, endpoints, guardrails) lives in an
immutable in-memory `Snapshot`, rebuilt after each admin write, so
authenticating a request never touches DuckDB.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

from gateway.crypto import (
    SecretBox,
    load_or_create_admin_key,
    load_or_create_secret_box,
)
from gateway.limits import Limiter
from gateway.logwriter import LogWriter
from gateway.settings import Settings
from gateway.snapshot import Snapshot, build_snapshot
from gateway.spend import SpendLedger
from gateway.store import Store

logger = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: Settings
    store: Store
    secret_box: SecretBox
    admin_key: str
    snapshot: Snapshot
    limiter: Limiter
    ledger: SpendLedger
    log_writer: LogWriter
    playground_succeeded: bool = False
    """Set once a playground request succeeds; onboarding reads it."""

    @classmethod
    def open(cls, settings: Settings) -> Runtime:
        settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        restrict_to_owner(settings.data_dir, 0o700)
        store = Store.open(settings.database_path)
        restrict_to_owner(settings.database_path, 0o600)
        secret_box = load_or_create_secret_box(settings.data_dir)
        admin_key = load_or_create_admin_key(settings)
        ledger = SpendLedger(store)
        log_writer = LogWriter(store, ledger, flush_seconds=settings.log_flush_seconds)
        runtime = cls(
            settings=settings,
            store=store,
            secret_box=secret_box,
            admin_key=admin_key,
            snapshot=build_snapshot(store, secret_box),
            limiter=Limiter(),
            ledger=ledger,
            log_writer=log_writer,
        )
        log_writer.start()
        return runtime

    def reload(self) -> None:
        """Rebuild the snapshot after an admin write; the swap is one assignment."""
        self.snapshot = build_snapshot(self.store, self.secret_box)

    def close(self) -> None:
        """Write buffered log rows and spend, then close the database."""
        self.log_writer.stop()
        self.ledger.flush()
        self.store.close()
        logger.info("gateway stopped; log rows and spend written")


def restrict_to_owner(path: Path, mode: int) -> None:
    """Give the data folder or database file to its owner only, as the secrets are.

    A folder that existed before, such as the `data/` of a fresh clone, keeps
    its old mode through `mkdir`, so the mode is set explicitly.
    """
    try:
        os.chmod(path, mode)
    except OSError as exc:
        logger.warning("could not set mode %o on %s: %s", mode, path, exc.strerror)

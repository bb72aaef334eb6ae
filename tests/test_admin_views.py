"""JSON shapes of admin API objects."""

from __future__ import annotations

from datetime import UTC, datetime

from gateway.admin_views import log_view, virtual_key_view
from gateway.models import VirtualKey

NOW = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)
NOISY_USD = 0.1 + 0.2


def test_log_view_rounds_cost() -> None:
    view = log_view({"ts": NOW, "cost_usd": NOISY_USD})

    assert view["cost_usd"] == 0.3
    assert view["ts"] == "2026-12-04T10:00:00Z"


def test_log_view_keeps_small_cost() -> None:
    assert log_view({"ts": NOW, "cost_usd": 1.5e-7})["cost_usd"] == 1.5e-7


def test_virtual_key_view_rounds_spend() -> None:
    key = VirtualKey(
        id="vk_a", name="backend", key_hash="0" * 64, key_prefix="sk-gw-AAAAAA"
    )

    view = virtual_key_view(key, NOISY_USD, NOW, NOW)

    assert view["spend_usd"] == 0.3

"""The spend ledger: reservations, settlement, budget periods and persistence."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone

import pytest

from gateway.errors import BudgetExceeded
from gateway.models import BudgetPeriod, VirtualKey
from gateway.periods import PERIOD_EPOCH, period_end, period_start
from gateway.spend import SpendKey, SpendLedger

NOW = datetime(2026, 12, 4, 15, 30, tzinfo=UTC)  # a Friday


class FakeSpendStore:
    """Record what the ledger saves, in place of the DuckDB store."""

    def __init__(self, initial: dict[SpendKey, float] | None = None) -> None:
        self.saved: dict[SpendKey, float] = dict(initial or {})
        self.calls: list[dict[SpendKey, float]] = []
        self.fail = False

    def load_spend(self) -> dict[SpendKey, float]:
        return dict(self.saved)

    def save_spend(self, items: dict[SpendKey, float]) -> None:
        if self.fail:
            raise OSError("disk full")
        self.calls.append(dict(items))
        self.saved.update(items)


def make_key(
    budget: float | None = None, period: BudgetPeriod = "none", key_id: str = "vk_1"
) -> VirtualKey:
    return VirtualKey(
        id=key_id,
        name=key_id,
        key_hash="0" * 64,
        key_prefix="sk-gw-Ab12Cd",
        max_budget_usd=budget,
        budget_period=period,
    )


def test_concurrent_reservations_exact() -> None:
    ledger = SpendLedger(FakeSpendStore())
    key = make_key(budget=0.3)
    barrier = threading.Barrier(8)

    def attempt(_: int) -> bool:
        barrier.wait()
        try:
            ledger.reserve(key, 0.1, NOW)
        except BudgetExceeded:
            return False
        return True

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(attempt, range(8)))

    assert results.count(True) == 3
    assert results.count(False) == 5


def test_exceeded_message_names_key_and_reset() -> None:
    ledger = SpendLedger(FakeSpendStore())
    key = make_key(budget=1.0, period="monthly")
    ledger.settle(ledger.reserve(key, 0.5, NOW), 0.9)

    with pytest.raises(BudgetExceeded) as caught:
        ledger.reserve(key, 0.2, NOW)

    error = caught.value
    assert error.status_code == 429
    assert error.code == "budget_exceeded"
    assert error.error_type == "insufficient_quota"
    assert "sk-gw-Ab12Cd" in error.message
    assert "$0.900000 of its $1.000000 monthly budget" in error.message
    assert "2026-12-01T00:00:00Z" in error.message
    assert "resets at 2027-01-01T00:00:00Z" in error.message
    assert "max_budget_usd" in error.message


def test_exceeded_message_without_period() -> None:
    ledger = SpendLedger(FakeSpendStore())
    with pytest.raises(BudgetExceeded) as caught:
        ledger.reserve(make_key(budget=0.1), 0.2, NOW)
    assert "does not reset" in caught.value.message


def test_settle_below_reservation_frees_budget() -> None:
    ledger = SpendLedger(FakeSpendStore())
    key = make_key(budget=1.0)
    first = ledger.reserve(key, 0.6, NOW)
    with pytest.raises(BudgetExceeded):
        ledger.reserve(key, 0.6, NOW)

    ledger.settle(first, 0.1)

    spent, start = ledger.current_spend(key, NOW)
    assert spent == pytest.approx(0.1)
    assert start == PERIOD_EPOCH
    ledger.reserve(key, 0.6, NOW)


def test_settle_above_reservation_counts_actual() -> None:
    ledger = SpendLedger(FakeSpendStore())
    key = make_key(budget=1.0)
    ledger.settle(ledger.reserve(key, 0.1, NOW), 0.7)

    spent, _ = ledger.current_spend(key, NOW)
    assert spent == pytest.approx(0.7)
    with pytest.raises(BudgetExceeded):
        ledger.reserve(key, 0.4, NOW)


def test_settle_twice_counts_once() -> None:
    ledger = SpendLedger(FakeSpendStore())
    key = make_key()
    reservation = ledger.reserve(key, 0.1, NOW)
    ledger.settle(reservation, 0.2)
    ledger.settle(reservation, 0.2)
    assert ledger.current_spend(key, NOW)[0] == pytest.approx(0.2)


def test_spent_budget_denies_free_requests() -> None:
    ledger = SpendLedger(FakeSpendStore())
    key = make_key(budget=0.5)
    ledger.settle(ledger.reserve(key, 0.5, NOW), 0.5)
    with pytest.raises(BudgetExceeded):
        ledger.reserve(key, 0.0, NOW)


def test_no_budget_still_tracks_spend() -> None:
    ledger = SpendLedger(FakeSpendStore())
    key = make_key()
    for _ in range(3):
        ledger.settle(ledger.reserve(key, 1000.0, NOW), 2.5)
    assert ledger.current_spend(key, NOW)[0] == pytest.approx(7.5)


@pytest.mark.parametrize(
    ("period", "start", "next_start"),
    [
        ("daily", datetime(2026, 12, 4, tzinfo=UTC), datetime(2026, 12, 5, tzinfo=UTC)),
        (
            "weekly",
            datetime(2026, 11, 30, tzinfo=UTC),
            datetime(2026, 12, 7, tzinfo=UTC),
        ),
        (
            "monthly",
            datetime(2026, 12, 1, tzinfo=UTC),
            datetime(2027, 1, 1, tzinfo=UTC),
        ),
    ],
)
def test_budget_resets_each_period(
    period: BudgetPeriod, start: datetime, next_start: datetime
) -> None:
    ledger = SpendLedger(FakeSpendStore())
    key = make_key(budget=1.0, period=period)
    ledger.settle(ledger.reserve(key, 1.0, NOW), 1.0)
    with pytest.raises(BudgetExceeded):
        ledger.reserve(key, 0.1, NOW)

    assert ledger.current_spend(key, NOW) == (1.0, start)
    assert ledger.current_spend(key, next_start) == (0.0, next_start)
    ledger.reserve(key, 0.5, next_start)


@pytest.mark.parametrize(
    ("period", "now", "start"),
    [
        ("none", NOW, PERIOD_EPOCH),
        (
            "daily",
            datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC),
            datetime(2026, 12, 31, tzinfo=UTC),
        ),
        (
            "weekly",
            datetime(2026, 12, 6, 23, 0, tzinfo=UTC),
            datetime(2026, 11, 30, tzinfo=UTC),
        ),
        (
            "weekly",
            datetime(2026, 11, 30, 0, 0, tzinfo=UTC),
            datetime(2026, 11, 30, tzinfo=UTC),
        ),
        (
            "monthly",
            datetime(2027, 2, 28, 12, tzinfo=UTC),
            datetime(2027, 2, 1, tzinfo=UTC),
        ),
        ("daily", datetime(2026, 12, 4, 23, 30), datetime(2026, 12, 4, tzinfo=UTC)),
    ],
)
def test_period_start_table(
    period: BudgetPeriod, now: datetime, start: datetime
) -> None:
    assert period_start(period, now) == start


def test_period_start_converts_to_utc() -> None:
    berlin_morning = datetime(2026, 12, 5, 0, 30, tzinfo=timezone(timedelta(hours=1)))
    assert period_start("daily", berlin_morning) == datetime(2026, 12, 4, tzinfo=UTC)


def test_period_end_december_rolls_year() -> None:
    assert period_end("monthly", datetime(2026, 12, 1, tzinfo=UTC)) == datetime(
        2027, 1, 1, tzinfo=UTC
    )
    assert period_end("none", PERIOD_EPOCH) is None


def test_flush_writes_absolute_changed_totals() -> None:
    store = FakeSpendStore()
    ledger = SpendLedger(store)
    first, second = make_key(key_id="vk_a"), make_key(key_id="vk_b")
    ledger.settle(ledger.reserve(first, 1.0, NOW), 0.25)
    assert ledger.dirty()

    assert ledger.flush() == 1
    assert store.calls == [{("vk_a", PERIOD_EPOCH): 0.25}]
    assert not ledger.dirty()

    ledger.settle(ledger.reserve(first, 1.0, NOW), 0.5)
    ledger.settle(ledger.reserve(second, 1.0, NOW), 0.125)
    ledger.flush()
    assert store.calls[1] == {
        ("vk_a", PERIOD_EPOCH): 0.75,
        ("vk_b", PERIOD_EPOCH): 0.125,
    }
    assert ledger.flush() == 0
    assert len(store.calls) == 2


def test_flush_failure_keeps_totals_dirty() -> None:
    store = FakeSpendStore()
    ledger = SpendLedger(store)
    key = make_key()
    ledger.settle(ledger.reserve(key, 1.0, NOW), 0.5)
    store.fail = True

    with pytest.raises(OSError):
        ledger.flush()
    assert ledger.dirty()

    store.fail = False
    assert ledger.flush() == 1
    assert store.saved[("vk_1", PERIOD_EPOCH)] == 0.5


def test_reload_from_store_counts_against_budget() -> None:
    store = FakeSpendStore()
    ledger = SpendLedger(store)
    key = make_key(budget=1.0, period="daily")
    ledger.settle(ledger.reserve(key, 1.0, NOW), 0.8)
    ledger.flush()

    reloaded = SpendLedger(store)

    assert reloaded.current_spend(key, NOW)[0] == pytest.approx(0.8)
    with pytest.raises(BudgetExceeded):
        reloaded.reserve(key, 0.3, NOW)
    reloaded.reserve(key, 0.2, NOW)


def test_unsettled_reservations_are_not_spend() -> None:
    store = FakeSpendStore()
    ledger = SpendLedger(store)
    key = make_key(budget=1.0)
    ledger.reserve(key, 0.9, NOW)
    assert ledger.current_spend(key, NOW)[0] == 0.0
    assert not ledger.dirty()

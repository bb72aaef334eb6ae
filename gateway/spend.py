"""The spend ledger: spend per key and budget period, and reservations in flight.

A request reserves its worst-case cost before it goes upstream and settles
the real cost when it ends. The budget check counts settled spend plus every
open reservation, under one lock, so concurrent requests cannot together
overshoot a budget. Totals are kept per `(key_id, period_start)`, so a new
period starts from zero without any reset job.

The store keeps absolute totals; `flush` writes those that changed since the
last flush. Open reservations live in memory only.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from gateway.errors import BudgetExceeded
from gateway.models import VirtualKey
from gateway.periods import period_end, period_start

SpendKey = tuple[str, datetime]
"""`(key_id, period_start)`, period_start in UTC."""

# Costs are sums of float prices, so three reservations of 0.1 add up to a
# hair over 0.3. A budget is exceeded only beyond this margin in USD.
_TOLERANCE_USD = 1e-9


class SpendStore(Protocol):
    def load_spend(self) -> dict[SpendKey, float]: ...

    def save_spend(self, items: dict[SpendKey, float]) -> None: ...


@dataclass
class Reservation:
    """A request's worst-case cost, held against its key's budget until `settle`."""

    key_id: str
    period_start: datetime
    amount_usd: float
    settled: bool = False


class SpendLedger:
    def __init__(self, store: SpendStore) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._spent: dict[SpendKey, float] = dict(store.load_spend())
        self._reserved: dict[SpendKey, float] = {}
        self._dirty: set[SpendKey] = set()

    def reserve(self, key: VirtualKey, amount_usd: float, now: datetime) -> Reservation:
        """Hold `amount_usd` against the key's budget, or raise `BudgetExceeded`.

        A key without a budget always gets a reservation, so its spend is
        still tracked. Every reservation must be settled, with 0 for a request
        that failed, or its amount stays held until the process restarts.
        """
        start = period_start(key.budget_period, now)
        slot = (key.id, start)
        amount = max(0.0, amount_usd)

        with self._lock:
            spent = self._spent.get(slot, 0.0)
            reserved = self._reserved.get(slot, 0.0)
            budget = key.max_budget_usd
            if budget is not None and _over_budget(spent, reserved, amount, budget):
                message = _exceeded_message(key, spent, reserved, amount, start)
                raise BudgetExceeded(message)
            self._reserved[slot] = reserved + amount
        return Reservation(key_id=key.id, period_start=start, amount_usd=amount)

    def settle(self, reservation: Reservation, actual_usd: float) -> None:
        """Release the reservation and add the real cost. A second call does nothing."""
        slot = (reservation.key_id, reservation.period_start)
        with self._lock:
            if reservation.settled:
                return
            reservation.settled = True
            remaining = self._reserved.get(slot, 0.0) - reservation.amount_usd
            if remaining > _TOLERANCE_USD:
                self._reserved[slot] = remaining
            else:
                self._reserved.pop(slot, None)
            if actual_usd > 0:
                self._spent[slot] = self._spent.get(slot, 0.0) + actual_usd
                self._dirty.add(slot)

    def current_spend(self, key: VirtualKey, now: datetime) -> tuple[float, datetime]:
        """Return the settled spend in the period containing `now`, and its start."""
        start = period_start(key.budget_period, now)
        with self._lock:
            return self._spent.get((key.id, start), 0.0), start

    def dirty(self) -> bool:
        """Return whether a total changed since the last successful flush."""
        with self._lock:
            return bool(self._dirty)

    def flush(self) -> int:
        """Write changed totals to the store as absolute values and return their count.

        If the store raises, the totals stay marked as changed for the next
        flush and the error propagates.
        """
        with self._flush_lock:
            with self._lock:
                items = {slot: self._spent[slot] for slot in self._dirty}
                self._dirty.clear()
            if not items:
                return 0
            try:
                self._store.save_spend(items)
            except Exception:
                with self._lock:
                    self._dirty.update(items)
                raise
            return len(items)


def _over_budget(spent: float, reserved: float, amount: float, budget: float) -> bool:
    if spent >= budget - _TOLERANCE_USD:
        return True
    return spent + reserved + amount > budget + _TOLERANCE_USD


def _exceeded_message(
    key: VirtualKey, spent: float, reserved: float, amount: float, start: datetime
) -> str:
    budget = key.max_budget_usd or 0.0
    end = period_end(key.budget_period, start)
    if end is None:
        period = "budget (no reset period)"
        reset = "It does not reset; raise max_budget_usd to continue."
    else:
        period = f"{key.budget_period} budget (period from {start:%Y-%m-%dT%H:%M:%SZ})"
        reset = (
            f"It resets at {end:%Y-%m-%dT%H:%M:%SZ}; "
            "raise max_budget_usd to continue sooner."
        )
    in_flight = (
        f", ${reserved:.6f} more is reserved by requests in flight" if reserved else ""
    )
    return (
        f"Key {key.key_prefix} has spent ${spent:.6f} of its ${budget:.6f} {period}"
        f"{in_flight}, and this request may cost up to ${amount:.6f}. {reset}"
    )

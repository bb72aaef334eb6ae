"""Budget periods: when the current period of a key's budget started and when it ends.

All times are UTC. A period of `none` never resets, so every moment belongs to
one period that starts at `PERIOD_EPOCH`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from gateway.models import BudgetPeriod

PERIOD_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def as_utc(moment: datetime) -> datetime:
    """Return `moment` in UTC. A naive datetime is taken to be UTC already."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def period_start(period: BudgetPeriod, now: datetime) -> datetime:
    """Return the start of the period that contains `now`.

    Weekly periods start on Monday at 00:00 UTC, as ISO 8601 weeks do.
    """
    if period == "none":
        return PERIOD_EPOCH
    midnight = as_utc(now).replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "daily":
        return midnight
    if period == "weekly":
        return midnight - timedelta(days=midnight.weekday())
    if period == "monthly":
        return midnight.replace(day=1)
    raise ValueError(
        f"unknown budget period {period!r}; use none, daily, weekly or monthly"
    )


def period_end(period: BudgetPeriod, start: datetime) -> datetime | None:
    """Return when the period that began at `start` ends, or None for `none`."""
    if period == "none":
        return None
    if period == "daily":
        return start + timedelta(days=1)
    if period == "weekly":
        return start + timedelta(weeks=1)
    if period == "monthly":
        if start.month == 12:
            return start.replace(year=start.year + 1, month=1)
        return start.replace(month=start.month + 1)
    raise ValueError(
        f"unknown budget period {period!r}; use none, daily, weekly or monthly"
    )

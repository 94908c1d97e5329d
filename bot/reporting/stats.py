"""Small statistics shared by the reports (percentiles by linear interpolation, time buckets)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Literal

Bucket = Literal["day", "week"]


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (0..100), linear interpolation between closest ranks (numpy's default)."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100.0
    lo, hi = math.floor(pos), math.ceil(pos)
    if lo == hi:
        return float(ordered[lo])
    return float(ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo))


def describe(values: Sequence[float]) -> dict[str, float | int | None]:
    """Count, mean and p50/p90/p95 of durations (``None`` when there are none)."""
    return {
        "count": len(values),
        "mean": round(sum(values) / len(values), 2) if values else None,
        "p50": _round(percentile(values, 50)),
        "p90": _round(percentile(values, 90)),
        "p95": _round(percentile(values, 95)),
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def auto_bucket(since: datetime, until: datetime) -> Bucket:
    return "day" if until - since <= timedelta(days=31) else "week"


def bucket_start(ts: datetime, bucket: Bucket) -> date:
    day = ts.astimezone(UTC).date()
    return day - timedelta(days=day.weekday()) if bucket == "week" else day


def bucket_range(since: datetime, until: datetime, bucket: Bucket) -> list[date]:
    first = bucket_start(since, bucket)
    last = bucket_start(until - timedelta(microseconds=1), bucket)
    step = 7 if bucket == "week" else 1
    return [first + timedelta(days=i) for i in range(0, (last - first).days + 1, step)]

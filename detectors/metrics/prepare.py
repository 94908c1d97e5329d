"""Turn a ``MetricSeries`` into clean numpy arrays: sorted, finite, counters turned into rates.

Handles what real scrapes look like: NaN/inf gaps, duplicated timestamps, unsorted points,
counter resets (a monotone counter that drops back to ~0) and single-point series.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from bot.domain.models import MetricSeries

_COUNTER_NAME = re.compile(r"(_total|_count|_sum|_counter)$")


@dataclass(frozen=True)
class PreparedSeries:
    t: np.ndarray  # epoch seconds, float64, strictly increasing
    y: np.ndarray  # float64, finite
    is_counter: bool


def looks_like_counter(metric: str, labels: dict[str, str], y: np.ndarray) -> bool:
    if labels.get("__type__") == "counter" or labels.get("type") == "counter":
        return True
    if not _COUNTER_NAME.search(metric.lower()) or y.size < 3:
        return False
    d = np.diff(y)
    # mostly non-decreasing with at most a few resets
    return bool(np.mean(d >= 0) >= 0.9 and np.all(y >= 0))


def counter_to_rate(t: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-second rate of a counter. A drop is a reset: the interval holding it is left out, since
    how much the counter grew across the restart is unknown (so a restart is no fake dip)."""
    if y.size < 2:
        return t[:0], y[:0]
    d = np.diff(y)
    dt = np.diff(t)
    keep = (d >= 0) & (dt > 0)
    return t[1:][keep], d[keep] / dt[keep]


def epoch_seconds(series: MetricSeries) -> np.ndarray:
    """Every timestamp of ``series`` in epoch seconds, in its order (read once, for every use of one analysis)."""
    return np.fromiter((ts.timestamp() for ts in series.timestamps), dtype=np.float64, count=len(series.timestamps))


def prepare(series: MetricSeries, *, epochs: np.ndarray | None = None) -> PreparedSeries:
    """``epochs``: ``epoch_seconds(series)`` when the caller has it already (it is not changed)."""
    n = min(len(series.timestamps), len(series.values))
    if n == 0:
        return PreparedSeries(np.empty(0), np.empty(0), False)
    if epochs is not None:
        t = epochs[:n]
    else:
        t = np.fromiter((ts.timestamp() for ts in series.timestamps[:n]), dtype=np.float64, count=n)
    y = np.asarray(series.values[:n], dtype=np.float64)
    return prepare_arrays(t, y, metric=series.metric, labels=series.labels)


def prepare_arrays(
    t: np.ndarray, y: np.ndarray, *, metric: str = "", labels: dict[str, str] | None = None
) -> PreparedSeries:
    ok = np.isfinite(t) & np.isfinite(y)
    t, y = t[ok], y[ok]
    if t.size > 1 and np.any(np.diff(t) <= 0):
        order = np.argsort(t, kind="stable")
        t, y = t[order], y[order]
        keep = np.concatenate(
            ([True], np.diff(t) > 0)
        )  # last duplicate wins would need more work; first is fine
        t, y = t[keep], y[keep]
    counter = looks_like_counter(metric, labels or {}, y)
    if counter:
        t, y = counter_to_rate(t, y)
    return PreparedSeries(t, y, counter)

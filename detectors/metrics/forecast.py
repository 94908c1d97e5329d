"""Forecasts for early warnings: when will a resource run out, and how sure are we.

- ``forecast_exhaustion``: a least-squares line over the recent segment (after the last reset, e.g.
  a disk cleanup) extrapolated to the limit; the interval comes from the slope's confidence
  interval (Student t), so a noisy fill gives a wide window and a steady one a narrow window.
- ``forecast_expiry``: a series whose value is an expiry time (``probe_ssl_earliest_cert_expiry``).
- ``burn_rate``: error-budget burn rate of an error-ratio series against an SLO, over a long and a
  short window (the multi-window rule of the SRE workbook: both must burn fast).
- ``default_limit``: the limit implied by a metric's name (ratios reach 1, percentages 100, free
  space reaches 0) when none is configured.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from scipy import stats

from detectors.metrics.changepoint import linear_fit, noise_sd
from detectors.metrics.robust import median


@dataclass(frozen=True)
class Forecast:
    kind: str  # "exhaustion", "expiry" or "burn_rate"
    current: float
    limit: float
    eta: datetime | None  # expected time the limit is reached
    eta_early: datetime | None  # early end of the confidence interval
    eta_late: datetime | None  # late end (None: the slope may be flat, it may never happen)
    confidence: float
    slope_per_hour: float = 0.0
    r2: float = 0.0
    points: int = 0

    def hours_left(self, now: datetime) -> float | None:
        return None if self.eta is None else (self.eta - now).total_seconds() / 3600.0


def _dt(ts: float | None) -> datetime | None:
    if ts is None or not math.isfinite(ts):
        return None
    try:
        return datetime.fromtimestamp(ts, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


_FREE = re.compile(r"free|avail|remaining|left")
_RATIO = re.compile(r"ratio|fraction")
_PERCENT = re.compile(r"percent|pct|utili[sz]ation|usage_pct")


def default_limit(metric: str, values: np.ndarray) -> tuple[float, int] | None:
    """(limit, direction) implied by the name: +1 grows towards it, -1 shrinks towards it."""
    name = metric.lower()
    if _FREE.search(name):
        return 0.0, -1
    finite = values[np.isfinite(values)]
    top = float(finite.max()) if finite.size else 0.0
    if _RATIO.search(name) or (0.0 <= top <= 1.0 and "used" in name):
        return 1.0, 1
    if _PERCENT.search(name) and top <= 100.0:
        return 100.0, 1
    return None


def last_segment(t: np.ndarray, y: np.ndarray, direction: int) -> int:
    """Start index of the segment after the last big move against ``direction`` (a cleanup)."""
    if y.size < 4:
        return 0
    d = np.diff(y) * direction
    noise = noise_sd(y, median(y))
    drops = np.nonzero(d < -max(6.0 * noise, 0.02 * float(np.ptp(y))))[0]
    return int(drops[-1] + 1) if drops.size else 0


def forecast_exhaustion(
    t: np.ndarray,
    y: np.ndarray,
    *,
    limit: float,
    direction: int = 1,
    now: float | None = None,
    confidence: float = 0.9,
    min_points: int = 6,
) -> Forecast | None:
    """When the trend of ``y`` reaches ``limit``; None when it is not heading there.

    ``t`` is epoch seconds. Returns a forecast with ``eta=None`` when the series is already past
    the limit (``current`` tells). The slope must be significant at ``confidence``.
    """
    ok = np.isfinite(t) & np.isfinite(y)
    t, y = t[ok], y[ok]
    if y.size < min_points:
        return None
    start = last_segment(t, y, direction)
    if y.size - start >= min_points:
        t, y = t[start:], y[start:]
    now_ts = float(t[-1]) if now is None else now
    slope, intercept, r2 = linear_fit(t, y)
    level_now = intercept + slope * now_ts
    current = float(y[-1])
    if (current - limit) * direction >= 0:
        when = _dt(now_ts)
        return Forecast("exhaustion", current, limit, when, when, when, confidence, slope * 3600, r2, y.size)
    if slope * direction <= 0:
        return None
    n = y.size
    resid = y - (intercept + slope * t)
    sxx = float(np.sum((t - t.mean()) ** 2))
    s2 = float(np.dot(resid, resid)) / max(n - 2, 1)
    se = math.sqrt(s2 / sxx) if sxx > 0 else math.inf
    tq = float(stats.t.ppf(0.5 + confidence / 2.0, max(n - 2, 1)))
    fast, slow = abs(slope) + tq * se, abs(slope) - tq * se
    if slow <= 0:
        return None  # the trend is not significant: no forecast
    gap = abs(limit - level_now)
    eta = now_ts + gap / abs(slope)
    early = now_ts + gap / fast
    late = now_ts + gap / slow
    return Forecast(
        "exhaustion", current, limit, _dt(eta), _dt(early), _dt(late), confidence, slope * 3600, r2, n
    )


def forecast_expiry(t: np.ndarray, y: np.ndarray) -> Forecast | None:
    """A series whose value is an expiry time in epoch seconds (the latest point counts)."""
    ok = np.isfinite(t) & np.isfinite(y)
    if not ok.any():
        return None
    expiry = float(y[ok][-1])
    when = _dt(expiry)
    return Forecast("expiry", expiry, expiry, when, when, when, 1.0, 0.0, 1.0, int(ok.sum()))


@dataclass(frozen=True)
class BurnRate:
    long: float  # burn rate over the long window
    short: float  # over the short window
    budget_hours_left: float | None  # at the long-window rate, for a budget period of ``period_days``


def burn_rate(
    t: np.ndarray,
    y: np.ndarray,
    *,
    slo: float,
    long_s: float = 3600.0,
    short_s: float = 300.0,
    period_days: float = 30.0,
) -> BurnRate | None:
    """Burn rate = error ratio / (1 - SLO). ``y`` is an error ratio in [0, 1] (or a percentage)."""
    ok = np.isfinite(t) & np.isfinite(y)
    t, y = t[ok], y[ok]
    if y.size == 0 or not 0.0 < slo < 1.0:
        return None
    if float(np.max(y)) > 1.0:
        y = y / 100.0
    end = float(t[-1])
    budget = 1.0 - slo
    long_rate = float(np.mean(y[t > end - long_s])) / budget
    short_rate = float(np.mean(y[t > end - short_s])) / budget
    left = period_days * 24.0 / long_rate if long_rate > 0 else None
    return BurnRate(long_rate, short_rate, left)

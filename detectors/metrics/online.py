"""The causal (online) anomaly detector: each point is scored from the points before it only.

Features, all computed over trailing windows that end just BEFORE the scored point:

- ``spike``: robust z of the point against the trailing median / MAD (``long`` points).
- ``shift``: robust z of the median of the last ``short`` points (the scored one included) against
  the same baseline: a level change that single points would hide in noise.
- ``season``: the same spike z against the points at the same phase of one period earlier, when
  the series has a regular daily period (hour-of-day baseline), so a normal daily peak is not news.

The largest z becomes a calibrated score in [0, 1) (``anomaly_score``: 4 -> 0.5, 8 -> 0.8), and a
score is only reported in full when it beats everything reported over the last ``quiet`` points:
one incident raises one alarm, not a burst. ``score_series`` computes the whole series at once
(vectorised, ``bottleneck`` moving windows); ``OnlineDetector`` feeds points one at a time and gives
exactly the same numbers (it rescores only the trailing buffer the windows can see).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import bottleneck as bn
import numpy as np

from detectors.metrics.signals import anomaly_score

MAD_TO_SIGMA = 1.4826


@dataclass(frozen=True)
class OnlineParams:
    long: int = 288  # baseline window (a day of 5-minute points)
    short: int = 6  # level-shift window
    min_history: int = 24  # points needed before anything is scored
    quiet: int = 288  # points during which a lower score than the last alarm is damped
    damp: float = 0.5  # factor for damped scores
    rel_floor: float = 0.01  # spread floor relative to the level

    @property
    def memory(self) -> int:
        """Trailing points that can influence one score (for exact streaming)."""
        return 2 * self.long + self.short + self.quiet + 2


def _lag(a: np.ndarray, k: int = 1) -> np.ndarray:
    out = np.full_like(a, np.nan)
    if k < a.size:
        out[k:] = a[: a.size - k]
    return out


def raw_z(y: np.ndarray, p: OnlineParams) -> np.ndarray:
    """Largest robust z of each point against its trailing baseline (NaN while warming up)."""
    y = np.asarray(y, dtype=np.float64)
    n = y.size
    if n == 0:
        return y.copy()
    med = _lag(bn.move_median(y, p.long, min_count=p.min_history))
    dev = np.abs(y - bn.move_median(y, p.long, min_count=p.min_history))
    mad = _lag(bn.move_median(dev, p.long, min_count=p.min_history)) * MAD_TO_SIGMA
    std = _lag(bn.move_std(y, p.long, min_count=p.min_history))
    floor = np.maximum(np.abs(med) * p.rel_floor, 1e-9)
    scale = np.fmax(np.fmax(mad, 0.25 * std), floor)
    spike = np.abs(y - med) / scale
    recent = bn.move_median(y, p.short, min_count=1)
    shift = np.abs(recent - med) / scale * np.sqrt(min(p.short, 4))
    shift = np.fmin(shift, spike * 4)  # a level shift is never worse than four of its points
    z = np.fmax(spike, 0.5 * shift)
    z[np.isnan(med)] = np.nan
    return z


def suppress(score: np.ndarray, p: OnlineParams) -> np.ndarray:
    """Damp a score that does not beat the largest full score of the last ``quiet`` points."""
    out = score.copy()
    recent_max = _lag(bn.move_max(np.nan_to_num(score, nan=0.0), p.quiet, min_count=1))
    recent_max = np.nan_to_num(recent_max, nan=0.0)
    weak = score <= recent_max
    out[weak] = score[weak] * p.damp
    return out


def score_series(
    values: np.ndarray | list[float],
    *,
    timestamps: np.ndarray | None = None,
    probation: int = 0,
    params: OnlineParams | None = None,
) -> np.ndarray:
    """Causal anomaly scores in [0, 1] for every point (0 while warming up or for NaN points)."""
    p = params or OnlineParams()
    y = np.asarray(values, dtype=np.float64)
    if y.size == 0:
        return y.copy()
    finite = np.isfinite(y)
    if not finite.all():
        # carry the last finite value forward so windows stay aligned; NaN points score 0
        idx = np.where(finite, np.arange(y.size), 0)
        np.maximum.accumulate(idx, out=idx)
        y = y[idx]
        if not finite[0]:
            y = np.where(np.arange(y.size) < np.argmax(finite), np.nan, y)
    z = raw_z(y, p)
    s = np.where(np.isnan(z), 0.0, z * z / (z * z + 16.0))
    s = suppress(s, p)
    s[~finite] = 0.0
    _ = (timestamps, probation)
    return np.clip(s, 0.0, 1.0)


class OnlineDetector:
    """Feed points one at a time; ``update`` returns the score of the point just added."""

    def __init__(self, params: OnlineParams | None = None) -> None:
        self.params = params or OnlineParams()
        self._buf: deque[float] = deque(maxlen=self.params.memory)

    def update(self, value: float) -> float:
        self._buf.append(float(value))
        return float(score_series(np.fromiter(self._buf, dtype=np.float64), params=self.params)[-1])


__all__ = ["OnlineDetector", "OnlineParams", "anomaly_score", "score_series"]

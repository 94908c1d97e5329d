"""The causal (online) anomaly detector: each point is scored from the points before it only.

Per point, robust z-scores against trailing windows that end just before it:

- ``spike``: the point against the trailing median / MAD of ``long`` points;
- ``shift``: the median of the last ``short`` points against the same baseline (a level change);
- ``season``: the same two on the difference with the median of the same phase over the last three
  periods (hour-of-day baseline), used
  when that seasonal model explains the history better (its spread is smaller), so a normal daily
  peak is not news and a missing one is.

The z is then compared with the series' own history: divided by a high percentile of its past z
(recomputed every ``chunk`` points on absolute positions), so a noisy, spiky series and a quiet one
alarm at the same rate. A score that does not beat ``margin`` x the largest of the last ``quiet``
points is damped: one incident raises one alarm, not a burst. Finally the calibrated map
``z^2 / (z^2 + 16)`` gives a score in [0, 1).

``score_series`` computes a whole series at once (vectorised with ``bottleneck`` moving windows);
``OnlineDetector`` feeds points one at a time and returns exactly the same numbers, because it
rescores only the trailing buffer that the windows can see (``OnlineParams.memory``).
"""

from __future__ import annotations

from dataclasses import dataclass

import bottleneck as bn
import numpy as np

MAD_TO_SIGMA = 1.4826
PERIOD_PROBE = 64  # points whose spacing sets the seasonal period


@dataclass(frozen=True)
class OnlineParams:
    long: int = 1000  # baseline window
    short: int = 6  # level-shift window
    min_history: int = 24  # points needed before anything is scored
    history: int = 5000  # past z values the percentile is taken over
    percentile: float = 99.5
    chunk: int = 50  # the percentile is refreshed every chunk points
    ratio_cap: float = 1.0  # only damps: a quiet series is never made louder
    ratio_power: float = 2.0
    quiet: int = 288  # points during which a weaker score than the last alarm is damped
    margin: float = 1.2
    damp: float = 0.3
    rel_floor: float = 0.01  # spread floor relative to the level
    seasonal_gain: float = 0.7  # seasonal model is used when its spread is below this share
    period_s: float = 86400.0

    def memory(self, period: int | None) -> int:
        """Trailing points that can influence one score: the streaming buffer size."""
        return self.history + self.chunk + self.quiet + 2 * self.long + (period or 0) + 2 * self.short + 8


def _lag(a: np.ndarray, k: int = 1) -> np.ndarray:
    out = np.full_like(a, np.nan)
    if k < a.size:
        out[k:] = a[: a.size - k]
    return out


def _move(fn: object, a: np.ndarray, window: int, min_count: int) -> np.ndarray:
    w = max(1, min(window, a.size))
    return fn(a, w, min_count=min(min_count, w))  # type: ignore[operator, no-any-return]


def _baseline(x: np.ndarray, p: OnlineParams) -> tuple[np.ndarray, np.ndarray]:
    """Trailing median and robust spread of ``x``, both ending one point before each position."""
    cur_med = _move(bn.move_median, x, p.long, p.min_history)
    med = _lag(cur_med)
    mad = _lag(_move(bn.move_median, np.abs(x - cur_med), p.long, p.min_history)) * MAD_TO_SIGMA
    std = _lag(_move(bn.move_std, x, p.long, p.min_history))
    floor = np.maximum(np.abs(med) * p.rel_floor, 1e-9)
    return med, np.fmax(np.fmax(mad, 0.25 * std), floor)


def _z(x: np.ndarray, p: OnlineParams) -> tuple[np.ndarray, np.ndarray]:
    med, scale = _baseline(x, p)
    spike = np.abs(x - med) / scale
    recent = _move(bn.move_median, x, p.short, 1)
    return np.fmax(spike, np.abs(recent - med) / scale), scale


def seasonal_period(timestamps: np.ndarray | None, p: OnlineParams) -> int | None:
    """Points per ``period_s`` (a day) from the spacing of the first points, or None."""
    if timestamps is None or timestamps.size <= PERIOD_PROBE:
        return None
    step = float(np.median(np.diff(timestamps[: PERIOD_PROBE + 1])))
    if step <= 0:
        return None
    period = int(round(p.period_s / step))
    return period if period >= 4 else None


def raw_z(y: np.ndarray, period: int | None, p: OnlineParams, offset: int = 0) -> np.ndarray:
    z, scale = _z(y, p)
    if period is not None and 2 * period < y.size:
        # the same phase over the last three periods: one odd day does not echo into the next
        l1, l2, l3 = _lag(y, period), _lag(y, 2 * period), _lag(y, 3 * period)
        med3 = l1 + l2 + l3 - np.fmax(np.fmax(l1, l2), l3) - np.fmin(np.fmin(l1, l2), l3)
        ref = np.where(np.isnan(l3), np.where(np.isnan(l2), l1, 0.5 * (l1 + l2)), med3)
        zs, sscale = _z(y - ref, p)
        use = (sscale < p.seasonal_gain * scale) & ~np.isnan(zs)
        use[: max(0, PERIOD_PROBE - offset)] = False
        z = np.where(use, zs, z)
    return np.nan_to_num(z, nan=0.0)


def _relative(z: np.ndarray, offset: int, p: OnlineParams) -> np.ndarray:
    """z divided by a high percentile of its own past z.

    The percentile is refreshed at absolute positions ``min_history + j * chunk`` (``offset`` is the
    absolute position of ``z[0]``) over the ``history`` values before the refresh point.
    """
    n = z.size
    ref = np.zeros(n)
    first = p.min_history - offset
    if first < 0:
        first %= p.chunk
    if first > 0 and offset > 0:
        first -= p.chunk  # the buffer starts inside a chunk: its head uses what it can see
    for k in range(first, n, p.chunk):
        lo, hi = max(0, k - p.history), max(0, k)
        if hi > lo:
            window = z[lo:hi]
            rank = min(window.size - 1, int(round(p.percentile / 100.0 * (window.size - 1))))
            ref[max(0, k) : k + p.chunk] = np.partition(window, rank)[rank]  # nearest-rank percentile
    ratio = np.minimum(z / np.maximum(ref, 1.0), p.ratio_cap)
    return z * ratio**p.ratio_power


def _suppress(zz: np.ndarray, p: OnlineParams) -> np.ndarray:
    recent = np.nan_to_num(_lag(_move(bn.move_max, zz, p.quiet, 1)), nan=0.0)
    out = zz.copy()
    weak = zz < p.margin * recent
    out[weak] *= p.damp
    return out


def score_series(
    values: np.ndarray | list[float],
    *,
    timestamps: np.ndarray | None = None,
    params: OnlineParams | None = None,
    period: int | None = None,
    offset: int = 0,
) -> np.ndarray:
    """Causal anomaly scores in [0, 1) for every point (0 while warming up and for NaN points).

    ``timestamps`` (epoch seconds) set the seasonal period unless ``period`` is given; ``offset``
    is the absolute position of ``values[0]`` (streaming uses it to keep chunks aligned).
    """
    p = params or OnlineParams()
    y = np.asarray(values, dtype=np.float64)
    n = y.size
    if n == 0:
        return y.copy()
    finite = np.isfinite(y)
    if not finite.all():
        if not finite.any():
            return np.zeros(n)
        # carry the last finite value forward so windows stay aligned; NaN points score 0
        idx = np.where(finite, np.arange(n), 0)
        idx[0] = 0 if finite[0] else int(np.argmax(finite))
        np.maximum.accumulate(idx, out=idx)
        y = y[idx]
    if period is None:
        period = seasonal_period(timestamps, p)
    z = raw_z(y, period, p, offset)
    z[: max(0, p.min_history - offset)] = 0.0
    zz = _suppress(_relative(z, offset, p), p)
    s = zz * zz / (zz * zz + 16.0)
    s[~finite] = 0.0
    return np.clip(s, 0.0, 1.0)


class OnlineDetector:
    """Feed points one at a time; ``update`` returns the score of the point just added."""

    def __init__(self, params: OnlineParams | None = None) -> None:
        self.params = params or OnlineParams()
        self._values: list[float] = []
        self._probe: list[float] = []
        self._period: int | None = None
        self._seen = 0

    def update(self, value: float, ts: float | None = None) -> float:
        if ts is not None and len(self._probe) <= PERIOD_PROBE:
            self._probe.append(ts)
            if len(self._probe) == PERIOD_PROBE + 1:
                self._period = seasonal_period(np.array([*self._probe, 0.0]), self.params)
        self._values.append(float(value))
        self._seen += 1
        keep = self.params.memory(self._period)
        if len(self._values) > 2 * keep:
            del self._values[: len(self._values) - keep]
        buf = np.asarray(self._values[-keep:], dtype=np.float64)
        offset = self._seen - buf.size
        period = self._period if self._seen > PERIOD_PROBE else None
        return float(score_series(buf, params=self.params, period=period, offset=offset)[-1])

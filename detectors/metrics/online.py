"""The causal (online) anomaly detector: each point is scored from the points before it only.

Per point, robust z-scores against trailing windows that end just before it:

- ``spike``: the point against the trailing median / MAD of ``long`` points;
- ``shift``: the median of the last ``short`` points against the same baseline (a level change);
- ``season``: the same two on the difference with the median of the same phase over the last three
  periods (hour-of-day baseline), used
  when that seasonal model explains the history better (its spread is smaller), so a normal daily
  peak is not news and a missing one is.

The largest z is then calibrated against the series' own past (``Calibrator``): its rank among
all earlier z values, with records above every rank, so a noisy, spiky series and a quiet one
alarm at the same rate. A score that does not beat the largest of the last ``quiet`` scores is
damped: one incident raises one alarm, not a burst.

``score_series`` computes a whole series at once (vectorised with ``bottleneck`` moving windows);
``OnlineDetector`` feeds points one at a time and returns exactly the same numbers, because it
recomputes z only over the trailing buffer the windows can see (``OnlineParams.memory``) and keeps
the calibrator's state.
"""

from __future__ import annotations

import bisect
import math
from collections import deque
from dataclasses import dataclass

import bottleneck as bn
import numpy as np

MAD_TO_SIGMA = 1.4826
PERIOD_PROBE = 64  # points whose spacing sets the seasonal period


@dataclass(frozen=True)
class OnlineParams:
    long: int = 1000  # baseline window
    short: int = 6  # level-shift window
    slow: int = 48  # slow-drift window (0: off)
    slow_weight: float = 2.0
    min_history: int = 24  # points needed before anything is scored
    quiet: int = 200  # points during which a score not above the recent maximum is damped
    damp: float = 0.5
    alarm_level: float = 0.0  # a raw score this high that beats the recent max is an alarm (0: off)
    hold: int = 20  # points after an alarm that are damped even when they climb higher (a refractory period)
    gate_z: float = 3.0  # a z of this size halves the score (0 turns the magnitude gate off)
    rel_floor: float = 0.01  # spread floor relative to the level
    seasonal_gain: float = 0.7  # seasonal model is used when its spread is below this share
    period_s: float = 86400.0

    @classmethod
    def nab(cls) -> OnlineParams:
        """The configuration used on NAB (``bench.nab``): rank-only scoring (no magnitude gate), a
        3-point level window and a 20-point refractory period after an alarm at 0.995. Chosen on the
        NAB corpus with the benchmark's own rules (threshold swept per profile); see ``bench.nab``."""
        return cls(gate_z=0.0, short=3, alarm_level=0.995, hold=20)

    def memory(self, period: int | None) -> int:
        """Trailing points the z of one point depends on: the streaming buffer size."""
        return 2 * self.long + 3 * (period or 0) + 2 * max(self.short, self.slow) + 8


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
    z = np.fmax(spike, np.abs(recent - med) / scale)
    if p.slow > 0:  # a slow drift: the mean of the last ``slow`` points, in standard errors
        slow = _move(bn.move_mean, x, p.slow, 1)
        z = np.fmax(z, np.abs(slow - med) / scale * p.slow_weight)
    return z, scale


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
    out: np.ndarray = np.nan_to_num(z, nan=0.0)
    return out


def _rarity(z: float, rank: int, n: int, prev_max: float, p: OnlineParams) -> float:
    """Score of a z given how many of the ``n`` earlier z are smaller (``rank``) and their max."""
    if n == 0:
        return 0.0
    if z > prev_max:  # a record: above every rank, by how far it beats the previous one
        s = 1.0 - 0.5 / (n + 1) * (prev_max / z if z > 0 else 1.0)
    else:
        s = (rank + 0.5) / (n + 1)
    if p.gate_z > 0:  # rarity alone is not enough: the deviation must be large too
        s *= z * z / (z * z + p.gate_z * p.gate_z)
    return s


def prefix_ranks(z: np.ndarray, block: int = 256) -> np.ndarray:
    """For each i, how many of z[:i] are strictly smaller than z[i] (vectorised by blocks)."""
    n = z.size
    out = np.zeros(n, dtype=np.int64)
    for lo in range(0, n, block):
        hi = min(n, lo + block)
        part = z[lo:hi]
        if lo:
            out[lo:hi] = np.searchsorted(np.sort(z[:lo]), part, side="left")
        inner = np.tril(part[None, :] < part[:, None], k=-1)  # [i, j]: j < i and z[j] < z[i]
        out[lo:hi] += inner.sum(axis=1)
    return out


class Calibrator:
    """Streaming twin of ``calibrate``: same scores, one point at a time."""

    def __init__(self, p: OnlineParams) -> None:
        self.p = p
        self._past: list[float] = []
        self._recent: deque[float] = deque(maxlen=p.quiet)
        self._since_alarm = p.hold + 1  # points since the last alarm raised

    def push(self, z: float, *, scored: bool = True) -> float:
        past = self._past
        s = 0.0
        if scored and past:
            s = _rarity(z, bisect.bisect_left(past, z), len(past), past[-1], self.p)
        beats = not self._recent or s > max(self._recent)
        held = self.p.alarm_level > 0 and self.p.hold > 0 and self._since_alarm <= self.p.hold
        out = s if beats and not held else s * self.p.damp
        if scored:
            bisect.insort(past, z)
        self._recent.append(s)
        self._since_alarm += 1
        if beats and not held and self.p.alarm_level > 0 and s >= self.p.alarm_level:
            self._since_alarm = 1
        return out


def calibrate(z: np.ndarray, p: OnlineParams) -> np.ndarray:
    """Scores of a whole z series: rarity among the earlier scored z, then one alarm per quiet period.

    A score not above the largest raw score of the last ``quiet`` points is damped by ``damp``, and
    so is every score within ``hold`` points after an alarm (a raw score of at least ``alarm_level``
    that beat that maximum), so a climbing burst raises one alarm, not one per point.
    Points before ``min_history`` are not scored and do not count as history.
    """
    n = z.size
    raw = np.zeros(n)
    m = p.min_history
    if n > m + 1:
        zz = z[m:]
        ranks = prefix_ranks(zz)
        prev_max = np.maximum.accumulate(zz)
        k = np.arange(zz.size)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(zz > 0, np.r_[0.0, prev_max[:-1]] / zz, 1.0)
        record = np.r_[False, zz[1:] > prev_max[:-1]]
        s = np.where(record, 1.0 - 0.5 / (k + 1) * ratio, (ranks + 0.5) / (k + 1))
        if p.gate_z > 0:
            s = s * zz * zz / (zz * zz + p.gate_z * p.gate_z)
        s[0] = 0.0
        raw[m:] = s
    recent = np.nan_to_num(_lag(_move(bn.move_max, raw, p.quiet, 1)), nan=-1.0)
    damped = (raw <= recent) & (np.arange(n) > 0)
    if p.alarm_level > 0 and p.hold > 0:
        held = np.zeros(n, dtype=bool)
        last = -p.hold - 1  # index of the last alarm raised
        for i in np.nonzero(~damped & (raw >= p.alarm_level))[0]:
            if i - last <= p.hold:
                continue  # inside the refractory period of that alarm: not an alarm itself
            last = int(i)
            held[i + 1 : i + 1 + p.hold] = True
        damped |= held
    return np.where(damped, raw * p.damp, raw)


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
    out = calibrate(z, p)
    out[~finite] = 0.0
    clipped: np.ndarray = np.clip(out, 0.0, 1.0)
    return clipped


class OnlineDetector:
    """Feed points one at a time; ``update`` returns the score of the point just added.

    Gives exactly ``score_series`` of everything fed so far, last point: z comes from the trailing
    buffer its windows can see, and the calibrator is the same object the batch uses.
    """

    def __init__(self, params: OnlineParams | None = None) -> None:
        self.params = params or OnlineParams()
        self._values: list[float] = []
        self._probe: list[float] = []
        self._period: int | None = None
        self._seen = 0
        self._cal = Calibrator(self.params)

    def update(self, value: float, ts: float | None = None) -> float:
        p = self.params
        if ts is not None and len(self._probe) <= PERIOD_PROBE:
            self._probe.append(ts)
            if len(self._probe) == PERIOD_PROBE + 1:
                self._period = seasonal_period(np.array([*self._probe, 0.0]), p)
        self._values.append(float(value))
        self._seen += 1
        keep = p.memory(self._period)
        if len(self._values) > 2 * keep:
            del self._values[: len(self._values) - keep]
        buf = np.asarray(self._values[-keep:], dtype=np.float64)
        offset = self._seen - buf.size
        period = self._period if self._seen > PERIOD_PROBE else None
        finite = np.isfinite(buf)
        if not finite.any():
            z = 0.0
        else:
            idx = np.where(finite, np.arange(buf.size), 0)
            idx[0] = 0 if finite[0] else int(np.argmax(finite))
            np.maximum.accumulate(idx, out=idx)
            z = float(raw_z(buf[idx], period, p, offset)[-1])
        s = self._cal.push(z, scored=self._seen > p.min_history)
        return 0.0 if not math.isfinite(value) else min(max(s, 0.0), 1.0)

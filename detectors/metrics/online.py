"""The causal (online) anomaly detector: each point is scored from the points before it only.

Per point, robust z-scores against trailing windows that end just before it:

- ``spike``: the point against the trailing median / MAD of ``long`` points;
- ``shift``: the median of the last ``short`` points against the same baseline (a level change);
- ``season``: the same two on the difference with the median of the same phase over the last three
  periods (hour-of-day baseline), used
  when that seasonal model explains the history better (its spread is smaller), so a normal daily
  peak is not news and a missing one is;
- ``season_slack`` > 0 (on in ``OnlineParams.nab()``): the spike and level z of a point are capped by
  how far it lies outside the range of the values near the same phase one or two periods earlier, so
  a spike that recurs every day at about the same time (a nightly job) is not news however rare it is
  among all points, while a spike at a new time of day or higher than the daily ones still is.

The largest z is then calibrated against the series' own past (``Calibrator``): its rank among
all earlier z values, with records above every rank, so a noisy, spiky series and a quiet one
alarm at the same rate. Optionally (``history_exp`` > 0) the tail probability behind that rank
grows with the length of the history, so a long series does not get more alarms than a short one.
A score that does not beat the largest of the last ``quiet`` scores is damped: one incident raises
one alarm, not a burst.

Optionally (``context_bins`` > 0, on in ``OnlineParams.nab()``) a second, independent detector
watches the *order* of values rather than their size (``ContextModel``): values are cut into bins
set from the range of the first ``context_learn`` points (its learning period, replayed through the
model when it ends), a first-order transition table counts which bin follows which, and each
point's surprise is -log P(its bin | previous bin). As in HTM's anomaly
likelihood, that noisy surprise is averaged over the last ``context_short`` points and standardised
against the mean / spread of the surprises of the ``context_long`` points before those (of all
earlier points in ``OnlineParams.nab()``: measured against the whole history, a busy stretch is
compared with everything seen, not with a trailing window that re-centres on every busy spell; on
NAB it scored higher than windows of 300..3000 points); the result is
calibrated by its own ``Calibrator`` and the point's score is the larger of the two calibrated
scores. An alarm of either starts one refractory period (``hold``) for both (``shared_hold``): the
context detector reacts some points after the value detector to the same incident. It catches a series that starts behaving differently (a new rhythm, a stuck or wandering
signal) before any single value is extreme.

Optionally (on in ``OnlineParams.nab()``) the value detector also looks at one-step forecasts:

- ``forecast_order`` > 0: an AR(``forecast_order``) model, refitted by least squares every
  ``AR_STEP`` points (at absolute positions) on the ``long // 2`` points before, forecasts each
  point from the points before it; the spike z is capped by the robust z of that forecast's residual
  (against the trailing median / MAD of the residuals), so a value the recent points predict (the
  continuation of a burst, an oscillation) is not news however far it lies from the median;
- ``drift_alpha`` > 0: the mean of the last ``DRIFT_POINTS`` residuals against a simple
  exponential smoothing forecast (smoothing ``drift_alpha``), in robust units of those residuals
  times ``DRIFT_WEIGHT``, joins the largest z: a slow ramp that the smoothed level keeps lagging
  behind (capped by the same-phase range as the spike z).

Settings: ``OnlineParams.default()`` (the NAB-measured ``nab()``: rank-only value detector with the
same-phase range and both forecast views, context detector, refractory period) is what runs when no
settings are given;
``OnlineParams.gated()`` (the bare field values) is the value detector alone with a magnitude gate.

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

from detectors.metrics.robust import median

MAD_TO_SIGMA = 1.4826
AR_STEP = 50  # the AR forecaster is refitted at every absolute position that is a multiple of this
DRIFT_POINTS = 20  # residuals of the smoothed level averaged by the drift z
DRIFT_WEIGHT = 1.5  # and its weight against the other z
PERIOD_PROBE = 64  # points whose spacing sets the seasonal period
Z_DECIMALS = 9  # z is rounded to this many decimals (float noise must not order the ranks)


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
    context_bins: int = 0  # bins of the transition-surprise detector (0: off)
    context_learn: int = 300  # learning period: its 1st..99th percentile range sets the bins
    context_short: int = 30  # points the surprise is averaged over
    context_long: int = 1000  # earlier points the averaged surprise is standardised against (0: all)
    context_alpha: float = 0.1  # additive smoothing of the transition counts
    history_exp: float = 0.0  # tail probability scaled by (history / history_ref) ** history_exp
    history_ref: int = 2000  # history length at which that scaling is neutral
    context_rarity: float = 1.0  # the context detector's tail probability is multiplied by this
    season_slack: float = 0.0  # half-width of the same-phase range, as a share of the period (0: off)
    forecast_order: int = 0  # AR order of the forecaster whose residual caps the spike z (0: off)
    drift_alpha: float = 0.0  # smoothing of the level whose residuals make the drift z (0: off)

    @classmethod
    def default(cls) -> OnlineParams:
        """What ``score_series``, ``OnlineDetector`` and ``sherlog metrics score`` use when no settings
        are given: the configuration measured on NAB (``nab()``), 75.3 there against 44.2 for the gated
        one (``bench.nab``)."""
        return cls.nab()

    @classmethod
    def gated(cls) -> OnlineParams:
        """The field values alone: the value detector only, each score multiplied by
        z^2 / (z^2 + ``gate_z``^2), so a deviation must be large as well as rare to score high and the
        records of plain noise stay low (``sherlog metrics score --profile gated``). Fewer alarms,
        later and more often missed ones (``bench.nab``: 44.2 standard)."""
        return cls()

    @classmethod
    def nab(cls) -> OnlineParams:
        """The configuration used on NAB (``bench.nab``): rank-only scoring (no magnitude gate), a
        3-point level window, a 20-point refractory period after an alarm at 0.995, and the
        transition-surprise detector on 10 bins learnt from the first 300 points, its surprise averaged
        over 20 points and standardised against all earlier ones (the refractory period then follows an
        alarm of either detector). Tail probabilities grow with the square root of the history
        (``history_exp``), so a long series does not alarm more often than a short one, and the context
        detector's are ten times larger (``context_rarity``): its surprise is noisier. A spike or level
        change inside the range of the values within 3% of a period (about 45 minutes of a day) of the
        same phase one or two periods earlier is not news (``season_slack``). A spike an AR(12)
        forecast of the earlier points predicts is not news either (``forecast_order``), and the mean
        of the last 20 residuals against a level smoothed with 0.1 is a drift z (``drift_alpha``).
        Chosen on the NAB corpus
        with the benchmark's own rules (threshold swept per profile); ``bench.nab`` prints the choice
        on half the files scored on the other half, and the scores of nearby settings."""
        return cls(
            gate_z=0.0,
            short=3,
            alarm_level=0.995,
            hold=20,
            context_bins=10,
            context_short=20,
            context_long=0,
            history_exp=0.5,
            context_rarity=10.0,
            season_slack=0.03,
            forecast_order=12,
            drift_alpha=0.1,
        )

    def __post_init__(self) -> None:
        if self.context_bins < 0 or self.context_learn < 2 or self.context_short < 1:
            raise ValueError("context_bins must be >= 0, context_learn >= 2 and context_short >= 1")
        if self.context_long < 0 or self.context_long == 1 or self.context_alpha <= 0:
            raise ValueError("context_long must be 0 (all earlier points) or >= 2 and context_alpha > 0")
        if self.history_exp < 0 or self.history_ref < 1 or self.context_rarity <= 0:
            raise ValueError("history_exp must be >= 0, history_ref >= 1 and context_rarity > 0")
        if not 0.0 <= self.season_slack <= 0.25:
            raise ValueError("season_slack must be in [0, 0.25]")
        if self.forecast_order < 0 or (self.forecast_order and self.long // 2 <= self.forecast_order + 1):
            raise ValueError("forecast_order must be >= 0 and below long // 2 - 1")
        if not 0.0 <= self.drift_alpha < 1.0:
            raise ValueError("drift_alpha must be in [0, 1)")

    def memory(self, period: int | None) -> int:
        """Trailing points the z of one point depends on: the streaming buffer size (the same-phase
        range reaches 2 periods + ``slack_points`` + ``short`` back, within the 3 periods counted;
        the AR forecast of a point needs its fit window and the block before it)."""
        ar = self.long // 2 + AR_STEP + self.forecast_order + 2 if self.forecast_order > 0 else 0
        return 2 * self.long + 3 * (period or 0) + 2 * max(self.short, self.slow, DRIFT_POINTS) + 8 + ar

    def slack_points(self, period: int) -> int:
        """Half-width in points of the same-phase range (at least 1: timestamps jitter)."""
        return max(1, int(round(self.season_slack * period)))


def _carry_forward(y: np.ndarray, finite: np.ndarray) -> np.ndarray:
    """``y`` with each non-finite value replaced by the last finite one before it (by the first finite
    one before any); at least one value must be finite."""
    idx = np.where(finite, np.arange(y.size), 0)
    idx[0] = 0 if finite[0] else int(np.argmax(finite))
    np.maximum.accumulate(idx, out=idx)
    out: np.ndarray = y[idx]
    return out


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


def _z(
    x: np.ndarray, p: OnlineParams, gap: np.ndarray | None = None, cap: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Largest of the spike, level and drift z, and the baseline spread. ``gap`` (``_phase_gap``, NaN
    where unknown) caps the spike z, and its median over ``short`` points the level z; ``cap``
    (``_forecast_cap``, NaN where unknown) caps the spike z."""
    med, scale = _baseline(x, p)
    spike = np.abs(x - med) / scale
    recent = _move(bn.move_median, x, p.short, 1)
    level = np.abs(recent - med) / scale
    if gap is not None:
        spike = np.fmin(spike, gap / scale)  # fmin: a NaN gap leaves the z as it is
        level = np.fmin(level, _move(bn.move_median, gap, p.short, 1) / scale)
    if cap is not None:
        spike = np.fmin(spike, cap)
    z = np.fmax(spike, level)
    if p.slow > 0:  # a slow drift: the mean of the last ``slow`` points, in standard errors
        slow = _move(bn.move_mean, x, p.slow, 1)
        z = np.fmax(z, np.abs(slow - med) / scale * p.slow_weight)
    return z, scale


def seasonal_period(timestamps: np.ndarray | None, p: OnlineParams) -> int | None:
    """Points per ``period_s`` (a day) from the spacing of the first points, or None."""
    if timestamps is None or timestamps.size <= PERIOD_PROBE:
        return None
    step = median(np.diff(timestamps[: PERIOD_PROBE + 1]))
    if step <= 0:
        return None
    period = int(round(p.period_s / step))
    return period if period >= 4 else None


def _phase_gap(y: np.ndarray, period: int, p: OnlineParams, offset: int) -> np.ndarray:
    """How far each point lies outside the range (min..max) of the values within ``slack_points`` of
    the same phase one period earlier, or two periods earlier, whichever is nearer; NaN before one
    period and, as for the seasonal model, before the period is known when streaming.

    A daily job makes a spike as rare as a real incident among all points, but not among the points
    at its time of day; the slack absorbs a job that starts a few minutes early or late, and two
    periods let one skipped run pass without the next one looking new."""
    k = p.slack_points(period)
    hi = _move(bn.move_max, y, 2 * k + 1, 2 * k + 1)
    lo = _move(bn.move_min, y, 2 * k + 1, 2 * k + 1)
    gaps = []
    for back in (period, 2 * period):  # the range centred ``back`` points earlier ends back - k points ago
        up, down = _lag(hi, back - k), _lag(lo, back - k)
        gaps.append(np.maximum(np.maximum(y - up, down - y), 0.0))  # NaN where that range is unknown
    gap = np.fmin(gaps[0], gaps[1])  # fmin: one known range is enough
    gap[: max(0, PERIOD_PROBE - offset)] = np.nan
    return gap


def _residual_z(r: np.ndarray, p: OnlineParams) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Forecast residuals with unknown ones (NaN) as 0, and their trailing median / robust spread."""
    filled = np.nan_to_num(r, nan=0.0)
    med, scale = _baseline(filled, p)
    return filled, med, scale


def _least_squares(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Coefficients minimising |a x - b|: the normal equations with a ridge of 1e-9 of the mean
    diagonal (a flat stretch makes them singular), several times faster than ``lstsq``'s SVD."""
    g = a.T @ a
    ridge = 1e-9 * float(np.trace(g)) / g.shape[0] + 1e-12
    try:
        out: np.ndarray = np.linalg.solve(g + ridge * np.eye(g.shape[0]), a.T @ b)
    except np.linalg.LinAlgError:
        out = np.linalg.lstsq(a, b, rcond=None)[0]
    return out


def _ar_forecast(
    y: np.ndarray, p: OnlineParams, offset: int, fits: dict[int, tuple[float, np.ndarray]] | None = None
) -> np.ndarray:
    """One-step forecast of every point by an AR(``forecast_order``) model with intercept, fitted by
    least squares on the ``long // 2`` points (less their median) before the start of its block of
    ``AR_STEP`` points; blocks start at absolute multiples of ``AR_STEP`` (``offset``: the position
    of ``y[0]``), so a trailing buffer gets the batch's numbers. NaN where the fit window is not all
    in ``y``. ``fits`` (streaming) keeps the fit of each block by its absolute start: the same
    window, so the same fit."""
    order, window, n = p.forecast_order, p.long // 2, y.size
    out = np.full(n, np.nan)
    first = -(-(offset + window) // AR_STEP) * AR_STEP - offset  # first block with its window in y
    for t0 in range(first, n, AR_STEP):
        fit = fits.get(offset + t0) if fits is not None else None
        if fit is None:
            seg = y[t0 - window : t0]
            mu = median(seg)
            s = seg - mu
            cols = [s[order - 1 - j : s.size - 1 - j] for j in range(order)]
            design = np.column_stack([*cols, np.ones(s.size - order)])
            fit = (mu, _least_squares(design, s[order:]))
            if fits is not None:
                fits[offset + t0] = fit
        mu, coef = fit
        t1 = min(n, t0 + AR_STEP)
        f = np.full(t1 - t0, mu + float(coef[order]))
        for j in range(order):  # elementwise: the same bits whatever the block's length
            f = f + float(coef[j]) * (y[t0 - 1 - j : t1 - 1 - j] - mu)
        out[t0:t1] = f
    return out


def _forecast_cap(
    y: np.ndarray, p: OnlineParams, offset: int, fits: dict[int, tuple[float, np.ndarray]] | None = None
) -> np.ndarray:
    """Robust z of the AR forecast's residual (NaN where there is no forecast)."""
    r = y - _ar_forecast(y, p, offset, fits)
    filled, med, scale = _residual_z(r, p)
    cap = np.abs(filled - med) / scale
    cap[np.isnan(r)] = np.nan
    return cap


def ses_forecast(y: np.ndarray, alpha: float, level: float | None = None) -> tuple[np.ndarray, float | None]:
    """Simple exponential smoothing, one point at a time: the forecast of each point (the level
    before it, NaN before any level; a NaN point leaves the level as it is) and the level after the
    last one. Streaming carries the level and feeds one point per call: the batch's operations, so
    its bits."""
    out = np.empty(y.size)
    b = 1.0 - alpha
    for i, x in enumerate(y.tolist()):
        out[i] = math.nan if level is None else level
        if math.isfinite(x):
            level = x if level is None else alpha * x + b * level
    return out, level


def _drift_z(
    y: np.ndarray, forecast: np.ndarray, p: OnlineParams, gap: np.ndarray | None = None
) -> np.ndarray:
    """Mean of the last ``DRIFT_POINTS`` residuals against the smoothed level, in robust units of the
    residuals before it, times ``DRIFT_WEIGHT``; capped, as the spike z, by the mean ``gap`` over the
    same points (a daily job is not a drift either)."""
    filled, med, scale = _residual_z(y - forecast, p)
    mean = _move(bn.move_mean, filled, DRIFT_POINTS, 1)
    out: np.ndarray = np.abs(mean - med) / scale
    if gap is not None:
        out = np.fmin(out, _move(bn.move_mean, gap, DRIFT_POINTS, 1) / scale)
    return out * DRIFT_WEIGHT


def raw_z(
    y: np.ndarray,
    period: int | None,
    p: OnlineParams,
    offset: int = 0,
    level_forecast: np.ndarray | None = None,
    ar_fits: dict[int, tuple[float, np.ndarray]] | None = None,
) -> np.ndarray:
    """Largest z of every point of ``y`` (no NaN; ``offset``: absolute position of ``y[0]``).
    ``level_forecast``: the smoothed-level forecast of each point for the drift z (``ses_forecast``
    of ``y`` from its start when not given); ``ar_fits``: the streaming detector's AR fits by block."""
    gap = None
    if period is not None and period < y.size and p.season_slack > 0:
        gap = _phase_gap(y, period, p, offset)
    cap = _forecast_cap(y, p, offset, ar_fits) if p.forecast_order > 0 else None
    z, scale = _z(y, p, gap, cap)
    if period is not None and period < y.size:
        # the same phase over the last three periods: one odd day does not echo into the next
        l1, l2, l3 = _lag(y, period), _lag(y, 2 * period), _lag(y, 3 * period)
        med3 = l1 + l2 + l3 - np.fmax(np.fmax(l1, l2), l3) - np.fmin(np.fmin(l1, l2), l3)
        ref = np.where(np.isnan(l3), np.where(np.isnan(l2), l1, 0.5 * (l1 + l2)), med3)
        zs, sscale = _z(y - ref, p)
        use = (sscale < p.seasonal_gain * scale) & ~np.isnan(zs)
        use[: max(0, PERIOD_PROBE - offset)] = False
        z = np.where(use, zs, z)
    if p.drift_alpha > 0:
        if level_forecast is None:
            level_forecast = ses_forecast(y, p.drift_alpha)[0]
        z = np.fmax(z, _drift_z(y, level_forecast, p, gap))
    # Rounded: the running sums behind the moving mean / std leave noise of ~1e-14 that depends on where
    # the window's array starts, so a flat stretch (true z = 0) would get z of 1e-15 in one computation
    # and 3e-15 in another, and the rank calibration would order that noise: the streaming detector
    # (a trailing buffer) then disagreed with the batch one (the whole series) by up to 0.7.
    out: np.ndarray = np.round(np.nan_to_num(z, nan=0.0), Z_DECIMALS)
    return out


def _tail_scale(n: np.ndarray | int, p: OnlineParams, rarity: float) -> np.ndarray | float:
    """Factor on the tail probability of a z ranked among ``n`` earlier ones.

    A rank-calibrated score is uniform, so a series alarms in proportion to its length, while NAB
    (and an operator) expects a few incidents per series whatever its length: with ``history_exp``
    > 0 the tail probability grows with the history, so a long series needs a rarer z to alarm.
    ``rarity`` > 1 makes a whole detector's scores less extreme (a noisier detector).
    """
    if p.history_exp == 0:
        return rarity
    # math.pow for every element: numpy's vectorised power can differ from the scalar one by an ulp,
    # and the streaming calibrator (one n at a time) must give the batch's numbers exactly
    if np.ndim(n) == 0:
        return rarity * math.pow((int(n) + 1.0) / p.history_ref, p.history_exp)
    ns = np.asarray(n, dtype=np.int64)
    return rarity * _growth(p.history_ref, p.history_exp, int(ns.max(initial=0)) + 1)[ns]


_GROWTH: dict[tuple[int, float], np.ndarray] = {}


def _growth(ref: int, exp: float, size: int) -> np.ndarray:
    """``math.pow((k + 1) / ref, exp)`` for k < ``size`` at least, computed once per setting."""
    have = _GROWTH.get((ref, exp))
    if have is None or have.size < size:
        size = max(size, 2 * (have.size if have is not None else 2048))
        have = np.fromiter((math.pow((k + 1.0) / ref, exp) for k in range(size)), float, size)
        _GROWTH[(ref, exp)] = have
    return have


def _scaled_tail(tail: np.ndarray | float, c: np.ndarray | float) -> np.ndarray | float:
    """The tail probability with its odds multiplied by ``c`` (``_tail_scale``): about ``tail * c``
    in the far tail, where alarms are decided, while an ordinary z (tail near 1) keeps a tail near 1
    and so a score near 0. Scaling the probability itself let a short history (c < 1) lift every
    score, a flat series' z = 0 included (0.98 on its second point); c = 1 changes nothing."""
    return tail * c / (1.0 + tail * (c - 1.0))


def _rarity(z: float, rank: int, n: int, prev_max: float, p: OnlineParams, rarity: float = 1.0) -> float:
    """Score of a z given how many of the ``n`` earlier z are smaller (``rank``) and their max:
    one minus its (scaled) tail probability, at least 0; 0 for z = 0 (no deviation at all)."""
    if n == 0 or z <= 0:
        return 0.0
    if z > prev_max:  # a record: above every rank, by how far it beats the previous one
        tail = 0.5 / (n + 1) * (prev_max / z if z > 0 else 1.0)
    else:
        tail = (n - rank + 0.5) / (n + 1)
    s = max(0.0, 1.0 - float(_scaled_tail(tail, float(_tail_scale(n, p, rarity)))))
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

    def __init__(self, p: OnlineParams, rarity: float = 1.0) -> None:
        self.p = p
        self.rarity = rarity
        self._past: list[float] = []
        self._recent: deque[float] = deque(maxlen=p.quiet)
        self._since_alarm = p.hold + 1  # points since the last alarm raised

    def push(self, z: float, *, scored: bool = True) -> float:
        past = self._past
        s = 0.0
        if scored and past:
            s = _rarity(z, bisect.bisect_left(past, z), len(past), past[-1], self.p, self.rarity)
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


def calibrate(z: np.ndarray, p: OnlineParams, rarity: float = 1.0) -> np.ndarray:
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
        tail = np.where(record, 0.5 / (k + 1) * ratio, (k - ranks + 0.5) / (k + 1))
        s = np.where(zz > 0, np.maximum(0.0, 1.0 - _scaled_tail(tail, _tail_scale(k, p, rarity))), 0.0)
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


CONTEXT_MIN_COUNT = 50  # surprises needed in the long window before the context z is defined
CONTEXT_MIN_Z = 1e-6  # a smaller context z is rounding noise of the running sums: treated as 0
MAX_BIN = 1_000_000  # far-out values share the outermost bins (keeps the bin index finite)


def _bin_grid(learn: np.ndarray | list[float], p: OnlineParams) -> tuple[float, float]:
    """Lower edge and width of the bins: the 1st..99th percentile range of the learning values cut
    into ``context_bins`` (1% of the level when that range is empty)."""
    lo, hi = (float(x) for x in np.percentile(learn, [1.0, 99.0]))
    return lo, (hi - lo) / p.context_bins if hi > lo else max(abs(hi) * 0.01, 1e-9)


def _context_z_at(
    i: int, short_sum: float, long_sum: float, long_sq: float, n_long: int, p: OnlineParams
) -> float:
    """z of the mean of the last ``context_short`` surprises (``short_sum`` over ``min(i + 1, short)``)
    against the mean / spread of the ``n_long`` surprises before them; 0 until enough of those."""
    if n_long < min(CONTEXT_MIN_COUNT, p.context_long or CONTEXT_MIN_COUNT):
        return 0.0
    mean = long_sum / n_long
    sd = math.sqrt(max(long_sq / n_long - mean * mean, 0.0))
    z = (short_sum / min(i + 1, p.context_short) - mean) / max(sd, 1e-3)
    return z if z > CONTEXT_MIN_Z else 0.0  # less surprise than usual is not news


class ContextModel:
    """Standardised recent surprise of a first-order transition model over binned values.

    The first ``context_learn`` values are only kept. When the last of them arrives, their 1st..99th
    percentile range is cut into ``context_bins`` equal bins (values outside fall in further bins of
    the same width), and the kept values are replayed through the model in order, as if it had run
    from the start: a warm start from the learning period, which then is over. Every later value is
    a plain update. ``push`` returns the z of every value that became known with this one: none
    while learning, all the kept ones at the end of learning, then one.

    Window sums are differences of running totals of the surprises (and of their squares), the same
    additions in the same order as the batch ``context_z`` (``np.cumsum``), so both give the same
    numbers; the model keeps the last ``context_short + context_long + 1`` totals only.
    """

    def __init__(self, p: OnlineParams) -> None:
        self.p = p
        self._kept: list[float] = []
        self._lo = 0.0
        self._width = 0.0
        self._prev: int | None = None
        self._counts: dict[int, dict[int, int]] = {}
        self._totals: dict[int, int] = {}
        self._states: set[int] = set()
        self._sum = 0.0  # running total of the surprises
        self._sq = 0.0  # and of their squares
        self._history: deque[tuple[float, float]] = deque(maxlen=p.context_short + p.context_long + 1)
        self._i = 0  # surprises so far

    @property
    def ready(self) -> bool:
        return self._width > 0.0

    def push(self, v: float) -> list[float]:
        if self.ready:
            return [self._step(v)]
        self._kept.append(v)
        if len(self._kept) < self.p.context_learn:
            return []
        self._lo, self._width = _bin_grid(self._kept, self.p)
        kept, self._kept = self._kept, []
        return [self._step(x) for x in kept]

    def _bin(self, v: float) -> int:
        q = (v - self._lo) / self._width
        return int(math.floor(min(max(q, -MAX_BIN), MAX_BIN)))

    def _surprise(self, v: float) -> float:
        """-log P(bin of v | bin of the previous value), then learn that transition."""
        p = self.p
        s = self._bin(v)
        a = 0.0
        prev = self._prev
        if prev is not None:
            row = self._counts.setdefault(prev, {})
            total = self._totals.get(prev, 0)
            k = max(len(self._states), p.context_bins)
            a = -math.log((row.get(s, 0) + p.context_alpha) / (total + p.context_alpha * (k + 1)))
            row[s] = row.get(s, 0) + 1
            self._totals[prev] = total + 1
        self._states.add(s)
        self._prev = s
        return a

    def _step(self, v: float) -> float:
        """z of the mean surprise of the last ``context_short`` values against the surprises of the
        ``context_long`` values before them, or of all earlier values when it is 0.

        A surprise enters the baseline only when it leaves the short window: the two do not overlap,
        so a change that is still developing is not already part of the baseline it is measured
        against (with overlapping windows the first points of a new rhythm raise both means)."""
        p = self.p
        a = self._surprise(v)
        i = self._i
        self._i += 1
        hist = self._history  # totals after surprises i-1, i-2, ... (the oldest first)
        self._sum += a
        self._sq += a * a
        short, long_ = p.context_short, p.context_long
        # totals after surprise i - short (end of the baseline) and i - short - long (before its start)
        t_end = hist[-short] if len(hist) >= short else (0.0, 0.0)
        n_long = max(i - short + 1, 0)
        base_sum, base_sq = t_end
        if long_ and n_long > long_:
            t_start = hist[-short - long_]
            base_sum, base_sq = base_sum - t_start[0], base_sq - t_start[1]
            n_long = long_
        z = _context_z_at(i, self._sum - t_end[0], base_sum, base_sq, n_long, p)
        hist.append((self._sum, self._sq))
        return z


class _ContextFeed:
    """Feeds raw values to a ``ContextModel``; a missing value repeats the last finite one, and a
    point before the first finite value gets z = 0 once the model is ready."""

    def __init__(self, p: OnlineParams) -> None:
        self.model = ContextModel(p)
        self.last: float | None = None
        self._leading = 0  # points seen before the first finite value

    def push(self, value: float) -> list[float]:
        if math.isfinite(value):
            self.last = value
        if self.last is None:
            self._leading += 1
            return []
        zs = self.model.push(self.last)
        if zs and self._leading:
            zs = [0.0] * self._leading + zs
            self._leading = 0
        return zs


def shared_hold(s: np.ndarray, p: OnlineParams) -> np.ndarray:
    """Damp the ``hold`` points after each alarm (a score >= ``alarm_level`` outside such a period) of
    the combined score, whichever detector raised it."""
    if p.alarm_level <= 0 or p.hold <= 0:
        return s
    out = s.copy()
    last = -p.hold - 1
    for i in np.nonzero(s >= p.alarm_level)[0]:
        if i - last <= p.hold:
            continue
        last = int(i)
        out[i + 1 : i + 1 + p.hold] *= p.damp
    return out


def _earlier_equal(keys: np.ndarray) -> np.ndarray:
    """For each position, how many earlier positions hold the same key."""
    order = np.argsort(keys, kind="stable")
    ranked = keys[order]
    starts = np.r_[0, np.nonzero(ranked[1:] != ranked[:-1])[0] + 1]
    group_start = np.repeat(starts, np.diff(np.r_[starts, keys.size]))
    out = np.empty(keys.size, dtype=np.int64)
    out[order] = np.arange(keys.size) - group_start
    return out


def _surprises(bins: np.ndarray, p: OnlineParams) -> np.ndarray:
    """``ContextModel._surprise`` of every point at once: -log of the smoothed share of the earlier
    transitions out of the previous bin that went to this one (0 for the first point)."""
    n = bins.size
    a = np.zeros(n)
    if n < 2:
        return a
    prev, cur = bins[:-1], bins[1:]
    span = 2 * MAX_BIN + 3
    same_pair = _earlier_equal((prev + MAX_BIN + 1) * span + (cur + MAX_BIN + 1))
    same_prev = _earlier_equal(prev)
    _, first = np.unique(bins, return_index=True)
    new = np.zeros(n, dtype=np.int64)
    new[first] = 1
    states_before = np.cumsum(new)[:-1]  # distinct bins among the points before each transition's end
    k = np.maximum(states_before, p.context_bins)
    ratio = (same_pair + p.context_alpha) / (same_prev + p.context_alpha * (k + 1))
    # math.log, as the streaming model: numpy's vectorised log may differ from it in the last bit
    a[1:] = -np.fromiter(map(math.log, ratio.tolist()), float, n - 1)
    return a


def context_z(values: np.ndarray, p: OnlineParams) -> tuple[np.ndarray, int]:
    """The context detector's z for every point of ``values`` (raw, NaN allowed), and the index of
    the first point it scores (the end of its learning period; ``len(values)`` if never reached).
    z before that index comes from the warm-start replay: calibration history, never a score.

    Vectorised twin of feeding ``values`` one at a time to ``_ContextFeed`` (same numbers): a missing
    value repeats the last finite one, points before the first finite value get z = 0."""
    v = np.asarray(values, dtype=np.float64)
    n = v.size
    z = np.zeros(n)
    finite = np.isfinite(v)
    if not finite.any():
        return z, n
    first = int(np.argmax(finite))
    fed = v[first:]
    if fed.size < p.context_learn:
        return z, n
    fed = _carry_forward(fed, finite[first:])
    lo, width = _bin_grid(fed[: p.context_learn], p)
    bins = np.floor(np.clip((fed - lo) / width, -MAX_BIN, MAX_BIN)).astype(np.int64)
    a = _surprises(bins, p)
    total, sq = np.cumsum(a), np.cumsum(a * a)
    short, long_ = p.context_short, p.context_long
    # the same sums as ContextModel._step, read from the running totals (same operations, same bits)
    i = np.arange(fed.size)
    end = i - short  # the last surprise of the baseline
    have = end >= 0
    t_end = np.where(have, total[np.maximum(end, 0)], 0.0)
    short_sum = total - t_end
    base_sum, base_sq = t_end, np.where(have, sq[np.maximum(end, 0)], 0.0)
    n_long = np.maximum(end + 1, 0)
    if long_:
        cut = n_long > long_
        before = np.maximum(end - long_, 0)
        base_sum = np.where(cut, base_sum - total[before], base_sum)
        base_sq = np.where(cut, base_sq - sq[before], base_sq)
        n_long = np.minimum(n_long, long_)
    valid = n_long >= min(CONTEXT_MIN_COUNT, long_ or CONTEXT_MIN_COUNT)
    safe = np.maximum(n_long, 1)
    mean = base_sum / safe
    sd = np.sqrt(np.maximum(base_sq / safe - mean * mean, 0.0))
    zi = (short_sum / np.minimum(i + 1, short) - mean) / np.maximum(sd, 1e-3)
    z[first:] = np.where(valid & (zi > CONTEXT_MIN_Z), zi, 0.0)
    return z, first + p.context_learn - 1


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
    p = params or OnlineParams.default()
    y = np.asarray(values, dtype=np.float64)
    n = y.size
    if n == 0:
        return y.copy()
    finite = np.isfinite(y)
    if not finite.all():
        if not finite.any():
            return np.zeros(n)
        y = _carry_forward(y, finite)  # so windows stay aligned; NaN points score 0
    if period is None:
        period = seasonal_period(timestamps, p)
    level_forecast = None
    if p.drift_alpha > 0:  # as streaming: missing values repeat the last finite one, none before the first
        fed = y.copy()
        fed[: int(np.argmax(finite))] = np.nan
        level_forecast = ses_forecast(fed, p.drift_alpha)[0]
    z = raw_z(y, period, p, offset, level_forecast)
    out = calibrate(z, p)
    if p.context_bins > 0:
        zc, ready_at = context_z(np.asarray(values, dtype=np.float64), p)
        ctx = calibrate(zc, p, p.context_rarity)
        ctx[:ready_at] = 0.0
        out = shared_hold(np.maximum(out, ctx), p)
    out[~finite] = 0.0
    clipped: np.ndarray = np.clip(out, 0.0, 1.0)
    return clipped


class OnlineDetector:
    """Feed points one at a time; ``update`` returns the score of the point just added.

    Gives exactly ``score_series`` of everything fed so far, last point: z comes from the trailing
    buffer its windows can see, and the calibrator is the same object the batch uses.
    """

    def __init__(self, params: OnlineParams | None = None) -> None:
        self.params = params or OnlineParams.default()
        self._values: list[float] = []
        self._probe: list[float] = []
        self._period: int | None = None
        self._seen = 0
        self._cal = Calibrator(self.params)
        self._ctx = _ContextFeed(self.params) if self.params.context_bins > 0 else None
        self._ctx_cal = Calibrator(self.params, self.params.context_rarity)
        self._ctx_done = 0  # points whose context z went through the calibrator
        self._since_alarm = self.params.hold + 1  # points since the last alarm of either detector
        self._level: float | None = None  # smoothed level (``drift_alpha``) after the last point
        self._last: float | None = None  # last finite value
        self._forecasts: list[float] = []  # the smoothed level's forecast of each point in ``_values``
        self._ar_fits: dict[int, tuple[float, np.ndarray]] = {}  # AR fit of each block, by absolute start

    def update(self, value: float, ts: float | None = None) -> float:
        p = self.params
        if ts is not None and len(self._probe) <= PERIOD_PROBE:
            self._probe.append(ts)
            if len(self._probe) == PERIOD_PROBE + 1:
                self._period = seasonal_period(np.array([*self._probe, 0.0]), p)
        self._values.append(float(value))
        self._seen += 1
        if p.drift_alpha > 0:  # smoothed as the batch does: a missing value repeats the last finite one
            if math.isfinite(value):
                self._last = float(value)
            fc, self._level = ses_forecast(
                np.array([math.nan if self._last is None else self._last]), p.drift_alpha, self._level
            )
            self._forecasts.append(float(fc[0]))
        keep = p.memory(self._period)
        if len(self._values) > 2 * keep:
            del self._values[: len(self._values) - keep]
            del self._forecasts[: max(0, len(self._forecasts) - keep)]
        buf = np.asarray(self._values[-keep:], dtype=np.float64)
        offset = self._seen - buf.size
        period = self._period if self._seen > PERIOD_PROBE else None
        finite = np.isfinite(buf)
        if not finite.any():
            z = 0.0
        else:
            level_fc = np.asarray(self._forecasts[-keep:]) if p.drift_alpha > 0 else None
            z = float(raw_z(_carry_forward(buf, finite), period, p, offset, level_fc, self._ar_fits)[-1])
            if len(self._ar_fits) > 2 * (keep // AR_STEP + 2):  # blocks that left the buffer
                for start in [k for k in self._ar_fits if k < offset]:
                    del self._ar_fits[start]
        s = self._cal.push(z, scored=self._seen > p.min_history)
        if self._ctx is not None:
            sc = 0.0
            for zc in self._ctx.push(float(value)):  # during the warm start: the replayed history
                self._ctx_done += 1
                sc = self._ctx_cal.push(zc, scored=self._ctx_done > p.min_history)
            s = max(s, sc)
            if p.alarm_level > 0 and p.hold > 0:
                if self._since_alarm <= p.hold:
                    s *= p.damp
                elif s >= p.alarm_level:
                    self._since_alarm = 0
                self._since_alarm += 1
        return 0.0 if not math.isfinite(value) else min(max(s, 0.0), 1.0)

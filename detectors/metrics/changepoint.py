"""Offline change points over one alert window, in O(n) with cumulative sums.

``best_mean_shift`` finds the single split that best explains the series as two constant levels
(the least-squares binary segmentation step, the same cost ``ruptures``' ``Binseg(model="l2")`` uses
for one break, without its per-call overhead). ``robust_shift`` then measures how far the later
level sits from the earlier one in units of the earlier segment's robust spread (median / MAD), so
one outlier cannot fake a change and a flat baseline does not divide by zero.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from detectors.metrics.robust import median

MAD_TO_SIGMA = 1.4826


@dataclass(frozen=True)
class Shift:
    index: int  # first index of the later segment
    before: float  # median before
    after: float  # median after
    scale: float  # robust spread of the earlier segment
    z_level: float  # (after - before) / scale, signed
    z_peak: float  # second largest signed excursion after the change, in the same units
    direction: int  # +1 or -1


def best_mean_shift(y: np.ndarray, *, min_size: int = 3, last: int | None = None) -> int | None:
    """Index of the best single mean-shift split of ``y`` (the later segment starts there).

    ``last`` bounds the split index from above (e.g. shortly after the alert time).
    """
    n = y.size
    if n < 2 * min_size:
        return None
    c1 = np.cumsum(y)
    total = c1[-1]
    k = np.arange(1, n)  # left segment sizes
    left_mean = c1[:-1] / k
    right_mean = (total - c1[:-1]) / (n - k)
    gain = k * (n - k) / n * (left_mean - right_mean) ** 2
    lo, hi = min_size - 1, n - min_size  # k index range: left size min_size .. n-min_size
    if last is not None:
        hi = min(hi, max(lo + 1, last))
    if hi <= lo:
        return None
    j = lo + int(np.argmax(gain[lo:hi]))
    return j + 1


def robust_scale(x: np.ndarray, reference: float) -> float:
    """Robust standard deviation of ``x`` with floors for flat or tiny segments."""
    if x.size == 0:
        return max(abs(reference) * 0.05, 1e-9)
    med = median(x)
    mad = median(np.abs(x - med)) * MAD_TO_SIGMA
    if x.size >= 4:
        q75, q25 = np.percentile(x, [75, 25])
        mad = max(mad, float(q75 - q25) / 1.349 * 0.5)
    std = float(np.std(x)) if x.size > 1 else 0.0
    floor = max(abs(reference) * 0.01, 1e-9)
    return max(mad, 0.25 * std, floor)


def noise_sd(x: np.ndarray, reference: float) -> float:
    """Point-to-point noise from successive differences: unaffected by one level shift or a slow
    trend, so it is a fair floor for the spread of a short baseline. Floored at 1% of the level."""
    floor = max(abs(reference) * 0.01, 1e-9)
    if x.size < 3:
        return floor
    d = np.diff(x)
    return max(median(np.abs(d - median(d))) * MAD_TO_SIGMA / float(np.sqrt(2.0)), floor)


def robust_shift(y: np.ndarray, index: int) -> Shift:
    before_seg, after_seg = y[:index], y[index:]
    before = median(before_seg)
    after = median(after_seg)
    scale = max(robust_scale(before_seg, before), noise_sd(y, before))
    z_level = (after - before) / scale
    dev = np.sort((after_seg - before) / scale)
    # the second most extreme point: one stray sample is no change
    hi = float(dev[-2]) if dev.size > 1 else float(dev[-1])
    lo = float(dev[1]) if dev.size > 1 else float(dev[0])
    direction = 1 if z_level > 0 or (z_level == 0 and hi >= -lo) else -1
    z_peak = hi if direction > 0 else lo
    return Shift(index, before, after, scale, z_level, z_peak, direction)


def linear_fit(t: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """Slope, intercept and R² of a least-squares line (R² is 0 for flat or tiny inputs)."""
    if t.size < 3:
        return 0.0, float(y[-1]) if y.size else 0.0, 0.0
    tm, ym = float(t.mean()), float(y.mean())
    dt = t - tm
    sxx = float(np.dot(dt, dt))
    if sxx <= 0:
        return 0.0, ym, 0.0
    slope = float(np.dot(dt, y - ym)) / sxx
    intercept = ym - slope * tm
    resid = y - (intercept + slope * t)
    syy = float(np.dot(y - ym, y - ym))
    r2 = 1.0 - float(np.dot(resid, resid)) / syy if syy > 0 else 0.0
    return slope, intercept, r2


@dataclass(frozen=True)
class Hinge:
    index: int  # first index after the bend
    slope_before: float
    slope_change: float  # added slope after the bend (per second)
    resid_sd: float  # residual spread of the one-line fit BEFORE the bend
    gain: float  # share of the one-line residual variance the bend explains


def best_hinge(t: np.ndarray, y: np.ndarray, *, min_size: int = 5, last: int | None = None) -> Hinge | None:
    """The best continuous bend ``y = a + b t + c max(0, t - t_k)`` over all k, in O(n).

    Sums of the hinge term for every k come from suffix cumulative sums, and each k's 3x3 normal
    equations are solved in one vectorised step. A normal steady trend has ``c`` ~ 0; a leak or a
    fill that starts part-way has a clear positive ``c``.
    """
    n = y.size
    if n < 2 * min_size + 1:
        return None
    tt = (t - t[0]) / max(float(t[-1] - t[0]), 1e-9)  # scale to [0, 1] for conditioning
    s_t, s_tt, s_y, s_ty = tt.sum(), (tt * tt).sum(), y.sum(), (tt * y).sum()

    def suffix(a: np.ndarray) -> np.ndarray:
        return np.cumsum(a[::-1])[::-1]

    c1, ct, ctt, cy, cty = suffix(np.ones(n)), suffix(tt), suffix(tt * tt), suffix(y), suffix(tt * y)
    k = np.arange(min_size, n - min_size if last is None else min(n - min_size, max(min_size + 1, last)))
    if k.size == 0:
        return None
    tk = tt[k]
    m, st, stt, sy, sty = c1[k], ct[k], ctt[k], cy[k], cty[k]
    sh = st - tk * m  # sum h
    shh = stt - 2 * tk * st + tk * tk * m  # sum h^2
    sht = stt - tk * st  # sum h t
    shy = sty - tk * sy  # sum h y
    # symmetric 3x3 normal equations per k, solved with Cramer's rule (vectorised)
    a00, a01, a02, a11, a12, a22 = float(n), s_t, sh, s_tt, sht, shh
    b0, b1, b2 = s_y, s_ty, shy
    c00 = a11 * a22 - a12 * a12
    c01 = a02 * a12 - a01 * a22
    c02 = a01 * a12 - a02 * a11
    det = a00 * c00 + a01 * c01 + a02 * c02
    ok = np.abs(det) > 1e-12
    if not ok.any():
        return None
    safe = np.where(ok, det, 1.0)
    x0 = (b0 * c00 + b1 * c01 + b2 * c02) / safe
    x1 = (b0 * c01 + b1 * (a00 * a22 - a02 * a02) + b2 * (a01 * a02 - a00 * a12)) / safe
    x2 = (b0 * c02 + b1 * (a01 * a02 - a00 * a12) + b2 * (a00 * a11 - a01 * a01)) / safe
    coef = np.stack([x0, x1, x2], axis=1)
    b = np.stack([np.full(k.size, b0), np.full(k.size, b1), b2], axis=1)
    # SSE = sum y^2 - coef . b (least squares identity)
    syy = float(np.dot(y, y))
    sse = syy - np.einsum("ij,ij->i", coef, b)
    sse[~ok] = np.inf
    j = int(np.argmin(sse))
    slope1, icpt1, _ = linear_fit(tt, y)
    sse1 = float(np.sum((y - (icpt1 + slope1 * tt)) ** 2))
    kk = int(k[j])
    span = max(float(t[-1] - t[0]), 1e-9)
    sb, ib, _ = linear_fit(tt[:kk], y[:kk])
    resid = y[:kk] - (ib + sb * tt[:kk])
    return Hinge(
        index=kk,
        slope_before=float(coef[j, 1]) / span,
        slope_change=float(coef[j, 2]) / span,
        resid_sd=float(np.std(resid)) if kk > 2 else 0.0,
        gain=max(0.0, 1.0 - float(sse[j]) / sse1) if sse1 > 0 else 0.0,
    )

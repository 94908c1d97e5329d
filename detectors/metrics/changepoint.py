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
    med = float(np.median(x))
    mad = float(np.median(np.abs(x - med))) * MAD_TO_SIGMA
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
    return max(float(np.median(np.abs(d - np.median(d)))) * MAD_TO_SIGMA / np.sqrt(2.0), floor)


def robust_shift(y: np.ndarray, index: int) -> Shift:
    before_seg, after_seg = y[:index], y[index:]
    before = float(np.median(before_seg))
    after = float(np.median(after_seg))
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

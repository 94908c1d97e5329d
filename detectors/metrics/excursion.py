"""Is a series unusual at the alert, and since when: the alert-time level against a robust baseline,
judged by the online detector.

Two views that an earlier excursion inside the lookback window cannot fool:

- ``current_excursion``: the baseline is the median / robust spread of the points before the alert
  with earlier excursions left out (points more than ``EXCLUDE_Z`` robust sd from the baseline are
  dropped and the baseline re-estimated, a few rounds), so a 10-minute CPU burst 40 minutes ago does
  not raise the reference that today's sustained 100% is measured against. The excursion the alert
  is in starts where the points, walking back from the alert, stop being ``ONSET_Z`` out.
- ``online_peak``: the causal online detector of ``detectors.metrics.online`` (``score_series`` with
  ``OnlineParams.default()``, the configuration ``bench.nab`` measures) scores the series with those
  earlier excursions blanked out, so its calibration (a rank among earlier scores) is not spent on
  them; its largest score from the onset to the alert says how unusual the change is.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from detectors.metrics.changepoint import MAD_TO_SIGMA, noise_sd
from detectors.metrics.online import OnlineParams, score_series
from detectors.metrics.robust import median

EXCLUDE_Z = 4.0  # an earlier point this far from the baseline belongs to an excursion, not to normal
ONSET_Z = 3.0  # points at least this far out in the bad direction belong to the current excursion
MIN_KEEP = 0.3  # the baseline needs at least this share of the pre-alert points
LEVEL_POINTS = 3  # the level at the alert is the median of the last points up to it


@dataclass(frozen=True)
class Excursion:
    direction: int  # +1 up, -1 down
    onset: int  # index of the first point of the excursion the alert is in
    z: float  # level at the alert against the baseline, in robust sd (>= 0, in ``direction``)
    baseline: float
    scale: float
    level: float
    earlier: np.ndarray  # bool per point: an earlier excursion left out of the baseline


def robust_baseline(pre: np.ndarray) -> tuple[float, float, np.ndarray]:
    """(median, robust sd, kept mask) of ``pre`` once points of earlier excursions are left out."""
    keep = np.ones(pre.size, dtype=bool)
    med = median(pre)
    sd = _spread(pre, med)
    for _ in range(3):
        new = np.abs(pre - med) <= EXCLUDE_Z * sd
        if new.sum() < max(5, MIN_KEEP * pre.size) or np.array_equal(new, keep):
            break
        keep = new
        med = median(pre[keep])
        sd = _spread(pre[keep], med)
    return med, sd, keep


def _spread(x: np.ndarray, med: float) -> float:
    mad = median(np.abs(x - med)) * MAD_TO_SIGMA
    return max(mad, noise_sd(x, med))


def current_excursion(y: np.ndarray, cut: int, directions: tuple[int, ...]) -> Excursion | None:
    """The excursion the point before ``cut`` (the alert) is in, in the worst of ``directions``."""
    cut = max(0, min(cut, y.size))
    if cut < 8:
        return None
    pre = y[:cut]
    med, sd, keep = robust_baseline(pre)
    level = median(y[max(0, cut - LEVEL_POINTS) : cut])
    best: Excursion | None = None
    for direction in directions:
        dev = direction * (pre - med) / sd
        onset = cut
        while onset > 0 and dev[onset - 1] >= ONSET_Z:
            onset -= 1
        if onset == cut or onset == 0:
            continue  # not out at the alert, or out all along (no normal stretch to compare with)
        z = direction * (level - med) / sd
        if z < ONSET_Z:
            continue
        earlier = np.zeros(y.size, dtype=bool)
        earlier[:onset] = ~keep[:onset]
        if best is None or z > best.z:
            best = Excursion(direction, onset, z, med, sd, level, earlier)
    return best


def online_scores(t: np.ndarray, y: np.ndarray, earlier: np.ndarray | None) -> np.ndarray:
    """The online detector's scores of ``y`` with earlier excursions blanked (they score 0 and do not
    count in its calibration)."""
    values = y.astype(np.float64, copy=True)
    if earlier is not None and earlier.any():
        values[earlier[: values.size]] = np.nan
    return score_series(values, timestamps=t, params=OnlineParams.default())


def online_peak(scores: np.ndarray, start: int, stop: int) -> float | None:
    """Largest online score from ``start`` to ``stop`` (exclusive); None when the series is too short
    for the online detector to have scored anything (its warm-up)."""
    if scores.size <= OnlineParams.default().min_history + 1 or stop <= start:
        return None
    window = scores[max(0, start) : min(stop, scores.size)]
    return float(window.max()) if window.size else None


def first_alarm(scores: np.ndarray, start: int, stop: int, level: float) -> int | None:
    """Index of the first score >= ``level`` from ``start`` to ``stop``, None when there is none."""
    window = scores[max(0, start) : min(stop, scores.size)]
    hits = np.flatnonzero(window >= level)
    return max(0, start) + int(hits[0]) if hits.size else None

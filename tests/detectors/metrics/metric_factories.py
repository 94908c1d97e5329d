"""Small factories for metric series used by the metric detector tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from bot.domain.models import MetricSeries
from detectors.metrics.online import OnlineDetector, OnlineParams

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


def series(
    service: str, metric: str, values: list[float] | np.ndarray, *, step_s: int = 60, start: datetime = T0
) -> MetricSeries:
    vals = [float(v) for v in values]
    return MetricSeries(
        service=service,
        metric=metric,
        timestamps=[start + timedelta(seconds=step_s * i) for i in range(len(vals))],
        values=vals,
    )


def noisy(n: int, level: float, sd: float, seed: int) -> np.ndarray:
    return level + np.random.default_rng(seed).normal(0.0, sd, n)


def streamed(params: OnlineParams, y: np.ndarray, ts: np.ndarray | None = None) -> np.ndarray:
    """The scores ``OnlineDetector`` gives when fed ``y`` (with ``ts``) one point at a time."""
    det = OnlineDetector(params)
    if ts is None:
        return np.array([det.update(float(v)) for v in y])
    return np.array([det.update(float(v), float(t)) for v, t in zip(y, ts, strict=True)])

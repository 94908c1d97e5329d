"""The same-phase range (``season_slack``): a spike that recurs at about the same time every day is not
news, one at a new time of day or well above the daily ones is, and streaming == batch with it on,
including a short period that is known before ``PERIOD_PROBE`` points in the batch only."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from detectors.metrics.online import OnlineParams, raw_z, score_series
from tests.detectors.metrics.metric_factories import streamed

DAY = 96  # 15-minute points
SLACK = OnlineParams(long=300, quiet=30, min_history=8, gate_z=0.0, season_slack=0.03)


def _nightly_job(days: int = 12, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A quiet series with a large spike every day at about 02:00 (jittered by one point)."""
    rng = np.random.default_rng(seed)
    n = DAY * days
    y = 1.0 + rng.normal(0, 0.01, n)
    for d in range(days):
        y[d * DAY + 8 + int(rng.integers(-1, 2))] = 5.0 + rng.normal(0, 0.05)
    return np.arange(n) * 900.0, y


def test_a_daily_spike_is_not_news_but_one_at_a_new_time_or_higher_is() -> None:
    ts, y = _nightly_job()
    off = dataclasses.replace(SLACK, season_slack=0.0)
    job = [d * DAY + j for d in range(3, 12) for j in range(7, 10)]  # the job's points from day 3
    assert raw_z(y, DAY, off)[job].max() > 30  # without the range: every run is a huge spike
    assert raw_z(y, DAY, SLACK)[job].max() < 3  # with it: within the range of the day before
    y2 = y.copy()
    y2[DAY * 9 + 50] = 5.0  # the same spike in the afternoon
    y2[DAY * 10 + 8] = 12.0  # the job's spike, much higher than usual
    z = raw_z(y2, DAY, SLACK)
    assert z[DAY * 9 + 50] > 30
    assert z[DAY * 10 + 8] > 30


def test_slack_points_and_bad_setting() -> None:
    assert SLACK.slack_points(288) == 9
    assert SLACK.slack_points(24) == 1  # at least one point either side
    with pytest.raises(ValueError):
        OnlineParams(season_slack=0.3)


@pytest.mark.parametrize("period_s", [86400.0, 4 * 900.0 * 6])  # 96 points, and 24 (< PERIOD_PROBE)
def test_streaming_matches_batch_with_the_same_phase_range(period_s: float) -> None:
    p = dataclasses.replace(OnlineParams.nab(), long=200, quiet=30, context_learn=100, period_s=period_s)
    ts, y = _nightly_job(14, 3)
    y[DAY * 9 + 50] = 5.0
    y[700:710] = np.nan
    full = score_series(y, timestamps=ts, params=p)
    assert np.allclose(streamed(p, y, ts), full, atol=1e-12)
    for k in (40, 300, 1000):
        assert np.array_equal(score_series(y[:k], timestamps=ts[:k], params=p), full[:k])

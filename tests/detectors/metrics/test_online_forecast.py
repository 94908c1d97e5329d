"""The forecast views of the value detector (``forecast_order``: an AR forecast's residual caps the spike
z; ``drift_alpha``: the mean of recent residuals against a smoothed level is a drift z), on in
``OnlineParams.nab()``: streaming == batch, after the buffer has filled and with missing values, and what
each one is for."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from detectors.metrics.online import (
    OnlineParams,
    _baseline,
    _drift_z,
    _forecast_cap,
    raw_z,
    score_series,
    ses_forecast,
)
from tests.detectors.metrics.metric_factories import streamed

FORECAST = OnlineParams(
    long=100,
    quiet=30,
    min_history=8,
    gate_z=0.0,
    alarm_level=0.99,
    hold=10,
    context_bins=10,
    context_learn=100,
    context_long=0,
    season_slack=0.03,
    forecast_order=4,
    drift_alpha=0.1,
)


def _series(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    y = 10 + 3 * np.sin(2 * np.pi * t / 24) + rng.normal(0, 0.4, n)
    y[900:1100] -= np.linspace(0, 6, 200)  # a slow ramp down
    y[1300] += 9
    return y


def test_forecast_views_stream_like_the_batch_after_the_buffer_fills() -> None:
    y = _series(2200, 7)
    ts = np.arange(y.size) * 3600.0  # hourly: a daily period of 24 points
    assert y.size > 3 * FORECAST.memory(24)
    full = score_series(y, timestamps=ts, params=FORECAST)
    assert np.allclose(streamed(FORECAST, y, ts), full, atol=1e-12)
    for k in (150, 700):
        assert np.array_equal(score_series(y[:k], timestamps=ts[:k], params=FORECAST), full[:k])


def test_forecast_views_stream_like_the_batch_with_missing_values() -> None:
    y = _series(1600, 8)
    y[:5] = np.nan  # before the first value: no smoothed level yet
    y[[300, 301, 302, 1250]] = np.nan  # later: the last finite value is repeated
    full = score_series(y, params=FORECAST)
    assert np.allclose(streamed(FORECAST, y), full, atol=1e-12)
    assert np.all(full[np.isnan(y)] == 0.0)


def test_ses_forecast_carries_its_level_point_by_point() -> None:
    y = np.array([np.nan, 2.0, 4.0, np.nan, 8.0])
    fc, level = ses_forecast(y, 0.5)
    assert np.isnan(fc[:2]).all() and fc[2:].tolist() == [2.0, 3.0, 3.0]
    assert level == 5.5
    level, out = None, []
    for x in y:
        f, level = ses_forecast(np.array([x]), 0.5, level)
        out.append(f[0])
    assert np.array_equal(np.array(out), fc, equal_nan=True)


def test_a_pulse_the_ar_forecast_predicts_is_not_a_spike() -> None:
    """A pulse every 6 points, far above the noise and not at a daily phase: each one is a huge spike
    against the trailing median, but the AR forecast of the points before predicts it."""
    rng = np.random.default_rng(2)
    y = np.where(np.arange(3000) % 6 == 0, 10.0, 0.0) + rng.normal(0, 0.3, 3000)
    p = replace(FORECAST, forecast_order=8)
    cap = _forecast_cap(y, p, 0)
    assert np.isnan(cap[: p.long // 2]).all()  # no forecast before a full fit window
    med, scale = _baseline(y, p)
    pulses = np.arange(600, 3000, 6)
    assert (np.abs(y - med) / scale)[pulses].min() > 8
    assert cap[pulses].max() < 5


def test_the_drift_z_rises_on_a_slow_ramp() -> None:
    rng = np.random.default_rng(9)
    y = 10 + rng.normal(0, 0.4, 2200)
    y[900:1100] -= np.linspace(0, 6, 200)
    d = _drift_z(y, ses_forecast(y, 0.1)[0], FORECAST)
    assert d[900:1000].max() > 1.5 * d[200:900].max()
    off = replace(FORECAST, drift_alpha=0.0)
    assert np.all(raw_z(y, None, FORECAST) >= raw_z(y, None, off))  # one more z in the max


@pytest.mark.parametrize(
    "bad", [{"forecast_order": -1}, {"forecast_order": 60, "long": 100}, {"drift_alpha": 1.0}]
)
def test_bad_forecast_settings_are_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        OnlineParams(**bad)


def test_shipped_defaults_keep_the_forecast_views_off_in_the_bare_fields() -> None:
    assert OnlineParams().forecast_order == 0 and OnlineParams().drift_alpha == 0.0
    assert OnlineParams.nab().forecast_order == 12 and OnlineParams.nab().drift_alpha == 0.1

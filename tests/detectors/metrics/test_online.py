from __future__ import annotations

import numpy as np
import pytest

from detectors.metrics.online import (
    OnlineParams,
    context_z,
    raw_z,
    score_series,
    shared_hold,
)
from tests.detectors.metrics.metric_factories import streamed

SMALL = OnlineParams(long=50, quiet=30, min_history=8)


def _series(n: int = 900, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    ts = np.arange(n) * 3600.0
    y = 10 + 3 * np.sin(2 * np.pi * np.arange(n) / 24) + rng.normal(0, 0.3, n)
    return ts, y


def test_score_is_causal_prefix_scores_never_change() -> None:
    ts, y = _series()
    y[600:] += 4
    full = score_series(y, timestamps=ts, params=SMALL)
    for k in (30, 99, 400, 601, 750):
        assert np.array_equal(score_series(y[:k], timestamps=ts[:k], params=SMALL), full[:k])


def test_streaming_detector_matches_batch_exactly() -> None:
    ts, y = _series(700, 1)
    y[500] = 60.0
    y[450:460] = np.nan
    full = score_series(y, timestamps=ts, params=SMALL)
    assert np.allclose(streamed(SMALL, y, ts), full, atol=1e-12)


def test_spike_and_level_shift_score_high_and_alarm_once() -> None:
    ts, y = _series(900, 2)
    y[500] += 30
    y[700:] += 8
    s = score_series(y, timestamps=ts, params=SMALL)
    assert s[500] > 0.9
    assert s[700:703].max() > 0.8
    quiet = np.r_[s[SMALL.min_history + 60 : 495], s[510:690]]
    assert quiet.max() < 0.7  # robust z below ~6 on plain noise
    # after the shift is alarmed, the new level does not alarm again and again
    assert (s[705:760] > 0.8).sum() <= 2


def test_daily_season_is_not_news_but_a_missing_peak_is() -> None:
    ts, y = _series(24 * 40, 3)
    s = score_series(y, timestamps=ts, params=SMALL)
    assert s[300:].max() < 0.7  # plain noise: at most a modest score for its rare records
    y2 = y.copy()
    day = 24 * 30
    y2[day : day + 24] = 10.0  # the daily swing stops for a day
    s2 = score_series(y2, timestamps=ts, params=SMALL)
    assert s2[day : day + 24].max() > 0.8
    assert s2[day : day + 24].max() > 5 * s[day : day + 24].max()


def test_flat_nan_and_tiny_series() -> None:
    assert score_series([]).size == 0
    assert score_series([1.0]).tolist() == [0.0]
    assert score_series([5.0] * 100).max() == 0.0
    assert score_series([np.nan] * 10).tolist() == [0.0] * 10
    y = np.r_[np.full(60, 3.0), np.nan, np.full(60, 3.0)]
    s = score_series(y, params=SMALL)
    assert s[60] == 0.0 and s.max() == 0.0


HOLD = OnlineParams(long=50, quiet=30, min_history=8, gate_z=0.0, short=3, alarm_level=0.9, hold=20)


def test_streaming_matches_batch_with_a_refractory_period() -> None:
    ts, y = _series(700, 4)
    y[500:505] = [30, 40, 50, 60, 70]  # a climbing burst
    y[450:460] = np.nan
    full = score_series(y, timestamps=ts, params=HOLD)
    assert np.allclose(streamed(HOLD, y, ts), full, atol=1e-12)


def test_a_climbing_burst_raises_one_alarm_with_a_refractory_period() -> None:
    ts, y = _series(700, 5)
    y[500:505] += np.array([1.2, 2.0, 4.0, 20.0, 50.0])  # each point further out than the one before
    no_hold = score_series(y, timestamps=ts, params=OnlineParams(**{**HOLD.__dict__, "alarm_level": 0.0}))
    held = score_series(y, timestamps=ts, params=HOLD)
    assert (no_hold[500:505] >= 0.9).sum() >= 3  # without it: one alarm per climbing point
    assert (held[500:505] >= 0.9).sum() == 1 and held[500] >= 0.9  # with it: the first point only
    # elsewhere the hold only ever lowers scores, and only right after an alarm
    assert np.all(held <= no_hold)
    changed = np.nonzero(held < no_hold)[0]
    alarms = np.nonzero(held >= 0.9)[0]
    assert all(((i - alarms > 0) & (i - alarms <= HOLD.hold)).any() for i in changed)


CTX = OnlineParams(long=50, quiet=30, min_history=8, gate_z=0.0, context_bins=10, context_learn=100,
                   context_long=300)


def _rhythm_change(seed: int = 7) -> np.ndarray:
    """A 0..9 sawtooth whose order reverses at point 900: same values, new transitions."""
    rng = np.random.default_rng(seed)
    saw = np.tile(np.arange(10.0), 120)
    y = saw + rng.normal(0, 0.05, saw.size)
    y[900:] = 9 - saw[900:] + rng.normal(0, 0.05, saw.size - 900)
    return y


def test_context_detector_sees_a_new_rhythm_that_the_value_z_does_not() -> None:
    y = _rhythm_change()
    zc, ready_at = context_z(y, CTX)
    assert ready_at == CTX.context_learn - 1  # scores start with the last point of the learning period
    assert zc[900:940].max() > 2.5 * zc[:900].max()
    zv = raw_z(y, None, CTX)
    assert zv[900:940].max() < 1.5 * zv[200:900].max()  # no single value is out of the ordinary
    s = score_series(y, params=CTX)
    off = score_series(y, params=OnlineParams(**{**CTX.__dict__, "context_bins": 0}))
    assert s[900:940].max() > 0.999 > off[900:940].max()  # a record of the context z after the change
    assert np.array_equal(s[: ready_at], off[: ready_at])  # nothing from it during its learning period


@pytest.mark.parametrize("params", [CTX, OnlineParams(**{**CTX.__dict__, "alarm_level": 0.9, "hold": 20})])
def test_context_detector_streams_like_the_batch_and_is_causal(params: OnlineParams) -> None:
    ts, y = _series(700, 6)
    y[:3] = np.nan  # leading gap: nothing to carry forward yet
    y[450:460] = np.nan
    y[600:] = y[600:][::-1]
    y[650] += 20
    full = score_series(y, timestamps=ts, params=params)
    assert np.allclose(streamed(params, y, ts), full, atol=1e-12)
    for k in (40, 102, 103, 333, 650):  # before, at and after the end of the learning period
        assert np.array_equal(score_series(y[:k], timestamps=ts[:k], params=params), full[:k])
    assert full[450:460].max() == 0.0


def test_one_refractory_period_for_both_detectors() -> None:
    p = OnlineParams(alarm_level=0.9, hold=3, damp=0.5)
    s = np.array([0.1, 0.95, 0.99, 0.2, 0.97, 0.96, 0.3, 0.92])
    # 0.95 alarms; the next 3 points are damped even when higher (0.99, 0.97); 0.96 is past the
    # period and alarms again, which damps 0.3 and 0.92
    assert np.allclose(shared_hold(s, p), [0.1, 0.95, 0.495, 0.1, 0.485, 0.96, 0.15, 0.46])
    assert np.array_equal(shared_hold(s, OnlineParams(hold=3)), s)  # no alarm level: no hold


def test_context_detector_on_flat_short_and_empty_input() -> None:
    assert score_series([], params=CTX).size == 0
    zc, ready_at = context_z(np.full(400, 5.0), CTX)
    assert ready_at == CTX.context_learn - 1 and zc.max() == 0.0  # nothing new ever happens
    zc, ready_at = context_z(np.arange(50.0), CTX)  # shorter than the learning period
    assert ready_at == 50 and zc.max() == 0.0
    assert score_series([np.nan] * 10, params=CTX).tolist() == [0.0] * 10
    assert score_series(np.full(400, 5.0), params=CTX).max() == score_series(
        np.full(400, 5.0), params=OnlineParams(**{**CTX.__dict__, "context_bins": 0})
    ).max()


def test_bad_context_settings_are_refused() -> None:
    for bad in ({"context_bins": -1}, {"context_learn": 1}, {"context_short": 0}, {"context_long": 1},
                {"context_alpha": 0.0}):
        with pytest.raises(ValueError):
            OnlineParams(**bad)  # type: ignore[arg-type]

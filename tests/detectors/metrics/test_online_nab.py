"""The NAB configuration's parts (``OnlineParams.nab()``): tail probabilities scaled by the history, the
context baseline over all earlier surprises and outside the averaged ones, and streaming == batch for all
of them, including after the streaming buffer has filled and before the second seasonal period."""

from __future__ import annotations

import math

import numpy as np
import pytest

from detectors.metrics.online import (
    CONTEXT_MIN_COUNT,
    ContextModel,
    OnlineParams,
    _scaled_tail,
    _tail_scale,
    calibrate,
    context_z,
    score_series,
)
from tests.detectors.metrics.metric_factories import streamed

ALL_PAST = OnlineParams(
    long=50,
    quiet=30,
    min_history=8,
    gate_z=0.0,
    alarm_level=0.9,
    hold=20,
    context_bins=10,
    context_learn=100,
    context_long=0,
)


def test_context_baseline_over_all_earlier_points_streams_like_the_batch() -> None:
    rng = np.random.default_rng(5)
    ts = np.arange(1500) * 300.0
    y = 10 + 3 * np.sin(2 * np.pi * np.arange(1500) / 288) + rng.normal(0, 0.3, 1500)
    y[700:760] = y[700:760][::-1]
    y[1000] += 8
    full = score_series(y, timestamps=ts, params=ALL_PAST)
    assert np.allclose(streamed(ALL_PAST, y, ts), full, atol=1e-12)
    for k in (99, 400, 1001):
        assert np.array_equal(score_series(y[:k], timestamps=ts[:k], params=ALL_PAST), full[:k])


def test_context_baseline_over_all_earlier_points_keeps_no_window() -> None:
    model = ContextModel(ALL_PAST)
    for v in np.random.default_rng(1).normal(size=3000):
        model.push(float(v))
    # running totals: O(1) memory however long the series
    assert len(model._history) <= ALL_PAST.context_short + 1
    y = np.tile(np.arange(10.0), 120)
    y[900:] = 9 - y[900:]  # the same values in reverse order: only the transitions are new
    zc, _ = context_z(y, ALL_PAST)
    assert zc[900:940].max() > 2.5 * zc[:900].max()


@pytest.mark.parametrize("bad", [-1, 1])
def test_bad_context_long_is_refused(bad: int) -> None:
    with pytest.raises(ValueError):
        OnlineParams(context_long=bad)


SCALED = OnlineParams(
    long=50,
    quiet=30,
    min_history=8,
    alarm_level=0.9,
    hold=20,
    context_bins=5,
    context_learn=100,
    context_long=200,
    history_exp=0.5,
    history_ref=100,
    context_rarity=3.0,
)


def test_scaled_tails_stream_like_the_batch() -> None:
    rng = np.random.default_rng(7)
    n = 700
    ts = np.arange(n) * 3600.0
    y = 10 + 3 * np.sin(2 * np.pi * np.arange(n) / 24) + rng.normal(0, 0.3, n)
    y[450:460] = np.nan
    y[600:] = y[600:][::-1]
    y[650] += 20
    full = score_series(y, timestamps=ts, params=SCALED)
    assert np.allclose(streamed(SCALED, y, ts), full, atol=1e-12)
    for k in (40, 99, 100, 333, 650):
        assert np.array_equal(score_series(y[:k], timestamps=ts[:k], params=SCALED), full[:k])


def test_a_long_history_needs_a_rarer_z() -> None:
    z = np.abs(np.random.default_rng(3).normal(size=5000))
    plain = OnlineParams(gate_z=0.0, damp=1.0, min_history=8)
    scaled = OnlineParams(gate_z=0.0, damp=1.0, min_history=8, history_exp=0.5, history_ref=100)
    a, b = calibrate(z, plain), calibrate(z, scaled)
    late = slice(1000, None)  # history well past history_ref: every score is lower
    assert np.all(b[late] <= a[late]) and (b[late] < a[late]).any()
    assert (b[late] >= 0.995).sum() < (a[late] >= 0.995).sum()
    assert b.min() >= 0.0  # a tail probability scaled above 1 is a score of 0, not below
    ctx = calibrate(z, plain, rarity=10.0)
    assert np.all(ctx <= a)


def test_a_short_history_does_not_lift_ordinary_points() -> None:
    # with c < 1 (history shorter than history_ref) the odds of the tail are scaled, not the
    # probability: a far-tail z alarms a little sooner, an ordinary one stays ordinary
    c = float(_tail_scale(30, OnlineParams.nab(), 1.0))
    assert c < 0.2
    assert _scaled_tail(0.9, c) > 0.5 and _scaled_tail(0.001, c) == pytest.approx(0.001 * c, rel=0.01)
    assert _scaled_tail(0.37, 1.0) == 0.37  # c = 1 (no scaling) changes nothing
    # a flat series has no deviation at all: every score is 0, from the first points on
    # (scaling the probability gave its second point 0.98)
    flat = np.full(1200, 5.0)
    ts = np.arange(flat.size) * 300.0
    assert score_series(flat, timestamps=ts).max() == 0.0
    assert streamed(OnlineParams.nab(), flat, ts).max() == 0.0
    z = np.abs(np.random.default_rng(8).normal(size=400))
    z[::7] = 0.0
    assert np.all(calibrate(z, OnlineParams.nab())[z == 0] == 0.0)


def test_the_default_is_the_nab_configuration_and_gated_is_the_bare_fields() -> None:
    y = 10 + np.random.default_rng(4).normal(0, 1, 900)
    y[700:704] += 9
    ts = np.arange(y.size) * 300.0
    default = score_series(y, timestamps=ts)
    assert np.array_equal(default, score_series(y, timestamps=ts, params=OnlineParams.nab()))
    assert np.array_equal(streamed(OnlineParams.default(), y, ts), default)
    assert OnlineParams.gated() == OnlineParams() and OnlineParams.gated().gate_z > 0
    assert not np.array_equal(default, score_series(y, timestamps=ts, params=OnlineParams.gated()))


def test_bad_tail_settings_are_refused() -> None:
    for bad in ({"history_exp": -0.1}, {"history_ref": 0}, {"context_rarity": 0.0}):
        with pytest.raises(ValueError):
            OnlineParams(**bad)  # type: ignore[arg-type]


def test_prefix_scores_do_not_depend_on_the_length_seen_later() -> None:
    # half-hourly data, period 48: a prefix longer than the 64-point probe but shorter than two
    # periods must score like the same points of the full series
    rng = np.random.default_rng(11)
    n = 400
    ts = np.arange(n) * 1800.0
    y = 10 + 3 * np.sin(2 * np.pi * np.arange(n) / 48) + rng.normal(0, 0.3, n)
    p = OnlineParams(long=50, quiet=30, min_history=8)
    full = score_series(y, timestamps=ts, params=p)
    for k in (30, 70, 90, 150):
        assert np.array_equal(score_series(y[:k], timestamps=ts[:k], params=p), full[:k])


def _reference_context_z(y: np.ndarray, p: OnlineParams) -> np.ndarray:
    """The context z written out from its definition: transition surprise over bins fixed by the
    learning period, its mean over the last ``context_short`` points against the mean / spread of the
    ``context_long`` surprises before those (not overlapping them)."""
    lo, hi = np.percentile(y[: p.context_learn], [1.0, 99.0])
    width = (hi - lo) / p.context_bins
    bins = np.floor((y - lo) / width).astype(int)
    counts: dict[tuple[int, int], int] = {}
    totals: dict[int, int] = {}
    seen: set[int] = set()
    a = np.zeros(y.size)
    for i, s in enumerate(bins):
        if i:
            prev = int(bins[i - 1])
            k = max(len(seen), p.context_bins)
            a[i] = -math.log(
                (counts.get((prev, s), 0) + p.context_alpha)
                / (totals.get(prev, 0) + p.context_alpha * (k + 1))
            )
            counts[(prev, s)] = counts.get((prev, s), 0) + 1
            totals[prev] = totals.get(prev, 0) + 1
        seen.add(int(s))
    z = np.zeros(y.size)
    for i in range(y.size):
        short = a[max(0, i - p.context_short + 1) : i + 1]
        base = a[max(0, i - p.context_short - p.context_long + 1) : max(0, i - p.context_short + 1)]
        if base.size >= min(CONTEXT_MIN_COUNT, p.context_long):
            zi = (short.mean() - base.mean()) / max(base.std(), 1e-3)
            z[i] = zi if zi > 1e-6 else 0.0
    return z


def test_context_z_is_measured_against_the_surprises_before_the_short_window() -> None:
    """A rhythm that reverses halfway: the model's z equals the reference at every point, so the
    baseline holds only the surprises from before the averaged ones."""
    rng = np.random.default_rng(3)
    saw = np.tile(np.arange(10.0), 80)
    y = saw + rng.normal(0, 0.05, saw.size)
    y[500:] = 9 - saw[500:] + rng.normal(0, 0.05, saw.size - 500)
    p = OnlineParams(context_bins=10, context_learn=100, context_short=30, context_long=300)
    zc, ready_at = context_z(y, p)
    assert ready_at == p.context_learn - 1
    assert np.allclose(zc, _reference_context_z(y, p), atol=1e-9)
    assert zc[500:540].max() > 2 * zc[:500].max()


def test_streaming_matches_batch_after_the_buffer_fills_on_flat_stretches() -> None:
    """Long flat stretches have a true z of 0; the moving mean's float noise must not rank them differently
    in the streaming buffer and in the whole series (it did, by up to 0.7, past ``memory`` points)."""
    rng = np.random.default_rng(4)
    p = OnlineParams(long=50, quiet=30, min_history=8, gate_z=0.0, alarm_level=0.99, hold=10)
    y = np.repeat(rng.choice([0.1, 0.3, 0.7, 1.9], size=40), 50) + np.where(rng.random(2000) < 0.01, 5.0, 0.0)
    assert y.size > 3 * p.memory(None)
    full = score_series(y, params=p)
    assert np.allclose(streamed(p, y), full, atol=1e-12)

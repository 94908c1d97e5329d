"""The NAB scorer (bench/nab.py) against the benchmark's own stored results."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from bench.nab import (
    Costs,
    load_corpus,
    load_profiles,
    optimise_threshold,
    prepare_file,
    random_halves,
    reproduce_stored,
    score_file,
)


@pytest.mark.data
def test_scorer_reproduces_every_stored_result(shared_data: Path) -> None:
    data = shared_data / "nab"
    profiles = load_profiles(data)
    files, _ = load_corpus(data)
    checks = reproduce_stored(data, files, profiles)
    assert len(checks) > 150
    assert [c for c in checks if not c["ok"]] == []


def test_threshold_sweep_equals_brute_force() -> None:
    rng = np.random.default_rng(0)
    stamps = [f"2020-01-01 00:{m:02d}:{s:02d}" for m, s in itertools.product(range(60), range(0, 60, 20))]
    files = [
        prepare_file("a", stamps[:120], [[stamps[40], stamps[55]], [stamps[90], stamps[100]]]),
        prepare_file("b", stamps[:150], []),
        prepare_file("c", stamps[:100], [[stamps[60], stamps[79]]]),
    ]
    scores = {f.name: np.round(rng.random(f.n_rows), 2) for f in files}
    costs = Costs(1.0, 2.0, 0.11)
    thr, best = optimise_threshold(files, scores, costs)
    candidates = np.unique(np.concatenate(list(scores.values())))
    brute = max(sum(score_file(f, scores[f.name], t, costs).score for f in files) for t in candidates)
    assert best == pytest.approx(brute)
    assert sum(score_file(f, scores[f.name], thr, costs).score for f in files) == pytest.approx(best)


def test_window_weights_follow_the_scaled_sigmoid() -> None:
    stamps = [f"2020-01-01 00:00:{s:02d}" for s in range(50)]
    f = prepare_file("x", stamps, [[stamps[20], stamps[29]]])
    costs = Costs(1.0, 1.0, 0.11)
    early, late = np.zeros(50), np.zeros(50)
    early[20], late[29] = 1.0, 1.0
    assert score_file(f, early, 0.5, costs).score == pytest.approx(1.0)
    assert 0.2 < score_file(f, late, 0.5, costs).score < 0.3  # sigma(-0.1) / sigma(-1)
    miss = np.zeros(50)
    miss[45] = 1.0  # a false positive well past the window costs almost the full fp weight
    r = score_file(f, miss, 0.5, costs)
    assert r.fp == 1 and r.score == pytest.approx(-1.0 - 0.11, abs=0.01)


def test_random_halves_measure_what_a_part_adds_per_subset() -> None:
    stamps = [f"2020-01-01 00:{m:02d}:{s:02d}" for m, s in itertools.product(range(60), range(0, 60, 20))]
    files = [prepare_file(f"f{i}", stamps[:150], [[stamps[100], stamps[119]]]) for i in range(6)]
    files.append(prepare_file("quiet", stamps[:150], []))  # a file without windows
    without = {f.name: np.zeros(f.n_rows) for f in files}
    full = {name: s.copy() for name, s in without.items()}
    full["f0"][100] = 1.0  # the part catches the window of f0 at its start, nothing else changes
    costs = Costs(1.0, 1.0, 0.11)
    d = random_halves(files, full, without, costs, splits=10, seed=1)
    assert d.size == 20
    assert np.all(d >= 0) and (d > 0).sum() == 10  # exactly the half holding f0 gains, every split
    assert np.all(random_halves(files, without, without, costs, splits=5) == 0)

from __future__ import annotations

import random
from pathlib import Path

import pytest

from bot.domain import ConfigError, GroundTruth
from bot.reasoning.dataset import LabelledCase
from bot.reasoning.scorer import RankerModel
from bot.reasoning.train import evaluate, expected_calibration_error, fit_model

from .factories import at, context, signal, similar


def _cases(n: int, seed: int) -> list[LabelledCase]:
    """Cases where the true cause is the dependency whose anomaly started first, callers follow."""
    rng = random.Random(seed)
    kinds = ["db_slow_query", "db_connection_exhaustion", "cpu_saturation", "memory_leak", "disk_full"]
    out = []
    for i in range(n):
        kind = rng.choice(kinds)
        decoy = rng.choice([k for k in kinds if k != kind])
        sigs = [signal("metrics", "db", kind, rng.uniform(0.6, 1.0), rng.uniform(0, 3)),
                signal("logs", "checkout", decoy, rng.uniform(0.5, 1.0), rng.uniform(4, 8)),
                signal("metrics", "frontend", "error_rate_increase", 0.7, rng.uniform(5, 9))]
        sims = [similar("db", kind, 0.9)] if rng.random() < 0.5 else []
        out.append(LabelledCase(name=f"c{i}", context=context(), signals=sigs, similar=sims, runbooks=[],
                                truth=GroundTruth(category="database", root_cause_service="db", root_cause_kind=kind)))
    return out


def test_trained_model_learns_held_out_cases_and_calibration_is_monotone() -> None:
    model = fit_model(_cases(60, 1), folds=3)
    assert model.meta["source"] == "trained"
    assert model.calibration_y == sorted(model.calibration_y)
    held_out = evaluate(_cases(30, 2), model)
    assert held_out["ac1"] >= 0.9
    assert 0.0 <= held_out["ece"] <= 1.0


def test_model_round_trips_through_json_and_rejects_malformed_files(tmp_path: Path) -> None:
    model = fit_model(_cases(30, 3), folds=3)
    path = tmp_path / "m.json"
    model.save(path)
    again = RankerModel.load(path)
    assert again.coef == pytest.approx(model.coef) and again.calibration_x == model.calibration_x
    path.write_text('{"features": ["a"], "coef": []}')
    with pytest.raises(ConfigError, match="retrain"):
        RankerModel.load(path)


def test_expected_calibration_error() -> None:
    assert expected_calibration_error([0.9] * 10, [1] * 9 + [0]) == pytest.approx(0.0)
    assert expected_calibration_error([1.0] * 4, [0] * 4) == pytest.approx(1.0)
    assert expected_calibration_error([], []) == 0.0


def test_labelled_case_round_trips_through_json() -> None:
    case = _cases(1, 4)[0]
    case.context.events = []
    again = LabelledCase.from_json(case.to_json())
    assert again.truth == case.truth and [s.id for s in again.signals] == [s.id for s in case.signals]
    assert again.context.alert_time == at(10)

"""The first-contact confidence map: fitted from answers given before anybody tuned on the cases."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from bench.casebook.first_contact import _fit, _fit_map, _logit, fit, load_rows, row_inputs


def _rows(pairs: list[tuple[float, bool]]) -> dict[str, list[dict[str, object]]]:
    return {"rows": [{"case": f"c{i}", "hit": h, "confidence": c, "calibrated": c} for i, (c, h) in enumerate(pairs)]}


def test_answers_right_less_often_than_they_claim_are_pulled_down(tmp_path: Path) -> None:
    # claimed 0.95, right 6 times in 10; claimed 0.2, right once in 10
    pairs = [(0.95, i < 6) for i in range(10)] + [(0.2, i < 1) for i in range(10)]
    path = tmp_path / "rows.json"
    path.write_text(json.dumps(_rows(pairs)))
    figures = fit(path, write=False, names=("z_calibrated",))
    a, b = figures["slope"], figures["intercept"]
    high = 1 / (1 + math.exp(-(a * _logit(0.95) + b)))
    low = 1 / (1 + math.exp(-(a * _logit(0.2) + b)))
    assert 0.6 < high < 0.9  # from 0.95 towards the 0.6 seen, held back by the prior
    assert 0.1 < low < 0.3
    assert figures["wrong_above_half_before"] == 4


def test_a_calibrated_record_leaves_the_map_near_identity() -> None:
    rng = np.random.default_rng(0)
    conf = rng.uniform(0.05, 0.95, 400)
    hits = (rng.uniform(0, 1, 400) < conf).astype(float)
    a, b = _fit(np.array([_logit(c) for c in conf]), hits)
    assert abs(a - 1.0) < 0.2 and abs(b) < 0.2


def _featured(pairs: list[tuple[float, bool, bool]]) -> dict[str, list[dict[str, object]]]:
    return {"rows": [{"case": f"c{i}", "hit": h, "confidence": c, "calibrated": c,
                      "features": {"conf:decisive_top": 0.8} if d else {}}
                     for i, (c, h, d) in enumerate(pairs)]}


def test_an_answer_without_a_decisive_finding_of_its_own_is_trusted_less(tmp_path: Path) -> None:
    # the same claimed 0.9: right 18 times in 20 with a decisive finding, twice in 20 without
    pairs = [(0.9, i < 18, True) for i in range(20)] + [(0.9, i < 2, False) for i in range(20)]
    path = tmp_path / "rows.json"
    path.write_text(json.dumps(_featured(pairs)))
    figures = fit(path, write=False, names=("z_calibrated", "decisive_top"))
    coef, b = figures["coef"], figures["intercept"]
    with_finding = 1 / (1 + math.exp(-(coef["z_calibrated"] * _logit(0.9) + 0.8 * coef["decisive_top"] + b)))
    without = 1 / (1 + math.exp(-(coef["z_calibrated"] * _logit(0.9) + b)))
    assert coef["decisive_top"] > 0.5
    assert without < 0.5 < with_finding


def test_a_map_input_no_analysis_computes_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "rows.json"
    path.write_text(json.dumps(_featured([(0.9, True, True), (0.2, False, False)])))
    with pytest.raises(SystemExit, match="unknown map input"):
        fit(path, write=False, names=("z_calibrated", "decisive_found"))


def test_rows_without_features_cannot_fit_a_featured_map(tmp_path: Path) -> None:
    path = tmp_path / "rows.json"
    path.write_text(json.dumps(_rows([(0.9, True), (0.2, False)])))
    with pytest.raises(SystemExit, match="record it again"):
        fit(path, write=False, names=("z_calibrated", "decisive_top"))


def test_a_case_recorded_in_two_batches_is_refused(tmp_path: Path) -> None:
    one, two = tmp_path / "a.json", tmp_path / "b.json"
    one.write_text(json.dumps(_rows([(0.9, True)])))
    two.write_text(json.dumps(_rows([(0.4, False)])))
    with pytest.raises(SystemExit, match="recorded twice"):
        load_rows([one, two])


def test_the_shipped_map_is_the_one_the_committed_rows_give() -> None:
    from bot.reasoning.scorer import DEFAULT_MODEL_PATH

    folder = Path(__file__).resolve().parents[2] / "bench" / "casebook"
    shipped = json.loads(DEFAULT_MODEL_PATH.read_text())["confidence"]
    names = tuple(shipped["coef"])
    files = sorted(folder.glob("first_contact*.json"))
    assert files and all(p.name in shipped["fitted_on"] for p in files)
    rows = load_rows(files)
    w, b = _fit_map(np.array([row_inputs(r, names) for r in rows]), np.array([1.0 if r["hit"] else 0.0 for r in rows]),
                    names)
    assert shipped["coef"] == {n: round(float(v), 4) for n, v in zip(names, w, strict=True)}
    assert shipped["intercept"] == round(b, 4)


def test_many_rows_at_the_clipped_top_do_not_make_the_fit_diverge(tmp_path: Path) -> None:
    # a batch where most answers claimed certainty and half were wrong: full Newton steps overshoot here
    pairs = [(1.0, i < 10, True) for i in range(20)] + [(0.6, i < 1, True) for i in range(6)] \
        + [(0.95, i < 12, True) for i in range(14)] + [(0.3, i < 2, False) for i in range(12)]
    path = tmp_path / "rows.json"
    path.write_text(json.dumps(_featured(pairs)))
    figures = fit(path, write=False, names=("z_calibrated",))
    a, b = figures["slope"], figures["intercept"]
    top = 1 / (1 + math.exp(-(a * _logit(1.0) + b)))
    assert 0.0 < a < 1.5
    assert 0.5 < top < 0.8  # right 10 times in 20 at the top, pulled up a little by the prior


def test_record_refuses_a_test_case(tmp_path: Path) -> None:
    from bench.casebook.first_contact import record

    case = tmp_path / "cases" / "k8s-02-x"
    case.mkdir(parents=True)
    (case / "alert.json").write_text(json.dumps({"alertname": "X", "service": "web"}), encoding="utf-8")
    (case / "truth.json").write_text(json.dumps({"category": "memory", "root_cause_service": "web",
                                                  "root_cause_kind": "oom_kill", "split": "test"}), encoding="utf-8")
    with pytest.raises(SystemExit, match="not a dev case"):
        record(tmp_path / "cases", tmp_path / "out.json")

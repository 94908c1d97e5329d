"""The first-contact confidence map: fitted from answers given before anybody tuned on the cases."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from bench.casebook.first_contact import _fit, _fit_parts, _logit, fit, load_rows, row_inputs


def _rows(pairs: list[tuple[float, bool]]) -> dict[str, list[dict[str, object]]]:
    return {"rows": [{"case": f"c{i}", "hit": h, "confidence": c, "calibrated": c} for i, (c, h) in enumerate(pairs)]}


def test_answers_right_less_often_than_they_claim_are_pulled_down(tmp_path: Path) -> None:
    # claimed 0.95, right 6 times in 10; claimed 0.2, right once in 10
    pairs = [(0.95, i < 6) for i in range(10)] + [(0.2, i < 1) for i in range(10)]
    path = tmp_path / "rows.json"
    path.write_text(json.dumps(_rows(pairs)))
    figures = fit(path, write=False, names=("z_calibrated",), kind_names=())
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
    figures = fit(path, write=False, names=("z_calibrated", "decisive_top"), kind_names=())
    coef, b = figures["coef"], figures["intercept"]
    with_finding = 1 / (1 + math.exp(-(coef["z_calibrated"] * _logit(0.9) + 0.8 * coef["decisive_top"] + b)))
    without = 1 / (1 + math.exp(-(coef["z_calibrated"] * _logit(0.9) + b)))
    assert coef["decisive_top"] > 0.5
    assert without < 0.5 < with_finding


def test_a_map_input_no_analysis_computes_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "rows.json"
    path.write_text(json.dumps(_featured([(0.9, True, True), (0.2, False, False)])))
    with pytest.raises(SystemExit, match="unknown map input"):
        fit(path, write=False, names=("z_calibrated", "decisive_found"), kind_names=())


def test_rows_without_features_cannot_fit_a_featured_map(tmp_path: Path) -> None:
    path = tmp_path / "rows.json"
    path.write_text(json.dumps(_rows([(0.9, True), (0.2, False)])))
    with pytest.raises(SystemExit, match="record it again"):
        fit(path, write=False, names=("z_calibrated", "decisive_top"), kind_names=())


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
    names, kind_names = tuple(shipped["coef"]), tuple(shipped["kind"]["coef"])
    files = sorted(folder.glob("first_contact*.json"))
    assert files and all(p.name in shipped["fitted_on"] for p in files)
    (w, b), kind = _fit_parts(load_rows(files), names, kind_names)
    assert kind is not None
    assert shipped["coef"] == {n: round(float(v), 4) for n, v in zip(names, w, strict=True)}
    assert shipped["intercept"] == round(b, 4)
    assert shipped["kind"]["coef"] == {n: round(float(v), 4) for n, v in zip(kind_names, kind[0], strict=True)}
    assert shipped["kind"]["intercept"] == round(kind[1], 4)


def _two_part(rows: list[tuple[float, bool, bool, float]]) -> dict[str, list[dict[str, object]]]:
    """(calibrated, service right, kind right, change competing on the answered service)"""
    return {"rows": [{"case": f"c{i}", "hit": s and k, "service_hit": s, "confidence": c, "calibrated": c,
                      "features": {"conf:change_competes": ch} if ch else {}}
                     for i, (c, s, k, ch) in enumerate(rows)]}


def test_a_change_competing_on_the_answered_service_lowers_the_kind_part(tmp_path: Path) -> None:
    # the service is right 18 times in 20 at 0.9 either way; the kind is right 15 of 18 times without a
    # change of that service just before the onset, 4 of 18 with one
    rows = [(0.9, i < 18, i < 15, 0.0) for i in range(20)] + [(0.9, i < 18, i < 4, 0.95) for i in range(20)]
    path = tmp_path / "rows.json"
    path.write_text(json.dumps(_two_part(rows)))
    figures = fit(path, write=False, names=("z_calibrated",), kind_names=("z_calibrated", "change_competes"))
    kind = figures["kind"]
    assert kind["coef"]["change_competes"] < -0.5
    service = 1 / (1 + math.exp(-(figures["coef"]["z_calibrated"] * _logit(0.9) + figures["intercept"])))
    def kind_part(change: float) -> float:
        z = kind["coef"]["z_calibrated"] * _logit(0.9) + kind["coef"]["change_competes"] * change + kind["intercept"]
        return 1 / (1 + math.exp(-z))
    assert service > 0.75  # the service part learns from all 40 rows: right 36 times
    assert service * kind_part(0.95) < 0.5 < service * kind_part(0.0)
    assert figures["right_service_first"] == 36


def test_a_kind_part_needs_rows_that_say_whether_the_service_was_right(tmp_path: Path) -> None:
    path = tmp_path / "rows.json"
    path.write_text(json.dumps(_rows([(0.9, True), (0.2, False)])))
    with pytest.raises(SystemExit, match="service_hit"):
        fit(path, write=False)


def test_a_row_recorded_before_change_competes_was_an_input_reads_the_feature_it_comes_from() -> None:
    row = {"case": "c", "hit": False, "calibrated": 0.88, "features": {"change_on_service": 0.7}}
    assert row_inputs(row, ("change_competes",)) == [0.7]
    row["features"]["conf:change_competes"] = 0.2  # recorded as an input: that value wins
    assert row_inputs(row, ("change_competes",)) == [0.2]


def test_many_rows_at_the_clipped_top_do_not_make_the_fit_diverge(tmp_path: Path) -> None:
    # a batch where most answers claimed certainty and half were wrong: full Newton steps overshoot here
    pairs = [(1.0, i < 10, True) for i in range(20)] + [(0.6, i < 1, True) for i in range(6)] \
        + [(0.95, i < 12, True) for i in range(14)] + [(0.3, i < 2, False) for i in range(12)]
    path = tmp_path / "rows.json"
    path.write_text(json.dumps(_featured(pairs)))
    figures = fit(path, write=False, names=("z_calibrated",), kind_names=())
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


def test_record_stores_whether_the_first_answers_service_was_right(tmp_path: Path) -> None:
    from bench.casebook.first_contact import record

    case = tmp_path / "cases" / "k8s-01-x"
    case.mkdir(parents=True)
    (case / "alert.json").write_text(json.dumps({"alertname": "KubePodCrashLooping", "service": "web",
                                                 "summary": "web is OOMKilled and restarting"}), encoding="utf-8")
    (case / "truth.json").write_text(json.dumps({"category": "memory", "root_cause_service": "web",
                                                 "root_cause_kind": "memory_leak", "split": "dev"}), encoding="utf-8")
    out = tmp_path / "out.json"
    record(tmp_path / "cases", out)
    (row,) = json.loads(out.read_text())["rows"]
    # the alert names web and an OOM kill: the right component, another kind than the (memory_leak) truth
    assert row["features"].get("kind:oom_kill") == 1.0
    assert row["service_hit"] is True and row["hit"] is False
    assert row["answer"] == ["web", "oom_kill"]


def test_z_kubernetes_of_a_row_recorded_before_it_existed_comes_from_its_evidence_types() -> None:
    old_cluster = {"case": "a", "hit": True, "calibrated": 0.9, "features": {}, "evidence_types": ["alert", "kubernetes"]}
    old_text = {"case": "b", "hit": True, "calibrated": 0.9, "features": {}, "evidence_types": ["log", "topology"]}
    recorded = {"case": "c", "hit": True, "calibrated": 0.9, "features": {"conf:z_kubernetes": 1.5},
                "evidence_types": ["log"]}
    names = ("z_calibrated", "z_kubernetes")
    assert row_inputs(old_cluster, names) == pytest.approx([_logit(0.9), _logit(0.9)])
    assert row_inputs(old_text, names) == pytest.approx([_logit(0.9), 0.0])
    assert row_inputs(recorded, names) == pytest.approx([_logit(0.9), 1.5])  # what the analysis computed wins

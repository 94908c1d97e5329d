"""The top confidence in two parts: P(service right) times P(kind right | service right)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from bot.domain import ChangeEvent
from bot.reasoning import rank
from bot.reasoning.scorer import RankerModel

from .factories import at, context, signal


def _sig(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def _two_part(model: RankerModel) -> RankerModel:
    out = model.copy()
    out.confidence_coef, out.confidence_intercept = {"z_calibrated": 0.5}, 0.2
    out.kind_confidence_coef = {"z_calibrated": 0.4, "change_competes": -2.0}
    out.kind_confidence_intercept = 0.1
    return out


def test_the_top_confidence_is_the_product_of_the_service_and_kind_parts() -> None:
    model = _two_part(RankerModel.prior())
    inputs = {"z_calibrated": 2.0, "change_competes": 0.5, "margin": 0.9}
    service, kind = model.confidence_parts(inputs) or (0.0, 0.0)
    assert service == pytest.approx(_sig(0.5 * 2.0 + 0.2))
    assert kind == pytest.approx(_sig(0.4 * 2.0 - 2.0 * 0.5 + 0.1))
    assert model.top_confidence(inputs) == pytest.approx(service * kind)
    # without a kind part the one map for the pair is used, as before
    single = model.copy()
    single.kind_confidence_coef = {}
    assert single.confidence_parts(inputs) is None
    assert single.top_confidence(inputs) == pytest.approx(_sig(0.5 * 2.0 + 0.2))


def test_the_kind_part_round_trips_through_the_model_file(tmp_path: Path) -> None:
    model = _two_part(RankerModel.prior())
    path = tmp_path / "m.json"
    model.save(path)
    again = RankerModel.load(path)
    assert again.kind_confidence_coef == model.kind_confidence_coef
    assert again.kind_confidence_intercept == model.kind_confidence_intercept
    assert again.confidence_coef == model.confidence_coef
    one_map = RankerModel.prior()
    one_map.confidence_coef = {"z_calibrated": 0.4}
    one_map.save(path)
    assert "kind" not in json.loads(path.read_text())["confidence"]
    assert RankerModel.load(path).kind_confidence_coef == {}


def test_a_change_of_the_answered_service_lowers_a_symptom_kind_but_not_the_ranking() -> None:
    sigs = [signal("metrics", "checkout", "cpu_saturation", 0.9, 0), signal("logs", "checkout", "cpu_saturation", 0.8, 0)]
    quiet = context(topology={})
    changed = context(topology={}, events=[ChangeEvent(ts=at(-4), kind="config", service="checkout", text="limits")])
    model = _two_part(RankerModel.prior())
    before = rank(context=quiet, signals=sigs, similar=[], runbooks=[], model=model)
    after = rank(context=changed, signals=sigs, similar=[], runbooks=[], model=model)
    tops = [before.hypotheses[0], after.hypotheses[0]]
    assert [(h.service, h.kind) for h in tops] == [("checkout", "cpu_saturation")] * 2
    for top in tops:
        assert top.confidence == pytest.approx(top.features["conf:p_service"] * top.features["conf:p_kind"], abs=1e-4)
    assert tops[0].features["conf:change_competes"] == 0.0
    assert tops[1].features["conf:change_competes"] == pytest.approx(tops[1].features["change_on_service"], abs=1e-5)
    assert tops[1].features["conf:change_competes"] > 0.5
    # the change (config, 4 minutes before) competes with the kind: the kind part falls further than the service's
    kind_drop = tops[0].features["conf:p_kind"] / tops[1].features["conf:p_kind"]
    service_drop = tops[0].features["conf:p_service"] / tops[1].features["conf:p_service"]
    assert kind_drop > 2.0 > service_drop
    # the confidence map never reorders: the others stay at or below the top, in the learned order
    confs = [h.confidence for h in after.hypotheses]
    assert confs == sorted(confs, reverse=True)
    assert ("checkout", "config_change") in [(h.service, h.kind) for h in after.hypotheses[1:]]


def test_an_answer_resting_on_the_clusters_reported_state_carries_its_logit_as_z_kubernetes() -> None:
    model = RankerModel.prior()
    model.confidence_coef, model.confidence_intercept = {"z_calibrated": 0.35, "z_kubernetes": 0.4}, -0.2
    model.kind_confidence_coef, model.kind_confidence_intercept = {"change_competes": -0.4, "z_kubernetes": 0.4}, 0.2
    ctx = context(topology={})
    tops = []
    for source in ("kubernetes", "logs"):
        sigs = [signal(source, "checkout", "oom_kill", 0.95, 0)]
        tops.append(rank(context=ctx, signals=sigs, similar=[], runbooks=[], model=model).hypotheses[0])
    cluster, text = tops
    assert [(h.service, h.kind) for h in tops] == [("checkout", "oom_kill")] * 2
    assert "kubernetes" in {e.type.value for e in cluster.evidence}
    assert "kubernetes" not in {e.type.value for e in text.evidence}
    assert cluster.features["conf:z_kubernetes"] == pytest.approx(cluster.features["conf:z_calibrated"])
    assert cluster.features["conf:z_kubernetes"] > 0
    assert text.features.get("conf:z_kubernetes", 0.0) == 0.0
    # both answers are near certain in the ranking; the one read from free text is trusted less in both parts
    assert min(cluster.features["conf:calibrated"], text.features["conf:calibrated"]) > 0.95
    assert cluster.features["conf:p_service"] > text.features["conf:p_service"]
    assert cluster.features["conf:p_kind"] > text.features["conf:p_kind"]
    assert cluster.confidence > 0.5 > text.confidence
    assert text.features["conf:p_kind"] == pytest.approx(_sig(0.2), abs=1e-4)

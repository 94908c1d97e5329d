"""The metric ranking's clear origin (``metric.origin``) weighs in the scorer as evidence of its own."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.domain import IncidentContext, Signal, SignalSource
from bot.pipeline.bundle import incident_from_alert_payload
from bot.reasoning.features import build_candidates
from bot.reasoning.ranker import rank
from bot.reasoning.scorer import EVIDENCE_WEIGHTS, RankerModel, default_model
from tests.reasoning.factories import at, context, signal

DATA = Path(__file__).with_name("data")


def _origin(service: str, score: float = 1.0) -> Signal:
    return Signal(source=SignalSource.METRICS, detector="metric.origin", service=service, kind="dependency_failure",
                  metric="latency_average", title=f"{service}: latency_average accounts for its callers",
                  score=score, started_at=at(5))


def _metric(service: str, kind: str, score: float, metric: str) -> Signal:
    return signal("metrics", service, kind, score, 5, metric=metric)


def test_every_candidate_on_the_origin_service_carries_the_ranking_verdict() -> None:
    ctx = context(service="web", topology={"web": ["api"], "api": ["table"], "table": []})
    sigs = [_origin("table", 0.97), _metric("table", "traffic_spike", 0.7, "requests_sum"),
            _metric("api", "latency_increase", 0.9, "latency_p99")]
    cands = build_candidates(context=ctx, signals=sigs, similar=[], runbooks=[])
    on_table = [c for c in cands if c.service == "table"]
    assert {c.kind for c in on_table} >= {"dependency_failure", "traffic_spike"}
    assert all(c.features["metric_origin"] == 0.97 for c in on_table)
    assert all(c.features["metric_origin"] == 0.0 for c in cands if c.service != "table")


def test_a_model_file_without_the_weight_still_weighs_the_origin() -> None:
    data = default_model().to_dict(include_booster=False)
    data["evidence_weights"] = {"decisive_score": 5.0, "decisive_gap": 60.0, "alert_confirms": 3.0}
    model = RankerModel.from_dict(data)
    assert model.evidence_weights["metric_origin"] == EVIDENCE_WEIGHTS["metric_origin"] > 0
    data["evidence_weights"]["metric_origin"] = 0.5  # the file's own value wins
    assert RankerModel.from_dict(data).evidence_weights["metric_origin"] == 0.5


def _recorded(name: str) -> tuple[IncidentContext, list[Signal], str]:
    """A recorded signal set (tests/reasoning/data): the alert, the call graph, the metric signals and the
    service the metric ranking named the origin (the issue's root cause)."""
    data = json.loads((DATA / name).read_text())
    alert = data["alert"]
    incident = incident_from_alert_payload({"name": f"{alert['service']} {alert['metric']} alarm",
                                            "service": alert["service"], "starts_at": alert["starts_at"],
                                            "labels": {"metric": alert["metric"]}})
    sigs = [Signal(source=SignalSource.METRICS, detector=s["detector"], service=s["service"], kind=s["kind"], metric=s["metric"],
                   title=f"{s['service']}: {s['metric']}", score=s["score"], started_at=s["started_at"],
                   attributes={"downstream_of": s["downstream_of"]}) for s in data["signals"]]
    return IncidentContext(incident=incident, topology=data["topology"]), sigs, data["origin"]


@pytest.mark.parametrize("name", ["origin_vs_victim.json", "origin_vs_named_db.json"])
def test_the_ranking_origin_leads_the_answer(name: str) -> None:
    # without the weight the learned scorer put a victim's traffic jump, or a database-named service's latency
    # read as slow queries, above the service the ranking found every caller's anomaly to follow from
    ctx, sigs, origin = _recorded(name)
    model = default_model().copy()
    assert rank(context=ctx, signals=sigs, similar=[], runbooks=[], model=model).hypotheses[0].service == origin
    model.evidence_weights["metric_origin"] = 0.0
    assert rank(context=ctx, signals=sigs, similar=[], runbooks=[], model=model).hypotheses[0].service != origin

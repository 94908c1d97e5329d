"""The origin in dependency order: a dependency that began failing no later than its anomalous callers, with
healthy dependencies of its own, outranks them, and a finding on such a caller is no rival of its cause."""

from __future__ import annotations

from bot.domain import Signal
from bot.reasoning.features import build_candidates
from bot.reasoning.ranker import rank
from bot.reasoning.scorer import EVIDENCE_WEIGHTS, RankerModel, default_model
from tests.reasoning.factories import context, signal

TOPOLOGY = {"web": ["node-7", "auth"], "auth": [], "node-7": []}


def _decisive(service: str, kind: str, score: float, minute: float) -> Signal:
    return signal("logs", service, kind, score, minute, attributes={"decisive": True})


def _scene_signals(node_minute: float) -> list[Signal]:
    # the alerted caller logs a decisive-looking failure of its own at minute 10; the node it runs on drifts
    return [
        _decisive("web", "exception_surge", 0.4, 10),
        signal("metrics", "web", "error_rate_increase", 0.9, 10, metric="error_ratio"),
        signal("metrics", "node-7", "exception_surge", 0.9, node_minute, metric="clock_offset_seconds"),
    ]


def _by_key(node_minute: float) -> dict[tuple[str, str], dict[str, float]]:
    ctx = context(service="web", title="web errors", topology=TOPOLOGY)
    cands = build_candidates(context=ctx, signals=_scene_signals(node_minute), similar=[], runbooks=[])
    return {(c.service, c.kind): c.features for c in cands}


def test_an_earlier_dependency_is_the_origin_and_its_callers_finding_no_rival() -> None:
    feats = _by_key(node_minute=2)
    node = feats[("node-7", "exception_surge")]
    assert node["dependency_origin"] == 1.0
    assert node["decisive_gap"] == 0.0  # web's finding follows from the node: it does not push the node down
    web = feats[("web", "exception_surge")]
    assert web["dependency_origin"] == 0.0  # its dependency failed first: web is no origin


def test_a_dependency_that_failed_after_its_caller_is_no_origin() -> None:
    node = _by_key(node_minute=30)[("node-7", "exception_surge")]
    assert node["dependency_origin"] == 0.0
    assert node["decisive_gap"] == -0.4  # the caller's earlier finding stays a rival


def test_onsets_within_the_grace_are_the_same_moment() -> None:
    # a metric's change point placed a minute after the caller's first error line is still the origin
    assert _by_key(node_minute=11)[("node-7", "exception_surge")]["dependency_origin"] == 1.0


def test_a_dependency_whose_own_dependency_fails_is_no_origin() -> None:
    ctx = context(service="web", title="web errors", topology={"web": ["api"], "api": ["db"], "db": []})
    sigs = [
        signal("metrics", "web", "error_rate_increase", 0.9, 10, metric="error_ratio"),
        signal("metrics", "api", "latency_increase", 0.9, 5, metric="latency_p99"),
        signal("metrics", "db", "db_slow_query", 0.9, 3, metric="query_p95_ms"),
    ]
    feats = {
        (c.service, c.kind): c.features
        for c in build_candidates(context=ctx, signals=sigs, similar=[], runbooks=[])
    }
    assert feats[("db", "db_slow_query")]["dependency_origin"] == 1.0
    assert all(f["dependency_origin"] == 0.0 for (svc, _k), f in feats.items() if svc == "api")


def test_a_dependency_one_caller_failed_before_is_no_origin() -> None:
    # a caller's bad deploy at minute 2 overloads the database at 5; another caller fails at 8: the database
    # came before the second caller, yet the first one may have caused it, so it is no origin
    ctx = context(service="web", title="web errors", topology={"web": ["db"], "batch": ["db"], "db": []})
    sigs = [
        signal("logs", "batch", "exception_surge", 0.9, 2),
        signal("metrics", "db", "db_slow_query", 0.9, 5, metric="query_p95_ms"),
        signal("metrics", "web", "error_rate_increase", 0.9, 8, metric="error_ratio"),
    ]
    feats = {
        (c.service, c.kind): c.features
        for c in build_candidates(context=ctx, signals=sigs, similar=[], runbooks=[])
    }
    assert feats[("db", "db_slow_query")]["dependency_origin"] == 0.0


def test_no_topology_no_origin() -> None:
    ctx = context(service="web", title="web errors", topology={})
    cands = build_candidates(context=ctx, signals=_scene_signals(node_minute=2), similar=[], runbooks=[])
    assert all(c.features["dependency_origin"] == 0.0 for c in cands)


def test_the_origin_leads_the_answer_over_the_alerted_callers_finding() -> None:
    ctx = context(service="web", title="web errors", topology=TOPOLOGY)
    model = default_model().copy()
    top = rank(
        context=ctx, signals=_scene_signals(node_minute=2), similar=[], runbooks=[], model=model
    ).hypotheses[0]
    assert top.service == "node-7"
    model.evidence_weights["dependency_origin"] = 0.0
    top = rank(
        context=ctx, signals=_scene_signals(node_minute=2), similar=[], runbooks=[], model=model
    ).hypotheses[0]
    assert top.service == "web"


def test_a_model_file_without_the_weight_still_weighs_the_origin() -> None:
    data = default_model().to_dict(include_booster=False)
    data["evidence_weights"] = {"decisive_score": 5.0, "decisive_gap": 60.0}
    assert (
        RankerModel.from_dict(data).evidence_weights["dependency_origin"]
        == EVIDENCE_WEIGHTS["dependency_origin"]
        > 0
    )


def test_the_metric_rankings_clear_origin_elsewhere_withdraws_it() -> None:
    # the metric ranking (detectors/metrics/rank.py, measured on PetShop) reads onsets finer than a change point's
    # minute: when it names another service the origin, the coarse onset order does not overrule it
    ctx = context(service="web", title="web errors", topology=TOPOLOGY)
    verdict = signal("metrics", "web", "latency_increase", 0.8, 10).model_copy(update={"detector": "metric.origin"})
    with_verdict = {(c.service, c.kind): c.features
                    for c in build_candidates(context=ctx, signals=[*_scene_signals(2), verdict], similar=[],
                                              runbooks=[])}
    assert with_verdict[("node-7", "exception_surge")]["dependency_origin"] == 0.0
    assert _by_key(node_minute=2)[("node-7", "exception_surge")]["dependency_origin"] == 1.0


def test_a_queue_backlog_gets_no_origin_from_dependency_order() -> None:
    # the broker's queue grows while its consumer's processing slows: the consumer (a caller) is no victim of it
    ctx = context(service="broker", title="queue depth of broker above 1000",
                  topology={"consumer": ["broker"], "producer": ["broker"], "broker": []})
    sigs = [
        signal("metrics", "broker", "queue_backlog", 0.9, 5, metric="queue_depth"),
        signal("metrics", "consumer", "latency_increase", 0.8, 5, metric="processing_ms"),
    ]
    cands = build_candidates(context=ctx, signals=sigs, similar=[], runbooks=[])
    feats = {(c.service, c.kind): c.features for c in cands}
    assert feats[("broker", "queue_backlog")]["dependency_origin"] == 0.0


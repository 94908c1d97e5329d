from __future__ import annotations

from bot.domain import ALL_KINDS, ChangeEvent, EvidenceType, Signal
from bot.reasoning import rank
from bot.reasoning.scorer import RankerModel

from .factories import at, context, runbook, signal, similar


def _ids(result) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return [(h.service, h.kind) for h in result.hypotheses]


def test_dependency_that_broke_first_is_ranked_above_its_callers() -> None:
    ctx = context()
    sigs = [
        signal("metrics", "checkout", "latency_increase", 0.9, 6, metric="http_latency_p99"),
        signal("logs", "db", "db_connection_exhaustion", 0.85, 2),
        signal("metrics", "frontend", "error_rate_increase", 0.8, 7),
    ]
    result = rank(context=ctx, signals=sigs, similar=[], runbooks=[])
    assert result.hypotheses[0].service == "db"
    assert result.hypotheses[0].kind == "db_connection_exhaustion"
    assert result.enough_evidence


def test_confidences_are_probabilities_summing_to_at_most_one_and_ranks_are_ordered() -> None:
    sigs = [signal("logs", "db", "db_slow_query", 0.6, 1), signal("metrics", "checkout", "cpu_saturation", 0.6, 1)]
    result = rank(context=context(), signals=sigs, similar=[similar("payments", "rate_limited", 0.5)], runbooks=[])
    confs = [h.confidence for h in result.hypotheses]
    assert all(0.0 <= c <= 1.0 for c in confs)
    assert sum(confs) <= 1.0 + 1e-6
    assert confs == sorted(confs, reverse=True)
    assert [h.rank for h in result.hypotheses] == list(range(1, len(confs) + 1))
    assert all(h.kind in ALL_KINDS for h in result.hypotheses)


def test_deploy_just_before_first_anomaly_is_a_candidate_with_change_evidence() -> None:
    ctx = context(events=[ChangeEvent(ts=at(-3), kind="deploy", service="checkout", text="v2.4.1")])
    sigs = [signal("metrics", "checkout", "error_rate_increase", 0.9, 0), signal("logs", "checkout", "log_anomaly", 0.7, 0)]
    result = rank(context=ctx, signals=sigs, similar=[], runbooks=[])
    top = result.hypotheses[0]
    assert (top.service, top.kind) == ("checkout", "bad_deploy")
    assert any(e.type is EvidenceType.CHANGE for e in top.evidence)


def test_deploy_long_before_the_anomaly_is_not_a_candidate() -> None:
    ctx = context(events=[ChangeEvent(ts=at(-600), kind="deploy", service="checkout", text="v2.4.0")])
    sigs = [signal("metrics", "checkout", "cpu_saturation", 0.9, 0)]
    result = rank(context=ctx, signals=sigs, similar=[], runbooks=[])
    assert ("checkout", "bad_deploy") not in _ids(result)


def test_every_hypothesis_has_evidence_copied_from_its_inputs() -> None:
    sig = signal("logs", "db", "db_connection_exhaustion", 0.9, 2)
    inc = similar("db", "db_connection_exhaustion")
    rb = runbook("db_connection_exhaustion", ["db"])
    result = rank(context=context(), signals=[sig], similar=[inc], runbooks=[(rb, 0.6)])
    top = result.hypotheses[0]
    ids = {e.id for e in top.evidence}
    assert sig.id in ids and f"incident:{inc.id}" in ids and f"runbook:{rb.id}" in ids
    assert all(h.evidence for h in result.hypotheses)


def test_similar_incidents_alone_produce_a_candidate_but_weak_evidence_is_flagged() -> None:
    result = rank(context=context(), signals=[], similar=[similar("db", "db_down", 0.3)], runbooks=[])
    assert ("db", "db_down") in _ids(result)
    assert not result.enough_evidence
    assert any("not enough evidence" in n for n in result.notes)


def test_nothing_at_all_gives_an_explicit_not_enough_evidence_answer() -> None:
    result = rank(context=context(title="Something odd"), signals=[], similar=[], runbooks=[])
    assert result.hypotheses == []
    assert result.enough_evidence is False
    assert result.notes


def test_symptom_only_signals_map_to_cause_kinds() -> None:
    sigs = [signal("metrics", "checkout", "latency_increase", 0.8, 0, metric="http_latency_p99")]
    result = rank(context=context(topology={}), signals=sigs, similar=[], runbooks=[])
    assert result.hypotheses
    assert {h.kind for h in result.hypotheses} <= set(ALL_KINDS)
    assert "latency_increase" not in {h.kind for h in result.hypotheses}


def test_log_text_names_the_kind_when_the_detector_did_not() -> None:
    sig = Signal(source="logs", detector="t", service="orders", kind="log_anomaly", score=0.8, started_at=at(0),
                 title="new template surge", attributes={"template": "ERROR could not resolve host <*>: NXDOMAIN"})
    result = rank(context=context(service="orders", topology={}), signals=[sig], similar=[], runbooks=[])
    assert ("orders", "dns_failure") in _ids(result)[:2]


def test_defensive_against_signals_without_service_time_or_kind() -> None:
    sigs = [Signal(source="logs", detector="t", title="weird", score=0.5),
            Signal(source="metrics", detector="t", title="odd", kind="unheard_of_kind", score=0.9, service="x"),
            Signal(source="changes", detector="t", title="scale", kind="scale", service="checkout")]
    result = rank(context=context(), signals=sigs, similar=[], runbooks=[])
    assert all(h.kind in ALL_KINDS for h in result.hypotheses)


def test_an_explicit_model_changes_the_ranking() -> None:
    sigs = [signal("logs", "db", "db_slow_query", 0.9, 0), signal("metrics", "checkout", "cpu_saturation", 0.5, 0)]
    default = rank(context=context(topology={}), signals=sigs, similar=[], runbooks=[])
    assert default.hypotheses[0].kind == "db_slow_query"
    prior = RankerModel.prior()
    flipped = RankerModel(features=prior.features, coef=[-c for c in prior.coef], intercept=0.0)
    other = rank(context=context(topology={}), signals=sigs, similar=[], runbooks=[], model=flipped)
    assert other.hypotheses[0].kind != "db_slow_query"


def test_ties_in_calibrated_confidence_keep_the_learned_order() -> None:
    # a calibration map that says 0 for every weak score must not reorder candidates alphabetically
    sigs = [signal("logs", "zeta", "db_slow_query", 0.9, 0), signal("metrics", "alpha", "cpu_saturation", 0.2, 0)]
    prior = RankerModel.prior()
    flat = RankerModel(features=prior.features, coef=prior.coef, intercept=prior.intercept,
                       calibration_x=[0.0, 1.0], calibration_y=[0.0, 0.0])
    result = rank(context=context(topology={}), signals=sigs, similar=[], runbooks=[], model=flat)
    assert all(h.confidence == 0.0 for h in result.hypotheses)
    raw = [h.features["raw_confidence"] for h in result.hypotheses]
    assert raw == sorted(raw, reverse=True)
    assert _ids(result)[0] == ("zeta", "db_slow_query")

"""Report figures checked against values computed here independently (numpy, plain loops) from the
seeded incidents, not from the reporting code."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import numpy as np
import pytest

from bot.domain import Analysis, Hypothesis, Incident, IncidentStatus, InputError, category_of
from bot.reporting import ReportOptions, ReportScope, build_report
from tests.reporting.conftest import NOW
from tests.reporting.factory import Seeded

SCOPE = ReportScope.parse(days=21, now=NOW)


def _category(inc: Incident, seeded: Seeded) -> str:
    if inc.confirmed_kind:
        return category_of(inc.confirmed_kind).value
    analyses = seeded.analyses.get(inc.id)
    return category_of(analyses[-1].hypotheses[0].kind).value if analyses else "unknown"


def _in_scope(seeded: Seeded) -> list[Incident]:
    return [i for i in seeded.incidents if SCOPE.since <= i.created_at < SCOPE.until]


def test_incidents_per_day_match_independent_counts(store, seeded) -> None:  # type: ignore[no-untyped-def]
    report = build_report("incidents-per-day", store=store, scope=SCOPE)
    expected = Counter((i.created_at.date().isoformat(), _category(i, seeded)) for i in _in_scope(seeded))
    got = {(r["day"], r["category"]): r["count"] for r in report["rows"]}
    assert got == dict(expected)
    assert report["total"] == len(_in_scope(seeded))
    assert len(report["days"]) == 22  # 21 days of range touching 22 calendar days (noon to noon)
    by_sev = build_report("incidents-per-day", store=store, scope=SCOPE, options=ReportOptions(group_by="severity"))
    assert by_sev["totals"] == dict(Counter(i.severity.value for i in _in_scope(seeded)))


def test_mtta_mttr_percentiles_match_numpy(store, seeded) -> None:  # type: ignore[no-untyped-def]
    report = build_report("response-times", store=store, scope=SCOPE)
    incidents = _in_scope(seeded)
    ack = [(i.acknowledged_at - (i.started_at or i.created_at)).total_seconds() / 60 for i in incidents
           if i.acknowledged_at]
    res = [(i.resolved_at - (i.started_at or i.created_at)).total_seconds() / 60 for i in incidents if i.resolved_at]
    assert len(res) > 20
    assert report["mtta"]["count"] == len(ack)
    assert report["mttr"]["count"] == len(res)
    for q in (50, 90, 95):
        assert report["mttr"][f"p{q}"] == pytest.approx(np.percentile(res, q), abs=0.01)
        assert report["mtta"][f"p{q}"] == pytest.approx(np.percentile(ack, q), abs=0.01)
    assert report["mttr"]["mean"] == pytest.approx(np.mean(res), abs=0.01)
    # the trend's buckets partition the resolved incidents
    assert sum(t["mttr"]["count"] for t in report["trend"]) == len(res)
    weekly = build_report("response-times", store=store, scope=SCOPE, options=ReportOptions(bucket="week"))
    assert weekly["bucket"] == "week" and len(weekly["trend"]) in (4, 5)


def test_hit_rates_and_calibration_match_independent_scoring(store, seeded) -> None:  # type: ignore[no-untyped-def]
    judged = []
    for inc in _in_scope(seeded):
        analyses = seeded.analyses.get(inc.id)
        if not (inc.confirmed_kind and analyses):
            continue
        pairs = [(h.service, h.kind) for h in analyses[-1].hypotheses]
        truth = (inc.confirmed_service, inc.confirmed_kind)
        judged.append((pairs[0] == truth, truth in pairs[:3], analyses[-1].hypotheses[0].confidence))
    assert len(judged) > 15
    report = build_report("hit-rate", store=store, scope=SCOPE)
    assert report["cases"] == len(judged)
    assert report["top1_hits"] == sum(t1 for t1, _t3, _c in judged)
    assert report["top3_hits"] == sum(t3 for _t1, t3, _c in judged)
    assert report["top1"] == pytest.approx(report["top1_hits"] / len(judged), abs=1e-4)
    assert sum(t["cases"] for t in report["trend"]) == len(judged)

    cal = build_report("calibration", store=store, scope=SCOPE, options=ReportOptions(bins=5))
    conf = np.array([c for _t1, _t3, c in judged])
    right = np.array([1.0 if t1 else 0.0 for t1, _t3, _c in judged])
    idx = np.minimum((conf * 5).astype(int), 4)
    ece = sum((idx == b).sum() / len(conf) * abs(conf[idx == b].mean() - right[idx == b].mean())
              for b in range(5) if (idx == b).any())
    assert [b["count"] for b in cal["bins"]] == [int((idx == b).sum()) for b in range(5)]
    assert cal["ece"] == pytest.approx(ece, abs=1e-3)
    assert cal["brier"] == pytest.approx(float(((conf - right) ** 2).mean()), abs=1e-3)


def test_the_answer_is_the_last_analysis_before_resolution(store) -> None:  # type: ignore[no-untyped-def]
    start = NOW - timedelta(days=1)
    inc = Incident(id="inc-x", title="x", service="api", created_at=start, started_at=start,
                   acknowledged_at=start + timedelta(minutes=2), resolved_at=start + timedelta(minutes=30),
                   status=IncidentStatus.RESOLVED, confirmed_service="db", confirmed_kind="db_down")
    store.save_incident(incident=inc)
    wrong = [Hypothesis(service="api", kind="bad_deploy", title="t", confidence=0.8),
             Hypothesis(service="db", kind="db_down", title="t", confidence=0.3)]
    right = [Hypothesis(service="DB", kind="db_down", title="t", confidence=0.9)]
    store.save_analysis(analysis=Analysis(incident_id="inc-x", created_at=start + timedelta(minutes=1), hypotheses=wrong))
    # a re-analysis after resolution knows the answer; it must not count
    store.save_analysis(analysis=Analysis(incident_id="inc-x", created_at=start + timedelta(hours=1), hypotheses=right))
    report = build_report("hit-rate", store=store, scope=SCOPE)
    assert (report["cases"], report["top1_hits"], report["top3_hits"]) == (1, 0, 1)
    rows = build_report("incidents", store=store, scope=SCOPE)["items"]
    assert rows[0]["hit_rank"] == 2 and rows[0]["category"] == "database"


def test_early_warnings_came_true(store, seeded) -> None:  # type: ignore[no-untyped-def]
    report = build_report("early-warnings", store=store, scope=SCOPE)
    warnings = [i for i in _in_scope(seeded) if i.is_early_warning]
    real = [i for i in seeded.incidents if not i.is_early_warning]
    expected = sum(1 for w in warnings if any(r.service == w.service and w.created_at <= r.created_at
                                              <= w.created_at + timedelta(hours=24) for r in real))
    assert report["raised"] == len(warnings) == 6
    assert report["came_true"] == expected >= 2
    short = build_report("early-warnings", store=store, scope=SCOPE, options=ReportOptions(horizon_hours=1))
    assert short["came_true"] <= expected


def test_filters_narrow_every_figure(store, seeded) -> None:  # type: ignore[no-untyped-def]
    scope = ReportScope.parse(days=21, now=NOW, service="checkout", severity="critical")
    expected = [i for i in _in_scope(seeded) if i.service == "checkout" and i.severity.value == "critical"]
    assert build_report("summary", store=store, scope=scope)["figures"]["incidents"] == len(expected)
    cat = ReportScope.parse(days=21, now=NOW, category="database")
    expected_db = [i for i in _in_scope(seeded) if _category(i, seeded) == "database"]
    report = build_report("incidents", store=store, scope=cat)
    assert report["total"] == len(expected_db) > 0
    assert {r["id"] for r in report["items"]} == {i.id for i in expected_db}
    searched = build_report("incidents", store=store, scope=SCOPE, options=ReportOptions(q="OOM", status="resolved"))
    assert searched["total"] == sum(1 for i in _in_scope(seeded) if "OOM" in i.title and i.status == IncidentStatus.RESOLVED)


def test_feedback_llm_and_root_causes(store, seeded) -> None:  # type: ignore[no-untyped-def]
    fb = build_report("feedback", store=store, scope=SCOPE)
    ids = {i.id for i in _in_scope(seeded)}
    votes = Counter(f.vote.value for f in seeded.feedback if f.incident_id in ids)
    # resolving with a cause also records a "fixed" vote in the pipeline; the factory writes votes directly
    assert fb["votes"] == {"up": votes["up"], "down": votes["down"], "fixed": votes["fixed"], "viewed": votes.get("viewed", 0)}
    llm = build_report("llm", store=store, scope=SCOPE)
    calls = [a.llm for i in ids for a in seeded.analyses.get(i, []) if a.llm]
    assert llm["calls"] == len(calls)
    assert llm["cost_usd"] == pytest.approx(sum(c["cost_usd"] for c in calls), abs=1e-6)
    assert llm["latency_ms"]["p50"] == pytest.approx(np.percentile([c["latency_ms"] for c in calls], 50), abs=0.01)
    causes = build_report("root-causes", store=store, scope=SCOPE, options=ReportOptions(limit=50))
    confirmed = Counter(i.confirmed_kind for i in _in_scope(seeded) if i.confirmed_kind)
    assert {r["name"]: r["confirmed"] for r in causes["kinds"] if r["confirmed"]} == dict(confirmed)


def test_gameday_runs_are_read_from_state(store) -> None:  # type: ignore[no-untyped-def]
    store.put_state(key="gameday:2026-11-01", data={"name": "November", "top1": 0.6, "top3": 0.9, "mtta_s": 41,
                                                     "scenarios": [{"kind": "disk_full", "hit": True}]})
    store.put_state(key="ranker:weights", data={"w": 1})
    report = build_report("gameday", store=store, scope=SCOPE)
    assert [r["name"] for r in report["runs"]] == ["November"]
    assert report["rate_fields"] == ["top1", "top3"]
    assert report["runs"][0]["scenarios"] == [{"kind": "disk_full", "hit": True}]


def test_scope_parsing() -> None:
    scope = ReportScope.parse(since="2026-11-01", until="2026-11-03")
    assert (scope.until - scope.since) == timedelta(days=3)  # the until date is included
    with pytest.raises(InputError, match="before"):
        ReportScope.parse(since="2026-11-05", until="2026-11-01")
    with pytest.raises(InputError, match="category"):
        ReportScope.parse(category="nope")
    with pytest.raises(InputError, match="ISO"):
        ReportScope.parse(since="yesterday")


def test_gameday_engine_games_are_summarised(store) -> None:  # type: ignore[no-untyped-def]
    from tests.reporting.factory import play_gamedays

    games = play_gamedays(store, start=NOW - timedelta(days=5))
    report = build_report("gameday", store=store, scope=SCOPE)
    assert report["games"] == 3 and report["solved"] == 2  # pointer keys (index, active) are not games
    by_id = {r["id"]: r for r in report["runs"]}
    for game in games:
        run = by_id[game["id"]]
        assert run["figures"]["diagnoses"] == len(game["diagnoses"])
        assert run["figures"]["score"] == pytest.approx(game["result"]["best_points"] / 100, abs=1e-3)
        assert [d["correct"] for d in run["scenarios"]] == [d["correct"] for d in game["diagnoses"]]
    solved_minutes = sorted(g["result"]["time_to_diagnosis_s"] / 60 for g in games if g["result"]["solved"])
    assert report["median_minutes_to_diagnosis"] == pytest.approx(float(np.median(solved_minutes)))
    assert set(report["rate_fields"]) == {"score", "correct_diagnoses"}


@pytest.mark.integration
def test_reports_agree_on_sqlite_and_postgresql(any_store) -> None:  # type: ignore[no-untyped-def]
    from tests.reporting.factory import play_gamedays, seed_incidents

    seeded = seed_incidents(any_store, now=NOW, days=21, count=30, seed=21)
    play_gamedays(any_store, start=NOW - timedelta(days=4))
    incidents = _in_scope(seeded)
    assert build_report("summary", store=any_store, scope=SCOPE)["figures"]["incidents"] == len(incidents)
    res = [(i.resolved_at - (i.started_at or i.created_at)).total_seconds() / 60 for i in incidents if i.resolved_at]
    assert build_report("response-times", store=any_store, scope=SCOPE)["mttr"]["p50"] == \
        pytest.approx(np.percentile(res, 50), abs=0.01)
    searched = build_report("incidents", store=any_store, scope=SCOPE, options=ReportOptions(q="oomkilled"))
    assert searched["total"] == sum(1 for i in incidents if "oomkilled" in i.title.lower())  # case-insensitive
    assert build_report("gameday", store=any_store, scope=SCOPE)["games"] == 3


def test_streamed_incident_rows_page_through_every_incident_once_in_report_order(store, seeded) -> None:  # type: ignore[no-untyped-def]
    from bot.reporting.reports import stream_incident_rows

    tied = {store.save_incident(incident=Incident(title=f"tied {n}", service="web",
                                                  created_at=NOW - timedelta(days=2))).id
            for n in range(5)}  # one timestamp across page boundaries: the id breaks the tie
    report = build_report("incidents", store=store, scope=SCOPE)
    expected = sorted([i.id for i in _in_scope(seeded)] + list(tied))
    for size in (1, 4, 7, 500):
        streamed = list(stream_incident_rows(store=store, scope=SCOPE, page_size=size))
        assert sorted(r["id"] for r in streamed) == expected  # each once
        assert [r for r in streamed if r["id"] not in tied] == [r for r in report["rows"] if r["id"] not in tied]
        assert [r["id"] for r in streamed] == [r["id"] for r in sorted(
            streamed, key=lambda r: (r["created_at"], r["id"]), reverse=True)]  # newest first
    only = ReportOptions(status=IncidentStatus.RESOLVED.value)
    resolved = list(stream_incident_rows(store=store, scope=SCOPE, options=only, page_size=3))
    assert {r["id"] for r in resolved} == {i.id for i in _in_scope(seeded) if i.status == IncidentStatus.RESOLVED}

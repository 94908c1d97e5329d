"""Reports read their range a page at a time: the same figures as a whole-range read, on SQLite and
PostgreSQL, and never more than a page of incidents materialised by one statement."""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta

import pytest

from bot.domain import Feedback, Incident, Severity, Vote
from bot.reporting import REPORT_NAMES, ReportOptions, ReportScope, build_report, build_reports, load_snapshot
from bot.reporting.fold import PAGE_SIZE
from bot.reporting.reports import FOLDS
from bot.storage.tables import FeedbackRow, IncidentRow
from tests.reporting.conftest import NOW
from tests.reporting.factory import seed_incidents
from tests.reporting.rowwatch import bulk_incidents, watch_rows

FOLDED = [n for n in REPORT_NAMES if n in FOLDS]


def _whole(name: str, store, scope: ReportScope, options: ReportOptions) -> dict:  # type: ignore[no-untyped-def]
    """The figures of a report computed on the whole range read at once (``load_snapshot``)."""
    snapshot = load_snapshot(store=store, scope=scope, horizon=timedelta(hours=options.horizon_hours), q=options.q,
                             status=options.status)
    return {"report": name, "scope": scope.as_dict(), **FOLDS[name](scope, store, options).over(snapshot)}


def _ties(store) -> None:  # type: ignore[no-untyped-def]
    """Warnings and real incidents opened at one instant, across page boundaries, and one followed after the end."""
    at = NOW - timedelta(days=3)
    for n in range(6):
        store.save_incident(incident=Incident(id=f"inc-tiew{n}", title="Disk fills", service="checkout", created_at=at,
                                              is_early_warning=True, severity=Severity.WARNING))
        store.save_incident(incident=Incident(id=f"inc-tier{n}", title="Errors", created_at=at,
                                              service="checkout" if n % 2 else "search"))
    store.save_incident(incident=Incident(id="inc-edgew", title="Disk fills", service="auth", is_early_warning=True,
                                          created_at=NOW - timedelta(hours=3), severity=Severity.WARNING))
    store.save_incident(incident=Incident(id="inc-edger", title="Errors", service="auth",
                                          created_at=NOW + timedelta(hours=2)))


@pytest.mark.integration
def test_paged_reports_equal_the_whole_range_computation(any_store) -> None:  # type: ignore[no-untyped-def]
    seed_incidents(any_store, now=NOW, days=40, count=300, seed=17, with_chat=False)
    _ties(any_store)
    cases = [(ReportScope.parse(days=40, now=NOW), ReportOptions()),
             (ReportScope.parse(days=10, now=NOW, category="database"), ReportOptions(bucket="week", bins=7)),
             (ReportScope.parse(days=40, now=NOW, service="checkout"),
              ReportOptions(group_by="service", limit=3, horizon_hours=2.0, q="on", status="resolved"))]
    for scope, options in cases:
        whole = {name: _whole(name, any_store, scope, options) for name in FOLDED}
        assert whole["summary"]["figures"]["incidents"] > 0
        for size in (1, 7, PAGE_SIZE):
            paged = build_reports(FOLDED, store=any_store, scope=scope, options=options, page_size=size)
            for name in FOLDED:
                assert json.dumps(paged[name], sort_keys=True) == json.dumps(whole[name], sort_keys=True), (name, size)
    warnings = build_report("early-warnings", store=any_store, scope=ReportScope.parse(days=40, now=NOW), page_size=5)
    followed = {i["id"]: i["followed_by"] for i in warnings["items"]}
    assert {followed[f"inc-tiew{n}"] for n in range(6)} == {"inc-tier1"}  # same instant counts; first by id
    assert followed["inc-edgew"] == "inc-edger"  # opened after the range, within the horizon


@pytest.mark.integration
def test_reports_never_materialise_more_than_a_page_of_incidents(any_store) -> None:  # type: ignore[no-untyped-def]
    incidents = bulk_incidents(any_store, now=NOW, count=1200, days=20, feedback_per_incident=2)
    scope = ReportScope.parse(days=30, now=NOW)
    names = [*FOLDED, "gameday"]
    with watch_rows(any_store, IncidentRow, FeedbackRow) as watch:
        reports = build_reports(names, store=any_store, scope=scope)
    assert reports["summary"]["figures"]["incidents"] == len(incidents)
    assert reports["feedback"]["total"] == reports["summary"]["figures"]["feedback"] == 2 * len(incidents)
    assert watch.loaded["incidents"] >= len(incidents)  # the hook saw the whole range go by...
    assert 0 < watch.peak["incidents"] <= PAGE_SIZE  # ...a page at a time
    assert watch.loaded["feedback"] == 0  # feedback is counted in the database
    for name in ("response-times", "incidents-per-day", "root-causes", "calibration", "llm"):
        with watch_rows(any_store, IncidentRow) as one:
            build_report(name, store=any_store, scope=scope)
        assert 0 < one.peak["incidents"] <= PAGE_SIZE, name


def test_feedback_report_counts_votes_per_page_once(store) -> None:  # type: ignore[no-untyped-def]
    bulk_incidents(store, now=NOW, count=30, days=5)
    for n in range(30):
        for vote in (Vote.UP, Vote.UP, Vote.DOWN):
            store.add_feedback(feedback=Feedback(incident_id=f"inc-bulk{n:05d}", vote=vote, surface="teams"))
    scope = ReportScope.parse(days=10, now=NOW)
    for size in (1, 4, 100):
        fb = build_report("feedback", store=store, scope=scope, page_size=size)
        assert (fb["total"], fb["incidents_with_feedback"]) == (90, 30)
        assert fb["votes"] == {"up": 60, "down": 30, "fixed": 0, "viewed": 0} and fb["surfaces"] == {"teams": 90}
        assert fb["helpful_share"] == round(60 / 90, 4)


@pytest.mark.integration
def test_the_weekly_digest_reads_its_weeks_a_page_at_a_time(any_store) -> None:  # type: ignore[no-untyped-def]
    from bot.pipeline.digest import build_digest
    from bot.reporting.timing import minutes_to_resolve

    incidents = bulk_incidents(any_store, now=NOW, count=900, days=35)
    with watch_rows(any_store, IncidentRow) as watch:
        digest = build_digest(store=any_store, now=NOW)
    assert watch.loaded["incidents"] >= 900  # the week, the week before and the four weeks before went by...
    assert 0 < watch.peak["incidents"] <= PAGE_SIZE  # ...a page at a time
    week = [i for i in incidents if NOW - timedelta(days=7) <= i.created_at < NOW]
    before = [i for i in incidents if NOW - timedelta(days=35) <= i.created_at < NOW - timedelta(days=7)]
    resolved = sorted((i for i in week if i.resolved_at), key=lambda i: (-(minutes_to_resolve(i) or 0.0)))
    assert [n["id"] for n in digest.notable] == [i.id for i in resolved[:3]]
    week_causes = Counter((i.confirmed_kind, i.confirmed_service) for i in week if i.confirmed_kind)
    prior = Counter((i.confirmed_kind, i.confirmed_service) for i in before if i.confirmed_kind)
    assert {(r["kind"], r["service"]): (r["count"], r["before"]) for r in digest.recurring} == {
        p: (n, prior[p]) for p, n in week_causes.items() if n >= 2 or prior[p]}
    unconfirmed = sum(1 for i in week if i.resolved_at and not i.confirmed_kind)
    assert any(f"{unconfirmed} resolved incident(s) have no confirmed cause" in f for f in digest.follow_ups)

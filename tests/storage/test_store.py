"""The repository on SQLite and on the real PostgreSQL (``any_store``)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from bot.domain import (
    Alert,
    AlertStatus,
    Analysis,
    CategoryAssessment,
    Evidence,
    EvidenceType,
    Feedback,
    Hypothesis,
    Incident,
    IncidentStatus,
    NotFoundError,
    Vote,
    utcnow,
)

pytestmark = pytest.mark.integration


def make_incident(**kw: object) -> Incident:
    base: dict[str, object] = {"title": "checkout 5xx", "fingerprint": "checkout|HighErrorRate", "service": "checkout"}
    base.update(kw)
    return Incident(**base)  # type: ignore[arg-type]


def test_incident_round_trip_with_alerts(any_store) -> None:  # type: ignore[no-untyped-def]
    inc = any_store.save_incident(incident=make_incident(labels={"team": "payments"}))
    a1 = Alert(name="HighErrorRate", service="checkout", labels={"alertname": "HighErrorRate", "pod": "a"})
    a2 = Alert(name="HighLatency", service="checkout", status=AlertStatus.RESOLVED)
    any_store.add_alert(incident_id=inc.id, alert=a1)
    any_store.add_alert(incident_id=inc.id, alert=a2, received_at=utcnow() + timedelta(seconds=1))

    got = any_store.get_incident(incident_id=inc.id)
    assert got.title == "checkout 5xx"
    assert got.labels == {"team": "payments"}
    assert [a.name for a in got.alerts] == ["HighErrorRate", "HighLatency"]
    assert got.alerts[1].status == AlertStatus.RESOLVED
    assert any_store.count_alerts(incident_id=inc.id) == 2


def test_missing_incident_raises_not_found(any_store) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(NotFoundError):
        any_store.get_incident(incident_id="inc-nope")


def test_find_open_incident_ignores_resolved(any_store) -> None:  # type: ignore[no-untyped-def]
    resolved = make_incident(status=IncidentStatus.RESOLVED)
    any_store.save_incident(incident=resolved)
    assert any_store.find_open_incident(fingerprint=resolved.fingerprint) is None
    opened = any_store.save_incident(incident=make_incident())
    found = any_store.find_open_incident(fingerprint=opened.fingerprint)
    assert found is not None and found.id == opened.id


def test_alert_fingerprint_lookup(any_store) -> None:  # type: ignore[no-untyped-def]
    inc = any_store.save_incident(incident=make_incident())
    alert = Alert(name="X", fingerprint="am:abc")
    any_store.add_alert(incident_id=inc.id, alert=alert)
    found = any_store.find_incident_by_alert_fingerprint(fingerprint="am:abc")
    assert found is not None and found.id == inc.id
    assert any_store.find_incident_by_alert_fingerprint(fingerprint="am:other") is None


def test_list_filters(any_store) -> None:  # type: ignore[no-untyped-def]
    any_store.save_incident(incident=make_incident(title="db pool exhausted", service="orders"))
    any_store.save_incident(incident=make_incident(title="disk full", service="inventory",
                                                  status=IncidentStatus.RESOLVED))
    assert {i.service for i in any_store.list_incidents()} == {"orders", "inventory"}
    assert [i.service for i in any_store.list_incidents(status="resolved")] == ["inventory"]
    assert [i.title for i in any_store.list_incidents(q="POOL")] == ["db pool exhausted"]
    assert any_store.count_incidents() == 2


def test_analysis_latest_and_category_column(any_store) -> None:  # type: ignore[no-untyped-def]
    inc = any_store.save_incident(incident=make_incident())
    first = Analysis(incident_id=inc.id, category=CategoryAssessment(label="database", confidence=0.7),
                     created_at=utcnow() - timedelta(minutes=1))
    second = Analysis(
        incident_id=inc.id,
        category=CategoryAssessment(label="storage", confidence=0.9),
        hypotheses=[Hypothesis(rank=1, service="inventory", kind="disk_full", title="Disk full", confidence=0.8,
                               evidence=[Evidence(id="log:inventory:3", type=EvidenceType.LOG, summary="no space")])],
    )
    any_store.save_analysis(analysis=first)
    any_store.save_analysis(analysis=second)
    latest = any_store.latest_analysis(incident_id=inc.id)
    assert latest is not None and latest.id == second.id
    assert latest.hypotheses[0].evidence[0].summary == "no space"
    assert [i.id for i in any_store.list_incidents(category="storage")] == [inc.id]
    assert len(any_store.list_analyses()) == 2


def test_feedback_round_trip(any_store) -> None:  # type: ignore[no-untyped-def]
    inc = any_store.save_incident(incident=make_incident())
    any_store.add_feedback(feedback=Feedback(incident_id=inc.id, service="db", kind="db_down", vote=Vote.UP,
                                             user="U123", surface="slack"))
    any_store.add_feedback(feedback=Feedback(incident_id=inc.id, vote=Vote.DOWN, document_id="INC-1"))
    votes = any_store.list_feedback(incident_id=inc.id)
    assert [(f.vote, f.user) for f in votes] == [(Vote.UP, "U123"), (Vote.DOWN, "unknown")]


def test_chat_post_claimed_exactly_once_under_concurrency(any_store) -> None:  # type: ignore[no-untyped-def]
    inc = any_store.save_incident(incident=make_incident())
    wins: list[bool] = []
    lock = threading.Lock()

    def claim() -> None:
        ok = any_store.claim_chat_post(incident_id=inc.id, surface="slack", channel="#incidents")
        with lock:
            wins.append(ok)

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wins.count(True) == 1
    post = any_store.get_chat_post(incident_id=inc.id, surface="slack")
    assert post is not None and post.state == "pending"
    any_store.update_chat_post(post_id=post.id, state="posted", message_ref="1700000000.000100")
    assert any_store.pending_chat_posts(surface="slack") == []


def test_key_value_state(any_store) -> None:  # type: ignore[no-untyped-def]
    assert any_store.get_state(key="ranker") is None
    any_store.put_state(key="ranker", data={"w": [1, 2]})
    any_store.put_state(key="ranker", data={"w": [3]})
    assert any_store.get_state(key="ranker") == {"w": [3]}

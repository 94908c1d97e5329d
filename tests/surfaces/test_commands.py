"""The shared command language, run against a real store and pipeline (no chat vendor involved)."""

from __future__ import annotations

import pytest

from bot.domain import Evidence, EvidenceType, IncidentStatus, InputError, Signal, Vote
from bot.pipeline import Pipeline, chat
from bot.storage import Store
from bot.surfaces.commands import Command, dispatch, parse_command
from tests.render.factories import analysis, incident


@pytest.fixture
def pipeline(settings, store: Store) -> Pipeline:  # type: ignore[no-untyped-def]
    return Pipeline(settings=settings, store=store)


def _seed(pipeline: Pipeline, **kw: object):  # type: ignore[no-untyped-def]
    inc = pipeline.store.save_incident(incident=incident(**kw))  # type: ignore[union-attr,arg-type]
    ana = analysis(inc)
    ana.signals = [Signal(source="logs", detector="logs", service="checkout", title="ERROR pool timeout surge",
                          score=0.9, evidence=[Evidence(id="l1", type=EvidenceType.LOG, summary="pool timeout",
                                                        detail="12:00:01 ERROR Timeout waiting for connection")])]
    pipeline.store.save_analysis(analysis=ana)  # type: ignore[union-attr]
    return inc, ana


@pytest.mark.parametrize(("text", "expected"), [
    ("", Command("help")),
    ("Analyse inc-12ab", Command("analyze", "inc-12ab")),
    ("similar  checkout latency ", Command("similar", "checkout latency")),
    ("why is checkout slow?", Command("ask", "why is checkout slow?")),
    ("acknowledge", Command("ack", "")),
])
def test_parse(text: str, expected: Command) -> None:
    assert parse_command(text) == expected
    assert parse_command("analyze x").heavy and not parse_command("status").heavy


def test_summary_status_and_unknown_incident(pipeline: Pipeline) -> None:
    inc, _ = _seed(pipeline)
    reply = dispatch(parse_command("summary"), pipeline=pipeline, user="U1", surface="test")
    assert reply.ok and reply.text.splitlines()[0] == f"{inc.title} ({inc.id}, critical, open)"
    assert "1. db_connection_exhaustion in orders-db: 72%" in reply.text
    missing = dispatch(parse_command("summary inc-doesnotexist"), pipeline=pipeline, user="U1", surface="test")
    assert not missing.ok and not missing.public and "inc-doesnotexist" in missing.text


def test_ack_then_resolve_with_cause_and_resolution(pipeline: Pipeline) -> None:
    inc, _ = _seed(pipeline)
    assert dispatch(parse_command("ack"), pipeline=pipeline, user="U1", surface="test").text == (
        f"{inc.id} acknowledged by U1.")
    reply = dispatch(parse_command(f"resolve {inc.id} orders-db db_connection_exhaustion: raised the pool size"),
                     pipeline=pipeline, user="U2", surface="test")
    assert reply.text == f"{inc.id} resolved by U2. Cause: db_connection_exhaustion in orders-db."
    done, _ = pipeline.get_incident(incident_id=inc.id)
    assert (done.status, done.confirmed_service, done.confirmed_kind, done.resolution) == (
        IncidentStatus.RESOLVED, "orders-db", "db_connection_exhaustion", "raised the pool size")
    bad = dispatch(parse_command(f"resolve {inc.id} orders-db exploded"), pipeline=pipeline, user="U2",
                   surface="test")
    assert not bad.ok and "unknown root-cause kind" in bad.text


def test_feedback_defaults_to_the_top_cause_and_names_the_user(pipeline: Pipeline) -> None:
    inc, ana = _seed(pipeline)
    reply = dispatch(parse_command("feedback down wrong service"), pipeline=pipeline, user="U9", surface="teams",
                     incident_hint=inc.id)
    assert reply.ok
    [fb] = pipeline.store.list_feedback(incident_id=inc.id)  # type: ignore[union-attr]
    assert (fb.vote, fb.user, fb.surface, fb.service, fb.kind, fb.analysis_id, fb.comment) == (
        Vote.DOWN, "U9", "teams", "orders-db", "db_connection_exhaustion", ana.id, "wrong service")
    explicit = dispatch(parse_command("feedback up checkout bad_deploy"), pipeline=pipeline, user="U9",
                        surface="teams", incident_hint=inc.id)
    assert explicit.ok and pipeline.store.list_feedback(incident_id=inc.id)[-1].kind == "bad_deploy"  # type: ignore[union-attr]
    assert not dispatch(parse_command("feedback maybe"), pipeline=pipeline, user="U9", surface="t").ok


def test_questions_are_answered_from_the_evidence(pipeline: Pipeline) -> None:
    inc, _ = _seed(pipeline)
    logs = dispatch(parse_command("show logs for checkout"), pipeline=pipeline, user="U1", surface="t",
                    incident_hint=inc.id)
    assert logs.text.splitlines()[:3] == ["Unusual log lines for checkout:", "- ERROR pool timeout surge (score 0.90)",
                                          "    12:00:01 ERROR Timeout waiting for connection"]
    none = dispatch(parse_command("logs for payments"), pipeline=pipeline, user="U1", surface="t")
    assert none.text == "No unusual log lines were found for payments. Log signals exist for: checkout."
    similar = dispatch(parse_command("have we seen this before? similar incidents"), pipeline=pipeline, user="U1",
                       surface="t")
    assert similar.text.splitlines()[1].startswith("- Past pool exhaustion 1 (0.70): Raised max connections")
    why = dispatch(parse_command("why?"), pipeline=pipeline, user="U1", surface="t")
    assert why.ok and "db_connection_exhaustion" in why.text


def test_search_without_a_retriever_and_game_day_usage(pipeline: Pipeline) -> None:
    assert dispatch(parse_command("similar disk full"), pipeline=pipeline, user="U1", surface="t").text == (
        "No similar past incident for “disk full”.")
    empty = dispatch(parse_command("similar"), pipeline=pipeline, user="U1", surface="t")
    assert not empty.ok and "say what to look for" in empty.text
    usage = dispatch(parse_command("diagnose checkout"), pipeline=pipeline, user="U1", surface="t")
    assert not usage.ok and "diagnose <service> <kind>" in usage.text


def test_parse_cause_forms() -> None:
    assert chat.parse_cause("orders-db/oom_kill") == ("orders-db", "oom_kill")
    assert chat.parse_cause("oom_kill in orders-db") == ("orders-db", "oom_kill")
    assert chat.parse_cause("  ") == (None, None)
    with pytest.raises(InputError):
        chat.parse_cause("orders-db broke")


def test_alert_ids_find_their_incident(pipeline: Pipeline) -> None:
    from bot.domain import Alert

    result = pipeline.accept_alerts([Alert(name="DiskFull", service="db", external_id="am-42",
                                           labels={"alertname": "DiskFull", "service": "db"})])
    found, _ = chat.find_incident(pipeline=pipeline, ref="am-42")
    assert found.id == result.created[0]

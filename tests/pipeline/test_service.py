"""The pipeline service over hand-written evidence: detectors, retrieval and reasoning together."""

from __future__ import annotations

from pathlib import Path

from bot.domain import IncidentContext, Signal
from bot.pipeline import Pipeline, load_bundle
from detectors.registry import load_detectors

BUNDLE = Path(__file__).resolve().parents[1] / "fixtures" / "bundles" / "inventory-disk"


def test_builtin_detectors_are_registered_through_entry_points() -> None:
    assert [name for name, _ in load_detectors()][:3] == ["logs", "metrics", "changes"]


def test_analysis_carries_signals_from_every_source(settings) -> None:  # type: ignore[no-untyped-def]
    context, report = load_bundle(BUNDLE)
    analysis = Pipeline(settings=settings).analyze_context(context, lacked=report.lacked)
    sources = {s.source for s in analysis.signals}
    assert {"alert", "logs", "metrics", "changes"} <= sources
    assert set(analysis.timings_ms) >= {"logs", "metrics", "changes", "retrieval", "reasoning", "total"}
    top = analysis.top
    assert top is not None and top.evidence
    assert sum(h.confidence for h in analysis.hypotheses) <= 1.0 + 1e-9


def test_a_failing_detector_is_a_note_not_a_lost_analysis(settings) -> None:  # type: ignore[no-untyped-def]
    def broken(context: IncidentContext) -> list[Signal]:
        raise ValueError("parser exploded")

    context, _ = load_bundle(BUNDLE)
    pipeline = Pipeline(settings=settings, detectors=[*load_detectors(), ("broken", broken)])
    analysis = pipeline.analyze_context(context)
    assert any("detector broken failed" in n and "parser exploded" in n for n in analysis.notes)
    assert analysis.hypotheses  # the other detectors still answered


def test_alert_only_context_still_answers(settings) -> None:  # type: ignore[no-untyped-def]
    context, report = load_bundle(BUNDLE)
    bare = IncidentContext(incident=context.incident)
    analysis = Pipeline(settings=settings).analyze_context(bare, lacked=["logs", "metrics", "events", "topology"])
    assert analysis.summary
    assert analysis.lacked == ["logs", "metrics", "events", "topology"]


def test_detectors_read_yearless_log_stamps_in_the_incidents_year(settings) -> None:  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    from detectors.logs.timestamps import parse_timestamp

    seen: list[datetime | None] = []

    def reader(context: IncidentContext) -> list[Signal]:
        seen.append(parse_timestamp("Oct  4 15:39:02"))  # a syslog stamp of a 2021 incident's router log
        return []

    context, _ = load_bundle(BUNDLE)
    context.incident.started_at = datetime(2021, 10, 4, 15, 45, tzinfo=UTC)
    Pipeline(settings=settings, detectors=[("reader", reader)]).analyze_context(context)
    assert seen == [datetime(2021, 10, 4, 15, 39, 2, tzinfo=UTC)]

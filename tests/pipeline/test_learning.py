"""Feedback reaches the ranker: a confirmed cause changes the model, and the state survives a restart."""

from __future__ import annotations

from pathlib import Path

from bot.domain import Feedback, Vote
from bot.pipeline import load_bundle
from bot.pipeline.learning import attach_feedback_learning
from bot.pipeline.wiring import build_pipeline

BUNDLE = Path(__file__).resolve().parents[1] / "fixtures" / "bundles" / "inventory-disk"


def test_confirmed_cause_updates_the_ranker_and_persists(settings, store) -> None:  # type: ignore[no-untyped-def]
    pipeline = build_pipeline(settings, store=store, with_retriever=False)
    context, _ = load_bundle(BUNDLE)
    store.save_incident(incident=context.incident)
    analysis = pipeline.analyze_context(context)
    store.save_analysis(analysis=analysis)
    second = analysis.hypotheses[1]  # say the responders found the second hypothesis was right

    before = list(pipeline.ranker_model.coef)
    assert store.get_state(key="reasoning.feedback.default") is None
    pipeline.record_feedback(feedback=Feedback(incident_id=context.incident.id, service=second.service,
                                               kind=second.kind, vote=Vote.FIXED, user="alice"))
    state = store.get_state(key="reasoning.feedback.default")
    assert state is not None
    assert list(pipeline.ranker_model.coef) != before  # the linear part learned from the confirmed cause

    restarted = build_pipeline(settings, store=store, with_retriever=False)
    assert restarted.ranker_model is not None
    relearned = attach_feedback_learning(restarted)
    assert relearned.state() == state

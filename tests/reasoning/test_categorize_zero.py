"""Categorisation never divides by zero: zero-confidence hypotheses and no other votes give 'unknown'."""

from __future__ import annotations

from bot.domain import Alert, Hypothesis, Incident, IncidentContext
from bot.reasoning import categorize


def test_zero_confidence_hypotheses_and_no_signals_give_unknown() -> None:
    context = IncidentContext(incident=Incident(title="x", alerts=[Alert(name="x")]))
    hyps = [Hypothesis(rank=1, service="a", kind="disk_full", title="t", confidence=0.0)]
    result = categorize(context=context, signals=[], hypotheses=hyps)
    assert (result.label, result.confidence) == ("unknown", 0.0)

"""A past incident counts for a cause today's evidence names itself (features.history_agreement, history_agrees)."""

from __future__ import annotations

from bot.domain import Signal
from bot.reasoning import rank
from bot.reasoning.features import HISTORY_KIND_ONLY, history_agreement

from .factories import context, signal, similar


def test_history_agreement_is_full_for_the_closest_recurrence_and_falls_with_rank_and_service() -> None:
    past = [similar("db", "db_lock_contention", 0.5), similar("payments", "rate_limited", 0.48),
            similar("orders", "db_slow_query", 0.47)]
    assert history_agreement("db", "db_lock_contention", past) == 1.0
    assert history_agreement("payments", "rate_limited", past) == 0.5  # second closest
    assert history_agreement("checkout", "db_slow_query", past) == HISTORY_KIND_ONLY / 3  # same kind elsewhere
    assert history_agreement("db", "db_down", past) == 0.0


def _two_named_causes() -> list[Signal]:
    # the database's own lines name two mechanisms, lock waits a little louder than slow queries
    return [signal("logs", "db", "db_lock_contention", 0.9, 5), signal("logs", "db", "db_slow_query", 0.7, 5),
            signal("metrics", "checkout", "latency_increase", 0.7, 6)]


def test_a_past_incident_of_a_cause_the_evidence_names_decides_between_named_causes() -> None:
    sigs = _two_named_causes()
    alone = rank(context=context(), signals=sigs, similar=[], runbooks=[])
    assert alone.hypotheses[0].kind == "db_lock_contention"
    result = rank(context=context(), signals=sigs, similar=[similar("db", "db_slow_query", 0.5)], runbooks=[])
    top = result.hypotheses[0]
    assert (top.service, top.kind) == ("db", "db_slow_query")
    assert top.features["history_agrees"] == 1.0


def test_a_past_incident_alone_does_not_name_today_s_cause() -> None:
    # the closest past incident is a cause no detector names today: it gets no history weight
    sigs = _two_named_causes()
    result = rank(context=context(), signals=sigs, similar=[similar("db", "disk_full", 0.6)], runbooks=[])
    by = {(h.service, h.kind): h for h in result.hypotheses}
    assert by[("db", "disk_full")].features["history_agrees"] == 0.0
    assert result.hypotheses[0].kind in ("db_lock_contention", "db_slow_query")

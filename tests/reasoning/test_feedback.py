from __future__ import annotations

from typing import Any

from bot.domain import Analysis, Feedback, Vote
from bot.reasoning import rank
from bot.reasoning.feedback import FeedbackLearner
from bot.reasoning.scorer import RankerModel

from .factories import context, signal


def _case() -> tuple[Any, list[Any]]:
    # two equally supported candidates; the team's truth is always the cpu one
    sigs = [signal("logs", "db", "db_slow_query", 0.8, 0), signal("metrics", "api", "cpu_saturation", 0.8, 0)]
    return context(service="api", topology={}), sigs


def test_confirmed_causes_move_the_ranking_towards_the_team_truth_and_persist() -> None:
    ctx, sigs = _case()
    store: dict[str, dict[str, Any]] = {}
    learner = FeedbackLearner(team="payments", base=RankerModel.prior(), load=store.get, save=store.__setitem__)
    before = rank(context=ctx, signals=sigs, similar=[], runbooks=[], model=learner.model)
    conf_before = next(h.confidence for h in before.hypotheses if h.kind == "cpu_saturation")
    for i in range(30):
        result = rank(context=ctx, signals=sigs, similar=[], runbooks=[], model=learner.model)
        analysis = Analysis(incident_id=f"inc-{i}", hypotheses=result.hypotheses)
        learner.observe(analysis=analysis, feedback=[
            Feedback(incident_id=analysis.incident_id, service="api", kind="cpu_saturation", vote=Vote.FIXED)])
    after = rank(context=ctx, signals=sigs, similar=[], runbooks=[], model=learner.model)
    assert (after.hypotheses[0].service, after.hypotheses[0].kind) == ("api", "cpu_saturation")
    assert after.hypotheses[0].confidence > conf_before
    assert "reasoning.feedback.payments" in store
    # a new learner for the same team starts from the saved state
    again = FeedbackLearner(team="payments", base=RankerModel.prior(), load=store.get, save=store.__setitem__)
    assert again.model.coef == learner.model.coef and again.updates == learner.updates
    other = FeedbackLearner(team="search", base=RankerModel.prior(), load=store.get, save=store.__setitem__)
    assert other.updates == 0


def test_down_votes_lower_a_hypothesis_and_up_votes_raise_it() -> None:
    ctx, sigs = _case()
    learner = FeedbackLearner(base=RankerModel.prior())
    result = rank(context=ctx, signals=sigs, similar=[], runbooks=[], model=learner.model)
    target = result.hypotheses[0]
    analysis = Analysis(incident_id="i", hypotheses=result.hypotheses)
    for _ in range(10):
        learner.observe(analysis=analysis, feedback=[
            Feedback(incident_id="i", service=target.service, kind=target.kind, vote=Vote.DOWN)])
    lowered = rank(context=ctx, signals=sigs, similar=[], runbooks=[], model=learner.model)
    new_conf = next(h.confidence for h in lowered.hypotheses if (h.service, h.kind) == (target.service, target.kind))
    assert new_conf < target.confidence


def test_feedback_without_service_or_kind_is_ignored_and_recalibration_needs_outcomes() -> None:
    learner = FeedbackLearner(base=RankerModel.prior(), min_outcomes=5, recalibrate_every=1)
    learner.observe(analysis=Analysis(incident_id="i"), feedback=[Feedback(incident_id="i", vote=Vote.UP)])
    assert learner.updates == 0 and learner.model.calibration_x == []
    learner.outcomes = [(0.9, 1), (0.8, 1), (0.7, 0), (0.2, 0), (0.1, 0), (0.5, 1)]
    learner.recalibrate()
    ys = learner.model.calibration_y
    assert ys == sorted(ys) and learner.model.calibrate(0.95) >= learner.model.calibrate(0.05)

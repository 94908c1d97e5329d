"""Learning from feedback: votes, "this fixed it" and confirmed causes update the ranker of this team.

The learner's state lives in the database's key/value table, so it survives restarts and is shared by
replicas that load it at start. Feedback on an incident without an analysis teaches nothing.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.domain import Feedback
from bot.pipeline.service import Pipeline

log = logging.getLogger(__name__)


def attach_feedback_learning(pipeline: Pipeline, *, team: str = "default") -> Any:
    """Give ``pipeline`` a ranker that learns from feedback; returns the learner."""
    from bot.reasoning.feedback import FeedbackLearner

    store = pipeline._require_store()
    learner = FeedbackLearner(
        team=team,
        load=lambda key: store.get_state(key=key),
        save=lambda key, data: store.put_state(key=key, data=data),
    )
    pipeline.ranker_model = learner.model

    def on_feedback(feedback: Feedback) -> None:
        analysis = store.latest_analysis(incident_id=feedback.incident_id)
        if analysis is None or not analysis.hypotheses:
            return
        learner.observe(analysis=analysis, feedback=[feedback])
        pipeline.ranker_model = learner.model
        log.info("ranker learned from feedback", extra={"incident_id": feedback.incident_id,
                                                        "vote": feedback.vote.value})

    pipeline.events.subscribe("feedback.recorded", on_feedback)
    return learner

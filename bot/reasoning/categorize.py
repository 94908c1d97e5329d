"""The shared category of an incident, from the hypotheses, the signals and the alert's words."""

from __future__ import annotations

from collections import defaultdict

from bot.domain import (
    Category,
    CategoryAssessment,
    Hypothesis,
    IncidentContext,
    Signal,
    category_of,
    is_cause_kind,
)
from bot.reasoning.keywords import kinds_in_text


def categorize(
    *,
    context: IncidentContext,
    signals: list[Signal],
    hypotheses: list[Hypothesis],
) -> CategoryAssessment:
    """The ranked hypotheses' category; signal kinds and the alert text when no hypothesis has belief."""
    votes: dict[str, float] = defaultdict(float)
    belief: dict[str, float] = defaultdict(float)
    for hyp in hypotheses:
        cat = category_of(hyp.kind)
        if cat is not Category.UNKNOWN:
            votes[cat.value] += hyp.confidence
            # the ranker's raw (uncalibrated) share of belief, summed per category
            raw = hyp.features.get("raw_confidence") if hyp.features else None
            belief[cat.value] += float(raw) if raw is not None else hyp.confidence
    if sum(belief.values()) > 0:
        # the ranked hypotheses decide (chosen on the training split: signals and alert words only
        # mislead once the ranker has an opinion); the confidence is the calibrated one
        label = max(belief.items(), key=lambda kv: (kv[1], kv[0]))[0]
        return CategoryAssessment(label=label, confidence=round(min(1.0, votes.get(label, 0.0)), 4))
    hyp_total = sum(votes.values())

    sig_votes: dict[str, float] = defaultdict(float)
    for sig in signals:
        if is_cause_kind(sig.kind):
            sig_votes[category_of(sig.kind).value] += sig.score
    text = " ".join(
        [context.incident.title] + [f"{a.name} {a.summary} {a.description}" for a in context.incident.alerts]
    )
    text_votes: dict[str, float] = defaultdict(float)
    for kind, n in kinds_in_text(text).items():
        text_votes[category_of(kind).value] += min(n, 2)

    # hypotheses carry most weight; the rest only decides when hypotheses are weak or absent
    weight_rest = max(0.0, 1.0 - hyp_total)
    for source, w in ((sig_votes, 0.6), (text_votes, 0.4)):
        total = sum(source.values())
        if total <= 0:
            continue
        for label, v in source.items():
            votes[label] += weight_rest * w * v / total
    total = sum(votes.values())
    if not votes or total <= 0:
        # no positive vote anywhere (e.g. only zero-confidence hypotheses): say so rather than guess
        return CategoryAssessment(label=Category.UNKNOWN.value, confidence=0.0)
    label, best = max(votes.items(), key=lambda kv: (kv[1], kv[0]))
    confidence = min(1.0, best if hyp_total > 0 else best / total * 0.5)
    return CategoryAssessment(label=label, confidence=round(confidence, 4))

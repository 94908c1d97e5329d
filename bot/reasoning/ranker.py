"""The deterministic ranker: candidates -> learned scores -> calibrated, evidenced hypotheses."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

from bot.domain import Document, EvidenceType, Hypothesis, IncidentContext, Signal, SimilarIncident
from bot.reasoning.features import Candidate, build_candidates
from bot.reasoning.scorer import RankerModel, default_model

log = logging.getLogger(__name__)

MAX_HYPOTHESES = 5

KIND_TITLES: dict[str, str] = {
    "bad_deploy": "A recent deploy of {service} broke it",
    "config_change": "A configuration change on {service}",
    "feature_flag": "A feature flag change on {service}",
    "db_connection_exhaustion": "Database connection pool exhausted on {service}",
    "db_slow_query": "Slow database queries on {service}",
    "dependency_failure": "{service} is failing its callers",
}


def title_for(service: str, kind: str) -> str:
    template = KIND_TITLES.get(kind)
    if template:
        return template.format(service=service)
    return f"{kind.replace('_', ' ').capitalize()} on {service}"


@dataclass
class RankResult:
    hypotheses: list[Hypothesis] = field(default_factory=list)
    enough_evidence: bool = False
    notes: list[str] = field(default_factory=list)


def confidence_inputs(model: RankerModel, cands: list[Candidate], raw: list[float], top: int) -> dict[str, float]:
    """What the top answer's confidence rests on (``CONFIDENCE_FEATURES`` in bot/reasoning/scorer.py)."""
    calibrated = max(0.0, min(1.0, model.calibrate(float(raw[top]))))
    clipped = min(0.99, max(0.01, calibrated))
    others = [i for i in range(len(cands)) if i != top]
    second = max((raw[i] for i in others), default=0.0)
    f = cands[top].features
    z = math.log(clipped / (1.0 - clipped))
    # what the answer shows as its evidence (the hypothesis keeps the same ranked items)
    on_cluster = any(e.type == EvidenceType.KUBERNETES for e in cands[top].ranked_evidence())
    return {
        "calibrated": calibrated,
        "z_calibrated": z,
        "decisive_top": f.get("decisive_score", 0.0),
        "decisive_rival": max((cands[i].features.get("decisive_score", 0.0) for i in others), default=0.0),
        "margin": float(raw[top]) - float(second),
        "direct_support": 1.0 if f.get("direct_score", 0.0) + f.get("text_match", 0.0) + f.get("metric_hint", 0.0) > 0
        else 0.0,
        "only_symptom": f.get("only_symptom", 0.0),
        "change_competes": f.get("change_on_service", 0.0),
        "z_kubernetes": z if on_cluster else 0.0,
    }


def _confidences(model: RankerModel, cands: list[Candidate]) -> tuple[list[float], list[float]]:
    raw = model.confidences([c.features for c in cands])
    order = sorted(range(len(cands)), key=lambda i: -raw[i])
    out = [0.0] * len(cands)
    if not order:
        return out, []
    top = order[0]
    inputs = confidence_inputs(model, cands, [float(r) for r in raw], top)
    cands[top].features.update({f"conf:{k}": round(v, 6) for k, v in inputs.items()})
    parts = model.confidence_parts(inputs)
    if parts is not None:  # the two factors of the confidence, to show which of "where" and "how" is in doubt
        cands[top].features.update({"conf:p_service": round(parts[0], 6), "conf:p_kind": round(parts[1], 6)})
    out[top] = max(0.0, min(1.0, model.top_confidence(inputs)))
    rest = [i for i in order[1:]]
    rest_sum = float(sum(raw[i] for i in rest))
    room = max(0.0, 1.0 - out[top])
    # keep the raw proportions of the others, scaled into the room the calibrated top leaves
    scale = min(1.0, room / rest_sum) if rest_sum > 0 else 0.0
    for i in rest:
        out[i] = min(out[top], float(raw[i]) * scale)
    return out, [float(r) for r in raw]


def rank(
    *,
    context: IncidentContext,
    signals: list[Signal],
    similar: list[SimilarIncident],
    runbooks: list[tuple[Document, float]],
    model: RankerModel | None = None,
) -> RankResult:
    """Ranked (service, kind) hypotheses with calibrated confidence and their evidence."""
    scorer = model if model is not None else default_model()
    cands = build_candidates(context=context, signals=signals, similar=similar, runbooks=runbooks)
    notes: list[str] = []
    if not cands:
        notes.append("no signal, change, similar incident or runbook points at a cause")
        return RankResult(hypotheses=[], enough_evidence=False, notes=notes)
    conf, raw = _confidences(scorer, cands)
    # calibrated confidences can tie (e.g. at 0 for weak evidence): the raw scores keep the learned order
    order = sorted(range(len(cands)), key=lambda i: (-conf[i], -raw[i], cands[i].service, cands[i].kind))
    hyps: list[Hypothesis] = []
    for rank_no, i in enumerate(order[:MAX_HYPOTHESES], start=1):
        c = cands[i]
        feats = dict(c.features)
        feats["origin_count"] = float(len(c.origins))
        feats["raw_confidence"] = round(raw[i], 6)
        hyps.append(
            Hypothesis(
                rank=rank_no,
                service=c.service,
                kind=c.kind,
                title=title_for(c.service, c.kind),
                confidence=round(conf[i], 4),
                evidence=c.ranked_evidence(),
                features=feats,
                source="ranker",
            )
        )
    top = hyps[0]
    enough = top.confidence >= scorer.threshold and any(e.type.value != "alert" for e in top.evidence)
    if not enough:
        notes.append(
            f"not enough evidence: the best candidate ({top.kind} on {top.service}) has confidence "
            f"{top.confidence:.2f}, below {scorer.threshold:.2f}"
        )
    if not signals:
        notes.append("no detector signals were available")
    return RankResult(hypotheses=hyps, enough_evidence=enough, notes=notes)

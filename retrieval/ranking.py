"""Fusion of dense and BM25 candidates, then feedback and recency boosts, and why each hit matched.

Fusion methods (``retrieval.fusion``):
- ``rrf``: weighted reciprocal rank fusion, ``sum w / (rrf_k + rank)``, scaled so that rank 1 in
  both lists is 1.0.
- ``weighted``: ``(w_d * max(cos, 0) + w_b * min(1, bm25 / reference)) / (w_d + w_b)`` where the
  reference is the BM25 of a document holding every query word once (``KeywordIndex.reference_score``);
  the score keeps an absolute meaning: a weak best match stays a weak score.

Boosts are added to the fused score and the result is clipped to 0..1:
- feedback: ``feedback_weight * tanh(net / 2)`` where net counts +1 per "up", +2 per "fixed" and -1
  per "down" vote on the document (see ``feedback_votes``); it only re-orders candidates that
  matched the query, so a popular document never shows up for an unrelated question;
- recency (past incidents with a date only): ``recency_weight * 0.5 ** (age_days / half_life)``;
- same service: ``service_weight`` when the query names one of the document's services (a recurrence
  happens on the same service).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable

from bot.domain import Document, DocumentType, Feedback, Vote, VoteCount

VOTE_VALUE = {Vote.UP: 1.0, Vote.FIXED: 2.0, Vote.DOWN: -1.0}


@dataclass
class Candidate:
    doc_id: str
    dense: float = 0.0
    bm25: float = 0.0
    dense_rank: int | None = None
    bm25_rank: int | None = None
    fused: float = 0.0
    feedback: float = 0.0
    recency: float = 0.0
    service: float = 0.0
    votes: dict[Vote, float] = field(default_factory=dict)

    @property
    def score(self) -> float:
        return min(1.0, max(0.0, self.fused + self.feedback + self.recency + self.service))


def merge_candidates(
    dense: list[tuple[str, float]], keyword: list[tuple[str, float]]
) -> dict[str, Candidate]:
    out: dict[str, Candidate] = {}
    for rank, (doc_id, cos) in enumerate(dense, start=1):
        out[doc_id] = Candidate(doc_id, dense=cos, dense_rank=rank)
    for rank, (doc_id, score) in enumerate(keyword, start=1):
        cand = out.setdefault(doc_id, Candidate(doc_id))
        cand.bm25, cand.bm25_rank = score, rank
    return out


def fuse(
    candidates: Mapping[str, Candidate],
    *,
    method: str,
    dense_weight: float,
    bm25_weight: float,
    rrf_k: int = 60,
    bm25_reference: float = 0.0,
) -> None:
    total = dense_weight + bm25_weight
    if total <= 0:
        dense_weight, bm25_weight, total = 1.0, 1.0, 2.0
    if method == "rrf":
        best = total / (rrf_k + 1)
        for c in candidates.values():
            s = 0.0
            if c.dense_rank is not None:
                s += dense_weight / (rrf_k + c.dense_rank)
            if c.bm25_rank is not None:
                s += bm25_weight / (rrf_k + c.bm25_rank)
            c.fused = s / best
        return
    reference = bm25_reference or max((c.bm25 for c in candidates.values()), default=0.0)
    # a document found by keywords only has a cosine below the last dense candidate: use that bound
    floor = min((c.dense for c in candidates.values() if c.dense_rank is not None), default=0.0)
    for c in candidates.values():
        cos = c.dense if c.dense_rank is not None else floor
        kw = min(1.0, c.bm25 / reference) if reference > 0 else 0.0
        c.fused = (dense_weight * max(cos, 0.0) + bm25_weight * kw) / total


@runtime_checkable
class FeedbackSource(Protocol):
    """Feedback read on demand: the votes on the given document / incident ids only, counted (a store
    answers with one aggregate query instead of handing over every piece of feedback)."""

    def votes_on(self, keys: AbstractSet[str]) -> Iterable[VoteCount]: ...


Feedbacks = Iterable[Feedback | VoteCount] | FeedbackSource


def feedback_votes(
    docs: Mapping[str, Document],
    feedback: Feedbacks,
    *,
    query_services: AbstractSet[str] = frozenset(),
) -> dict[str, dict[Vote, float]]:
    """Votes per candidate document.

    A vote counts for a document when it names the document (``document_id``: the document id, or
    the Sherlog incident id a past-incident document was made from); an incident-level "fixed" vote
    without ``document_id`` counts for that incident's own document (its resolution worked). A vote
    cast about another service than the query's and the document's counts half. ``feedback`` is the
    votes themselves, counted votes (``VoteCount``), or a ``FeedbackSource`` asked for the candidates' votes.
    """
    by_incident: dict[str, list[str]] = {}
    for doc_id, doc in docs.items():
        incident_id = str(doc.metadata.get("incident_id") or "")
        for key in {doc_id, incident_id} - {""}:
            by_incident.setdefault(key, []).append(doc_id)
    if isinstance(feedback, FeedbackSource):
        feedback = feedback.votes_on(frozenset(by_incident)) if by_incident else ()
    out: dict[str, dict[Vote, float]] = {}
    for fb in feedback:
        if fb.document_id:
            targets = by_incident.get(fb.document_id, [])
        elif fb.vote is Vote.FIXED:
            targets = by_incident.get(fb.incident_id, [])
        else:
            continue
        times = fb.count if isinstance(fb, VoteCount) else 1
        for doc_id in targets:
            services = {s.lower() for s in docs[doc_id].services} | query_services
            weight = 0.5 if fb.service and fb.service.lower() not in services else 1.0
            votes = out.setdefault(doc_id, {})
            votes[fb.vote] = votes.get(fb.vote, 0.0) + weight * times
    return out


def apply_boosts(
    candidates: Mapping[str, Candidate],
    docs: Mapping[str, Document],
    *,
    feedback: Feedbacks | None,
    feedback_weight: float,
    recency_weight: float,
    recency_half_life_days: float,
    now: datetime,
    query_services: AbstractSet[str] = frozenset(),
    service_weight: float = 0.0,
) -> None:
    if feedback:
        for doc_id, votes in feedback_votes(docs, feedback, query_services=query_services).items():
            cand = candidates.get(doc_id)
            if cand is None:
                continue
            net = sum(VOTE_VALUE[v] * n for v, n in votes.items())
            cand.votes = votes
            cand.feedback = feedback_weight * math.tanh(net / 2.0)
    if query_services and service_weight > 0:
        for doc_id, cand in candidates.items():
            if any(s.lower() in query_services for s in docs[doc_id].services):
                cand.service = service_weight
    if recency_weight > 0 and recency_half_life_days > 0:
        for doc_id, cand in candidates.items():
            doc = docs[doc_id]
            if doc.type is DocumentType.INCIDENT and doc.date is not None:
                age_days = max(0.0, (now - doc.date).total_seconds() / 86400.0)
                cand.recency = recency_weight * 0.5 ** (age_days / recency_half_life_days)


def _ago(doc: Document, now: datetime) -> str | None:
    if doc.date is None:
        return None
    days = int((now - doc.date).total_seconds() // 86400)
    if days < 0:
        return None
    if days < 60:
        return f"{days} days ago"
    return f"{days // 30} months ago" if days < 730 else f"{days // 365} years ago"


def explain(
    cand: Candidate,
    doc: Document,
    *,
    shared: list[str],
    query_services: AbstractSet[str],
    now: datetime,
) -> str:
    """A short explanation in a responder's words."""
    parts: list[str] = []
    if shared:
        parts.append("shares " + ", ".join(f"'{p}'" for p in shared))
    same = [s for s in doc.services if s.lower() in query_services]
    if same:
        parts.append(f"same service {', '.join(same)}")
    if cand.dense_rank is not None and cand.dense >= 0.5:
        parts.append(f"close in meaning (cosine {cand.dense:.2f})")
    elif cand.dense_rank is not None and not shared:
        parts.append(f"related in meaning (cosine {cand.dense:.2f})")
    for vote, label in (
        (Vote.FIXED, "marked as the fix"),
        (Vote.UP, "voted helpful"),
        (Vote.DOWN, "voted unhelpful"),
    ):
        n = cand.votes.get(vote, 0.0)
        if n:
            parts.append(f"{label} {n:g}x")
    if doc.date is not None and doc.type is DocumentType.INCIDENT and 0 <= (now - doc.date).days < 90:
        ago = _ago(doc, now)
        if ago:
            parts.append(f"recent ({ago})")
    return ", ".join(parts) or "weak match"

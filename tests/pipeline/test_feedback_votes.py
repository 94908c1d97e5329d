"""Retrieval's feedback boost reads the candidates' votes counted in the database, not every stored vote:
with 20,000 pieces of feedback an analysis materialises none of them, and answers equal those computed
from every vote read whole."""

from __future__ import annotations

import random
from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from datetime import timedelta
from pathlib import Path

import pytest

from bot.domain import Feedback, Vote, utcnow
from bot.pipeline import load_bundle
from bot.pipeline.wiring import build_pipeline
from bot.storage import Store, StoredFeedback
from bot.storage.tables import FeedbackRow
from retrieval import Retriever
from tests.reporting.rowwatch import bulk_feedback, watch_rows
from tests.retrieval.conftest import NOW, history

BUNDLE = Path(__file__).resolve().parents[1] / "fixtures" / "bundles" / "inventory-disk"
DOCS = [d.id for d in history()]
SERVICES = ("checkout", "logging", "gateway", "payments", "search", "inventory")


class EveryVote:
    """The unbounded reference: every stored vote read whole, whatever the candidates."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def votes_on(self, keys: AbstractSet[str]) -> Iterable[Feedback]:
        return self.store.list_feedback(limit=10**9)


@pytest.fixture(scope="module")
def retriever() -> Retriever:
    r = Retriever.in_memory()
    r.upsert(history())
    return r


def _votes(total: int, seed: int = 9) -> list[Feedback]:
    """Votes on the known documents (by id, and incident-level "fixed" without a document), about their service
    or another one, among many on documents and incidents the searches never see."""
    rng = random.Random(seed)
    out = []
    for n in range(total):
        on_known = n % 20 == 0
        target = rng.choice(DOCS) if on_known else f"inc-other{rng.randint(0, 3000)}"
        vote = rng.choice([Vote.UP, Vote.DOWN, Vote.DOWN, Vote.FIXED])
        document = None if vote is Vote.FIXED and rng.random() < 0.5 else target
        out.append(Feedback(id=f"fb-{n:06d}", incident_id=target if document is None else f"inc-q{n % 50}",
                            document_id=document, vote=vote, service=rng.choice(SERVICES),
                            created_at=utcnow() - timedelta(minutes=n)))
    return out


@pytest.mark.integration
def test_counted_votes_rank_like_every_vote_read_whole(any_store, retriever) -> None:  # type: ignore[no-untyped-def]
    votes = _votes(20_000)
    bulk_feedback(any_store, votes)
    queries = ("disk full on the logging cluster", "service unavailable after a release",
               "checkout database connection pool exhausted", "TLS handshake errors at the gateway")
    moved = 0
    for query in queries:
        with watch_rows(any_store, FeedbackRow) as counted:
            fast = retriever.search(query, k=5, feedback=StoredFeedback(any_store), now=NOW)
        with watch_rows(any_store, FeedbackRow) as whole:
            slow = retriever.search(query, k=5, feedback=EveryVote(any_store), now=NOW)
        plain = retriever.search(query, k=5, now=NOW)
        assert counted.loaded["feedback"] == 0 and whole.loaded["feedback"] == len(votes)
        assert [(h.document.id, h.score, h.why) for h in fast] == [(h.document.id, h.score, h.why) for h in slow]
        moved += [(h.document.id, h.score) for h in fast] != [(h.document.id, h.score) for h in plain]
    assert moved  # the votes did change answers: the equality above is not about no boost at all
    keys = frozenset(DOCS)
    counted_votes = any_store.feedback_votes(keys=keys)
    relevant = [v for v in votes if (v.document_id or (v.incident_id if v.vote is Vote.FIXED else "")) in keys]
    assert sum(v.count for v in counted_votes) == len(relevant)
    assert len(counted_votes) < len(relevant) / 5  # counted per document, vote and service: a few rows
    assert any_store.feedback_votes(keys=[]) == []


def test_an_analysis_materialises_no_feedback_row_and_answers_as_before(settings, store, retriever,  # type: ignore[no-untyped-def]
                                                                         monkeypatch) -> None:
    bulk_feedback(store, _votes(20_000, seed=3))
    pipeline = build_pipeline(settings, store=store, with_retriever=False)
    pipeline.retriever = retriever
    context, _ = load_bundle(BUNDLE)

    def answer() -> list[tuple[str, float]]:
        analysis = pipeline.analyze_context(context)
        return [(s.id, s.score) for s in analysis.similar_incidents]

    with watch_rows(store, FeedbackRow) as watch:
        bounded = answer()
    assert watch.loaded["feedback"] == 0 and bounded
    monkeypatch.setattr("bot.storage.store.StoredFeedback", EveryVote)
    assert answer() == bounded

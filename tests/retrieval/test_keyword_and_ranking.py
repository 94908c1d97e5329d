from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from bot.domain import Document, DocumentType, Feedback, Vote
from retrieval.filters import FilterIndex, SearchFilters
from retrieval.keyword import KeywordIndex, shared_phrases, stem, tokenize
from retrieval.ranking import Candidate, apply_boosts, feedback_votes, fuse, merge_candidates


def test_tokenizer_splits_identifiers_drops_stop_words_and_ids() -> None:
    tokens = tokenize("The db_connection-pool was EXHAUSTED for request 8f3a9c2e11 at 1699999999")
    assert tokens == ["db", "connection", "pool", "exhaust", "request", "8f3a9c2e11"]
    assert stem("connections") == stem("connection")
    assert stem("databases") == "database"
    assert stem("replicas") == "replica"


def test_bm25_ranks_matching_rows_and_respects_the_mask() -> None:
    index = KeywordIndex(["disk full on logging", "connection pool exhausted on checkout", "pool party"])
    rows = index.query("pool exhausted", k=3)
    assert rows[0][0] == 1 and rows[0][1] > rows[-1][1] > 0
    masked = index.query("pool exhausted", k=3, mask=np.array([True, False, True]))
    assert [r for r, _ in masked] == [2]
    assert index.query("nothing matches here", k=3) == []


def test_shared_phrases_prefers_rare_two_word_phrases() -> None:
    index = KeywordIndex(["connection pool exhausted on checkout", "checkout slow", "checkout down"])
    assert shared_phrases("db pool exhausted on checkout", "connection pool exhausted on checkout", index)[
        0
    ] == ("pool exhausted")


def test_rrf_puts_agreement_first_and_scales_to_one() -> None:
    cands = merge_candidates([("a", 0.9), ("b", 0.8), ("c", 0.7)], [("b", 12.0), ("a", 3.0), ("d", 1.0)])
    fuse(cands, method="rrf", dense_weight=1.0, bm25_weight=1.0, rrf_k=60)
    assert cands["a"].fused == cands["b"].fused  # (1, 2) vs (2, 1)
    assert cands["a"].fused > cands["c"].fused > 0
    one = merge_candidates([("x", 0.5)], [("x", 1.0)])
    fuse(one, method="rrf", dense_weight=1.0, bm25_weight=0.5)
    assert abs(one["x"].fused - 1.0) < 1e-9


def test_weighted_fusion_keeps_absolute_similarity() -> None:
    cands = merge_candidates([("a", 0.2)], [("a", 5.0), ("b", 2.5)])
    fuse(cands, method="weighted", dense_weight=1.0, bm25_weight=1.0)
    assert abs(cands["a"].fused - 0.6) < 1e-9  # (0.2 + 1.0) / 2
    assert abs(cands["b"].fused - 0.35) < 1e-9  # keyword-only: cosine bounded by the last dense hit


def test_weighted_fusion_with_a_reference_keeps_one_weak_word_weak() -> None:
    index = KeywordIndex(
        ["clients failed tls handshakes", "coredns overloaded lookups timed out", "disk full"]
    )
    query = "name resolution broken nslookup fails"
    [(row, score)] = index.query(query, k=3)
    assert row == 0  # only the common word "fails" matches
    cands = merge_candidates([("dns", 0.5), ("tls", 0.15)], [("tls", score)])
    fuse(
        cands,
        method="weighted",
        dense_weight=1.0,
        bm25_weight=1.0,
        bm25_reference=index.reference_score(query),
    )
    assert cands["dns"].fused > cands["tls"].fused
    assert cands["tls"].fused < 0.25


def _doc(doc_id: str, **kw: object) -> Document:
    return Document(id=doc_id, type=DocumentType.INCIDENT, title=doc_id, text="t", **kw)  # type: ignore[arg-type]


def test_feedback_votes_by_document_and_by_incident_id() -> None:
    docs = {
        "d1": _doc("d1", services=["checkout"]),
        "inc-9": _doc("inc-9", metadata={"incident_id": "inc-9"}),
    }
    votes = feedback_votes(
        docs,
        [
            Feedback(incident_id="now", document_id="d1", vote=Vote.UP),
            Feedback(
                incident_id="now", document_id="d1", vote=Vote.UP, service="billing"
            ),  # other service: half
            Feedback(incident_id="inc-9", vote=Vote.FIXED),  # incident-level "this fixed it"
            Feedback(incident_id="inc-9", vote=Vote.DOWN),  # hypothesis vote without a document: ignored
        ],
    )
    assert votes == {"d1": {Vote.UP: 1.5}, "inc-9": {Vote.FIXED: 1.0}}


def test_boosts_move_voted_documents_and_recent_incidents() -> None:
    now = datetime(2026, 11, 1, tzinfo=UTC)
    docs = {
        "old": _doc("old", date=now - timedelta(days=3650)),
        "new": _doc("new", date=now - timedelta(days=1), services=["checkout"]),
        "bad": _doc("bad"),
    }
    cands = {k: Candidate(k, fused=0.5) for k in docs}
    apply_boosts(
        cands,
        docs,
        feedback=[Feedback(incident_id="i", document_id="bad", vote=Vote.DOWN)],
        feedback_weight=0.15,
        recency_weight=0.03,
        recency_half_life_days=365,
        now=now,
        query_services={"checkout"},
        service_weight=0.1,
    )
    assert cands["bad"].score < cands["old"].score < cands["new"].score
    assert cands["new"].service == 0.1 and cands["old"].service == 0.0
    assert cands["old"].recency < 0.001 < cands["new"].recency


def test_filter_index_agrees_with_filters_matches() -> None:
    now = datetime(2026, 11, 1, tzinfo=UTC)
    rng = np.random.default_rng(3)
    services = ["checkout", "payments", "search"]
    docs = [
        Document(
            id=f"d{i}",
            type=DocumentType.INCIDENT if i % 3 else DocumentType.RUNBOOK,
            title="t",
            text="t",
            services=list(rng.choice(services, size=int(rng.integers(0, 3)), replace=False)),
            category=["database", "tls", None][i % 3],
            kinds=["disk_full"] if i % 4 == 0 else [],
            date=None if i % 5 == 0 else now - timedelta(days=int(rng.integers(0, 100))),
        )
        for i in range(60)
    ]
    index = FilterIndex(docs)
    for f in [
        SearchFilters(type=DocumentType.INCIDENT),
        SearchFilters(services=["checkout", "search"]),
        SearchFilters(category="tls", since=now - timedelta(days=50)),
        SearchFilters(kinds=["disk_full"], until=now - timedelta(days=10)),
    ]:
        mask = index.mask(f)
        assert mask is not None
        assert [d.id for d, m in zip(docs, mask, strict=True) if m] == [d.id for d in docs if f.matches(d)]
    assert index.mask(SearchFilters()) is None

"""The faster embedding and indexing paths keep their results: batch order, int8, word-piece cap,
token reuse across keyword-index rebuilds."""

from __future__ import annotations

import numpy as np
import pytest

from bot.domain import Document, DocumentType, RetrievalError
from config.settings import RetrievalSettings
from retrieval import Retriever
from retrieval.embedder import get_embedder
from retrieval.keyword import KeywordIndex, tokenize

TEXTS = [
    "disk full",
    "checkout cannot get a database connection: the pool is exhausted after the deploy of version 4.2 "
    "and every request waits for thirty seconds before it fails with a timeout",
    "dns lookups fail inside the cluster",
    "kafka consumer lag grows on the orders topic while the consumer group rebalances again and again",
    "certificate expired on the gateway",
]


def test_batches_sorted_by_length_return_rows_in_the_callers_order() -> None:
    embedder = get_embedder()
    together = embedder._encode_uncached(TEXTS, batch_size=2)  # sorted by length, cut in batches of 2
    alone = np.stack([embedder._encode_uncached([t])[0] for t in TEXTS])
    np.testing.assert_allclose(together, alone, atol=1e-5)
    assert np.allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)


def test_int8_vectors_stay_close_to_float32_and_rank_alike() -> None:
    exact = get_embedder()._encode_uncached(TEXTS)
    int8 = get_embedder(precision="int8")
    assert int8.precision == "int8" and int8.signature != get_embedder().signature
    quantised = int8._encode_uncached(TEXTS)
    cosines = (exact * quantised).sum(axis=1)
    assert cosines.min() > 0.95
    query_exact = get_embedder()._encode_uncached(["database pool exhausted on checkout"])[0]
    query_int8 = int8._encode_uncached(["database pool exhausted on checkout"])[0]
    assert int(np.argmax(exact @ query_exact)) == int(np.argmax(quantised @ query_int8)) == 1


def test_word_piece_cap_cuts_the_tail_of_long_texts() -> None:
    capped = get_embedder(max_tokens=8)
    assert capped.max_tokens == 8
    head = "checkout cannot get a database connection because the pool is exhausted"
    texts = [f"{head} and the tail says one thing " * 3, f"{head} but the tail differs " * 3]
    one, two = capped._encode_uncached(texts)
    np.testing.assert_allclose(one, two, atol=1e-5)  # only the first word pieces are read
    full = get_embedder()._encode_uncached(texts)
    assert float(full[0] @ full[1]) < 0.999


def test_bad_embedder_settings_are_clear_errors() -> None:
    with pytest.raises(RetrievalError, match="precision"):
        get_embedder(precision="int4")  # type: ignore[arg-type]
    with pytest.raises(RetrievalError, match="at least 8"):
        get_embedder(max_tokens=2)
    with pytest.raises(ValueError):
        RetrievalSettings(embed_max_tokens=2)


def test_keyword_index_from_tokens_scores_like_from_texts() -> None:
    texts = ["disk full on logging", "connection pool exhausted on checkout", "pool party", ""]
    a = KeywordIndex(texts)
    b = KeywordIndex.from_tokens([tokenize(t) for t in texts])
    assert a.query("pool exhausted checkout", k=4) == b.query("pool exhausted checkout", k=4)
    assert a.idf("pool") == b.idf("pool")


def _doc(doc_id: str, text: str) -> Document:
    return Document(id=doc_id, type=DocumentType.INCIDENT, title=f"Incident {doc_id}", text=text)


def test_keyword_index_follows_changed_and_deleted_documents() -> None:
    r = Retriever.in_memory(RetrievalSettings(backend="memory", dense_weight=0.0))
    r.upsert([_doc("a", "zookeeper session expired on ingest"), _doc("b", "quota exceeded on billing")])
    assert [h.document.id for h in r.search("zookeeper session", k=1)] == ["a"]
    r.upsert([_doc("a", "memcached eviction storm on ingest")])  # same id, new text
    assert [h.document.id for h in r.search("memcached eviction", k=1)] == ["a"]
    assert all(h.bm25 == 0 for h in r.search("zookeeper session", k=2))  # the old words are gone
    r.delete(["b"])
    assert all(h.document.id != "b" for h in r.search("quota exceeded billing", k=2))

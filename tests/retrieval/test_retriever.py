"""The retriever end to end with the real embedding model (loaded once per process)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.domain import (
    Alert,
    Document,
    DocumentType,
    Feedback,
    Incident,
    IncidentStatus,
    RetrievalError,
    Signal,
    Vote,
)
from config.settings import RetrievalSettings, load_settings
from retrieval import Retriever, SearchFilters, document_for_incident
from tests.processes import free_port
from tests.retrieval.conftest import NOW, RUNBOOK_MD, history, incident_doc


@pytest.fixture(scope="module")
def loaded() -> Retriever:
    r = Retriever.in_memory()
    report = r.upsert(history())
    assert len(report.added) == 5
    return r


def test_search_finds_the_matching_incident_with_reasons(loaded: Retriever) -> None:
    hits = loaded.search("db pool exhausted on checkout, requests waiting for a connection", k=3, now=NOW)
    top = hits[0]
    assert top.document.id == "inc-pool"
    assert 0 < hits[-1].score <= top.score <= 1
    assert top.dense > 0.3 and top.bm25 > 0
    assert "same service checkout" in top.why
    assert "'pool exhausted'" in top.why or "'pool'" in top.why
    assert [h.rank for h in hits] == [1, 2, 3]


def test_search_by_meaning_without_shared_words(loaded: Retriever) -> None:
    hits = loaded.search("name resolution is broken, nslookup fails", k=2, now=NOW)
    assert hits[0].document.id == "inc-dns"


def test_filters_restrict_results(loaded: Retriever) -> None:
    hits = loaded.search("outage", k=5, filters=SearchFilters(services=["payments", "gateway"]))
    assert {h.document.id for h in hits} == {"inc-oom", "inc-cert"}
    recent = loaded.search("outage", k=5, filters=SearchFilters(since=NOW - timedelta(days=100)))
    assert {h.document.id for h in recent} == {"inc-disk", "inc-oom", "inc-dns"}
    assert loaded.search("outage", k=5, filters=SearchFilters(type=DocumentType.RUNBOOK)) == []
    assert loaded.search("   ", k=5) == []


def test_feedback_lifts_a_helpful_document_and_sinks_an_unhelpful_one(loaded: Retriever) -> None:
    query = "service unavailable after a release"
    plain = [h.document.id for h in loaded.search(query, k=5, now=NOW)]
    target = plain[-1]
    up = [Feedback(incident_id="inc-now", document_id=target, vote=Vote.FIXED)] * 2
    lifted = loaded.search(query, k=5, feedback=up, now=NOW)
    assert [h.document.id for h in lifted].index(target) < plain.index(target)
    assert "marked as the fix 2x" in next(h.why for h in lifted if h.document.id == target)
    first = plain[0]
    down = [Feedback(incident_id="inc-now", document_id=first, vote=Vote.DOWN)] * 3
    sunk = [h.document.id for h in loaded.search(query, k=5, feedback=down, now=NOW)]
    assert sunk.index(first) > 0


def test_upsert_is_idempotent_and_detects_changes() -> None:
    r = Retriever.in_memory()
    docs = history()[:2]
    assert r.upsert(docs).summary() == "2 added, 0 updated, 0 skipped"
    again = r.upsert(docs)
    assert again.added == [] and again.updated == [] and again.skipped_by_reason == {"unchanged": 2}
    changed = docs[0].model_copy(update={"resolution": "Rolled back the driver upgrade."})
    report = r.upsert(
        [changed, changed, Document(id="empty", type=DocumentType.INCIDENT, title="", text=" ")]
    )
    assert report.updated == ["inc-pool"]
    assert report.skipped_by_reason == {"duplicate id in this import": 1, "empty text": 1}
    assert r.count() == 2
    assert r.get("inc-pool").resolution == "Rolled back the driver upgrade."  # type: ignore[union-attr]


def _zookeeper() -> Document:
    return incident_doc(
        "inc-zk",
        "zookeeper quorum lost",
        "The xyzzyquorum ensemble lost its zookeeper quorum after a network partition.",
        service="coordination",
        category="network",
        kind="network_partition",
        resolution="Healed the partition and restarted the followers.",
    )


def test_a_large_catalogue_rebuilds_its_keyword_index_in_the_background() -> None:
    r = Retriever.in_memory(RetrievalSettings(backend="memory", background_rebuild_docs=3))
    r.upsert(history())  # 5 documents: at or above the limit
    assert r.search("db pool exhausted on checkout", k=3, now=NOW)[0].document.id == "inc-pool"  # first build
    r.upsert([_zookeeper()])
    r.delete(["inc-dns"])
    # searches do not wait for the rebuild; a deleted document never comes back, from a stale index or not
    during = r.search("xyzzyquorum zookeeper quorum lost, name resolution", k=5, now=NOW)
    assert "inc-dns" not in {h.document.id for h in during}
    assert r.wait_for_index(timeout=30)
    top = r.search("xyzzyquorum zookeeper quorum lost", k=5, now=NOW)[0]
    assert top.document.id == "inc-zk" and top.bm25 > 0  # the rebuilt keyword index holds it
    r.close()


def test_a_small_catalogue_rebuilds_before_the_next_search() -> None:
    r = Retriever.in_memory(RetrievalSettings(backend="memory", background_rebuild_docs=100))
    r.upsert(history())
    r.search("db pool exhausted", k=1, now=NOW)
    r.upsert([_zookeeper()])
    top = r.search("xyzzyquorum zookeeper quorum lost", k=5, now=NOW)[0]
    assert top.document.id == "inc-zk" and top.bm25 > 0  # no waiting: the search rebuilt it first
    assert r._rebuilder is None


def test_whole_runbooks_are_split_and_stale_sections_removed() -> None:
    r = Retriever.in_memory()
    whole = Document(
        id="rb-db",
        type=DocumentType.RUNBOOK,
        title="Database runbook",
        text=RUNBOOK_MD.split("---\n", 2)[2],
        url="https://wiki.acme.test/db",
        services=["checkout"],
    )
    first = r.upsert([whole])
    assert len(first.added) == 5
    hits = r.search("raise the connection pool size", k=2, filters=SearchFilters(type=DocumentType.RUNBOOK))
    assert hits[0].document.heading_path[-1] in {"Raise the pool size", "Connection pool exhausted"}
    assert hits[0].document.url is not None and hits[0].document.url.startswith("https://wiki.acme.test/db#")
    shorter = whole.model_copy(update={"text": whole.text.split("## Replication lag")[0]})
    second = r.upsert([shorter])
    assert sorted(second.removed) == ["rb-db#replication-lag", "rb-db#replication-lag-1"]
    assert r.count() == 3


def test_embedded_chroma_persists_and_ranks_like_memory(tmp_path: Path, loaded: Retriever) -> None:
    settings = load_settings(data_dir=tmp_path, retrieval={"backend": "embedded"})
    r = Retriever.from_settings(settings)
    r.ping()
    assert r.upsert(history()).summary() == "5 added, 0 updated, 0 skipped"
    reopened = Retriever.from_settings(settings)
    assert reopened.count() == 5
    assert reopened.upsert(history()).skipped_by_reason == {"unchanged": 5}
    for query, filters in [
        ("certificate expired handshake failures", None),
        ("containers killed for memory", SearchFilters(services=["payments", "search"])),
        ("outage", SearchFilters(since=NOW - timedelta(days=100), type=DocumentType.INCIDENT)),
    ]:
        chroma = [h.document.id for h in reopened.search(query, k=3, filters=filters, now=NOW)]
        memory = [h.document.id for h in loaded.search(query, k=3, filters=filters, now=NOW)]
        assert chroma == memory
    assert (tmp_path / "chroma").is_dir()


def test_chroma_server_that_is_down_fails_with_a_retrieval_error() -> None:
    port = free_port()
    settings = load_settings(retrieval={"backend": "http", "chroma_host": "127.0.0.1", "chroma_port": port})
    with pytest.raises(RetrievalError, match=f"127.0.0.1:{port}"):
        Retriever.from_settings(settings).ping()


async def test_async_search_runs_off_the_loop(loaded: Retriever) -> None:
    hits = await loaded.asearch("x509 certificate has expired", k=1)
    assert hits[0].document.id == "inc-cert"


def test_query_for_incident_keeps_what_matters_and_drops_noise() -> None:
    alert = Alert(
        name="CheckoutDBPoolSaturated",
        service="checkout",
        summary="active connections at max (50/50)",
        labels={"alertname": "CheckoutDBPoolSaturated", "instance": "10.1.2.3:9100", "team": "payments-sre"},
        annotations={"description": "pool saturated", "runbook_url": "https://wiki/rb"},
    )
    incident = Incident(title="Checkout latency high", service="checkout", alerts=[alert])
    signals = [
        Signal(
            source="logs",
            detector="surge",
            service="checkout",
            kind="log_anomaly",
            score=0.9,
            title="new error template",
            attributes={"template": "HikariPool-1 - Connection is not available <*>"},
        ),
        Signal(
            source="metrics",
            detector="cp",
            service="checkout",
            kind="latency_increase",
            score=0.5,
            title="p99 up 4x",
            metric="http_p99",
        ),
    ]
    r = Retriever.in_memory()
    q = r.query_for_incident(incident, signals)
    assert q.startswith("Checkout latency high. service checkout")
    for part in (
        "CheckoutDBPoolSaturated",
        "pool saturated",
        "payments-sre",
        "latency increase",
        "HikariPool-1",
    ):
        assert part in q
    for noise in ("10.1.2.3", "https://wiki/rb", "<*>"):
        assert noise not in q
    assert r.query_for_question("<@U123> has this happened before? see https://x.y/z") == (
        "has this happened before? see"
    )


def test_resolved_incident_with_confirmed_cause_is_indexed() -> None:
    r = Retriever.in_memory()
    open_incident = Incident(id="inc-open", title="Checkout 5xx", service="checkout")
    assert document_for_incident(open_incident) is None
    assert r.index_resolved_incident(open_incident).skipped_by_reason == {
        "not resolved with a confirmed cause": 1
    }
    done = open_incident.model_copy(
        update={
            "status": IncidentStatus.RESOLVED,
            "resolved_at": NOW,
            "confirmed_service": "checkout",
            "confirmed_kind": "bad_deploy",
            "resolution": "Rolled back release 4.2",
        }
    )
    assert r.index_resolved_incident(done).added == ["inc-open"]
    doc = r.get("inc-open")
    assert doc is not None and doc.category == "deploy" and doc.root_cause_kind == "bad_deploy"
    later = Incident(id="inc-later", title="Checkout 5xx after release", service="checkout")
    hits = r.search_incident(later, k=1, type=DocumentType.INCIDENT)
    assert hits[0].as_similar_incident().resolution == "Rolled back release 4.2"
    assert r.search_incident(done, k=1) == []  # an incident is never similar to itself

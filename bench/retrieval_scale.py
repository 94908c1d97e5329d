"""Retrieval at scale: indexing throughput, query latency (k=5) and memory with 50,000 documents.

Documents are synthetic past incidents (16 services x 30 root-cause kinds x several wordings, numbers
and ids; ~250-400 characters each), generated from ``bench/retrieval_data/recurrence.py``.
Queries are open incidents built with ``query_for_incident`` (alert + detector signals + log template)
and free-text questions, each different (the query-embedding cache never hits).

Embedding:
- ``--embed all``: every document goes through the real model (the whole pipeline is timed);
- ``--embed sample`` (default on a shared machine): ``--sample`` documents go through the real
  model to measure its throughput; the other documents reuse those vectors with small noise
  (re-normalised), so the index has as many distinct vectors as documents. Reported separately:
  embedding docs/s (model, measured), store+BM25 docs/s (measured on every document) and their
  combination (what ``--embed all`` would take).

Timed in the same process as baselines: the model encoding one query alone, and an exact numpy
dot product over the same matrix; latencies are reported next to them as ratios.

    .venv/bin/python -m bench.retrieval_scale [--docs 50000] [--backend embedded|memory] [--embed sample|all]
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import resource
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from bench.retrieval_data.recurrence import KINDS, SERVICES, generate_cases
from bot.domain import Document, DocumentType, category_of
from config.settings import RetrievalSettings, Settings
from retrieval import Retriever, query_for_incident
from retrieval.embedder import get_embedder
from retrieval.retriever import embedding_text

QUESTIONS = (
    "has checkout had database connection problems before",
    "what fixed the last certificate expiry on the gateway",
    "pods keep getting OOMKilled in payments",
    "kafka consumer lag growing on orders",
    "dns lookups failing inside the cluster",
    "disk almost full on the reporting database",
    "error rate jumped right after the deploy of search",
    "partner API returns 429 to billing",
)


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def synthetic_documents(n: int, seed: int = 11) -> list[Document]:
    rng = random.Random(seed)
    kinds = sorted(KINDS)
    docs: list[Document] = []
    base = 1_700_000_000
    for i in range(n):
        kind, service = rng.choice(kinds), rng.choice(SERVICES)
        k = KINDS[kind]
        num = rng.randint(2, 999)
        name = rng.choice(k.names)
        text = (
            f"{rng.choice(k.postmortem).format(s=service, n=num)}. Root cause: {name}. "
            f"Evidence: {rng.choice(k.logs).format(s=service, n=num)}. "
            f"Alert: {rng.choice(k.alerts).format(s=service, n=num)}. Ticket OPS-{rng.randint(1000, 99999)}, "
            f"region {rng.choice(['eu-west-1', 'us-east-1', 'ap-south-1'])}, cluster c{rng.randint(1, 40)}."
        )
        docs.append(
            Document(
                id=f"sim-{i}",
                type=DocumentType.INCIDENT,
                title=f"{service.capitalize()}: {name} (#{i})",
                text=text,
                services=[service],
                category=category_of(kind).value,
                kinds=[kind],
                root_cause_service=service,
                root_cause_kind=kind,
                resolution=rng.choice(k.fixes).capitalize(),
                date=datetime.fromtimestamp(base + 3600 * i, tz=UTC),
                source="simulated",
            )
        )
    return docs


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=50_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--backend", choices=["embedded", "memory"], default="embedded")
    parser.add_argument("--embed", choices=["sample", "all"], default="sample")
    parser.add_argument(
        "--sample", type=int, default=2000, help="documents embedded by the model with --embed sample"
    )
    args = parser.parse_args()
    console = Console(width=120)
    rss_start = rss_mb()

    docs = synthetic_documents(args.docs)
    embedder = get_embedder()
    embedder.encode(["warm up"])
    rss_model = rss_mb()

    # model throughput on real document texts
    sample_n = args.docs if args.embed == "all" else min(args.sample, args.docs)
    started = time.perf_counter()
    sample_vectors = embedder.encode([embedding_text(d) for d in docs[:sample_n]])
    embed_s = time.perf_counter() - started
    embed_dps = sample_n / embed_s
    rng = np.random.default_rng(5)
    vectors: dict[str, np.ndarray] = {}
    for i, doc in enumerate(docs):
        if i < sample_n:
            vectors[doc.id] = sample_vectors[i]
        else:
            v = sample_vectors[i % sample_n] + rng.normal(0, 0.02, sample_vectors.shape[1]).astype(np.float32)
            vectors[doc.id] = (v / np.linalg.norm(v)).astype(np.float32)
    del sample_vectors

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), retrieval=RetrievalSettings(backend=args.backend))
        retriever = Retriever.from_settings(settings)
        started = time.perf_counter()
        report = retriever.upsert(docs, vectors=vectors)
        store_s = time.perf_counter() - started
        started = time.perf_counter()
        retriever.search("warm up the keyword index", k=5)  # builds BM25 + filter columns
        bm25_build_s = time.perf_counter() - started
        del vectors
        gc.collect()
        index_dps = args.docs / (store_s + bm25_build_s)
        combined_dps = 1 / (1 / embed_dps + 1 / index_dps)

        cases = generate_cases(histories=max(1, args.queries // 5), seed=23)
        queries = [query_for_incident(c.incident, c.signals) for c in cases][: args.queries - len(QUESTIONS)]
        queries += list(QUESTIONS)
        embed_ms, search_ms = [], []
        for q in queries:
            t0 = time.perf_counter()
            embedder.encode([q + " (baseline)"])
            embed_ms.append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            hits = retriever.search(q, k=5)
            search_ms.append((time.perf_counter() - t0) * 1000)
            assert len(hits) == 5
        # the same queries again: their vectors are now cached, so this times everything but the model
        cached_ms = []
        for q in queries:
            t0 = time.perf_counter()
            retriever.search(q, k=5)
            cached_ms.append((time.perf_counter() - t0) * 1000)
        # exact numpy dot product over a matrix of the same size (baseline for the vector part)
        matrix = np.random.default_rng(1).normal(size=(args.docs, 384)).astype(np.float32)
        query_vec = matrix[0]
        dot_ms = []
        for _ in range(50):
            t0 = time.perf_counter()
            np.argpartition(-(matrix @ query_vec), 5)[:5]
            dot_ms.append((time.perf_counter() - t0) * 1000)
        del matrix
        rss_end = rss_mb()
        count = retriever.count()

    p50, p95 = percentile(search_ms, 50), percentile(search_ms, 95)
    table = Table(title=f"retrieval scale: {count} documents, backend {args.backend}, embed {args.embed}")
    table.add_column("measure")
    table.add_column("value", justify="right")
    rows = [
        ("documents added", f"{len(report.added)}"),
        (f"model embedding throughput ({sample_n} docs)", f"{embed_dps:.1f} docs/s"),
        ("store upsert + BM25 build throughput (all docs)", f"{index_dps:.0f} docs/s"),
        ("end-to-end indexing (embedding + store + BM25)", f"{combined_dps:.1f} docs/s"),
        ("BM25 + filter index build", f"{bm25_build_s:.1f} s"),
        (f"query latency k=5 p50 ({len(queries)} queries)", f"{p50:.1f} ms"),
        ("query latency k=5 p95", f"{p95:.1f} ms"),
        ("query latency without the model (cached query vector) p50", f"{percentile(cached_ms, 50):.1f} ms"),
        ("query latency without the model (cached query vector) p95", f"{percentile(cached_ms, 95):.1f} ms"),
        ("baseline: model encodes the query alone, p50", f"{statistics.median(embed_ms):.1f} ms"),
        ("baseline: model encodes the query alone, p95", f"{percentile(embed_ms, 95):.1f} ms"),
        ("baseline: exact numpy top-5 over the matrix, p50", f"{statistics.median(dot_ms):.1f} ms"),
        ("query p50 / query-encoding p50", f"{p50 / statistics.median(embed_ms):.2f}x"),
        ("RSS at start / with model / at end", f"{rss_start:.0f} / {rss_model:.0f} / {rss_end:.0f} MB"),
        ("peak RSS (model + index + benchmark data)", f"{peak_rss_mb():.0f} MB"),
    ]
    for name, value in rows:
        table.add_row(name, value)
    console.print(table)
    console.print("goals: query p95 < 50 ms; RSS < 1.5 GB with the model and a 50,000-document index")
    print(
        json.dumps(
            {
                "bench": "retrieval_scale",
                "documents": count,
                "backend": args.backend,
                "embed": args.embed,
                "embed_docs_per_s": round(embed_dps, 1),
                "store_bm25_docs_per_s": round(index_dps, 1),
                "indexing_docs_per_s": round(combined_dps, 1),
                "query_p50_ms": round(p50, 2),
                "query_p95_ms": round(p95, 2),
                "query_without_model_p50_ms": round(percentile(cached_ms, 50), 2),
                "query_without_model_p95_ms": round(percentile(cached_ms, 95), 2),
                "query_encode_p50_ms": round(statistics.median(embed_ms), 2),
                "query_encode_p95_ms": round(percentile(embed_ms, 95), 2),
                "numpy_top5_p50_ms": round(statistics.median(dot_ms), 2),
                "rss_end_mb": round(rss_end, 0),
                "peak_rss_mb": round(peak_rss_mb(), 0),
            }
        )
    )


if __name__ == "__main__":
    main()

"""Analysis latency without an LLM: alert in -> answer ready, with a 10,000-incident history.

Runs the lead's ``Pipeline.analyze_context`` (detectors, retrieval, ranker, categoriser, recommendations,
summary) over simulated bundles, with a memory retriever holding ``--history`` past incidents. The
history's embeddings are precomputed (bulk ingestion is not the measured path): a few hundred distinct
incident texts are embedded for real, by the pipeline's own embedder, and their vectors reused for the
copies, so the dense search scans a matrix of the full size. Baseline in the same process: the same
pipeline with no history at all.

Wall time is what a responder waits on an idle host; on a shared one it grows with the load, so the CPU
time of each analysis (this process's, all its threads) is printed beside it.

    .venv/bin/python -m bench.latency [--data .sherlog/bench/rca] [--history 10000] [--runs 40]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT / ".sherlog" / "bench" / "rca"


def _history(bundles: list[Path], size: int, embedder) -> tuple[list, dict[str, np.ndarray]]:  # type: ignore[no-untyped-def, type-arg]
    from bot.domain import DocumentType
    from bot.pipeline.bundle import load_bundle
    from retrieval.retriever import embedding_text

    seen: dict[str, object] = {}
    for path in bundles:
        context, _ = load_bundle(path)
        for doc in context.history:
            if doc.type is DocumentType.INCIDENT:
                seen.setdefault(doc.text, doc)
        if len(seen) >= 300:
            break
    templates = list(seen.values())
    vectors = embedder.encode([embedding_text(d) for d in templates])
    docs = []
    given: dict[str, np.ndarray] = {}
    for i in range(size):
        src = templates[i % len(templates)]
        doc = src.model_copy(update={"id": f"hist-{i:05d}", "title": f"{src.title} #{i}"})  # type: ignore[attr-defined]
        docs.append(doc)
        given[doc.id] = vectors[i % len(templates)]
    return docs, given


def _measure(pipeline, contexts, runs: int) -> tuple[list[float], list[float]]:  # type: ignore[no-untyped-def]
    """Wall and CPU milliseconds of each analysis."""
    wall, cpu = [], []
    for i in range(runs):
        context = contexts[i % len(contexts)]
        t0, c0 = time.perf_counter(), time.process_time()
        pipeline.analyze_context(context)
        wall.append((time.perf_counter() - t0) * 1000.0)
        cpu.append((time.process_time() - c0) * 1000.0)
    return wall, cpu


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="analysis latency benchmark")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--history", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    from bot.pipeline.bundle import load_bundle
    from bot.pipeline.service import Pipeline
    from bot.reasoning.dataset import bundle_dirs
    from config.settings import load_settings
    from retrieval import Retriever

    if not args.data.is_dir():
        from bot.simulation import generate_dataset

        generate_dataset(args.data, n=60, seed=7)
    bundles = bundle_dirs(args.data)[:60]
    contexts = []
    for path in bundles[:20]:
        context, _ = load_bundle(path)
        contexts.append(context.model_copy(update={"history": []}))  # an alert carries no history
    settings = load_settings(data_dir=ROOT / ".sherlog" / "bench" / "latency", retrieval={"backend": "memory"})

    t0 = time.perf_counter()
    retriever = Retriever.in_memory(settings.retrieval, model_dir=settings.data_dir / "models")
    docs, vectors = _history(bundles, args.history, retriever.embedder)
    retriever.upsert(docs, vectors=vectors)
    ingest_s = time.perf_counter() - t0

    baseline = Pipeline(settings=settings, store=None, retriever=None)
    loaded = Pipeline(settings=settings, store=None, retriever=retriever)
    _measure(loaded, contexts, 3)  # warm-up: indexes, model, caches
    _measure(baseline, contexts, 3)
    base_ms, base_cpu = _measure(baseline, contexts, args.runs)
    full_ms, full_cpu = _measure(loaded, contexts, args.runs)
    stages: dict[str, list[float]] = {}
    for context in contexts[:10]:
        for stage, ms in loaded.analyze_context(context).timings_ms.items():
            stages.setdefault(stage, []).append(ms)

    def pct(values: list[float], q: float) -> float:
        return float(np.percentile(values, q))

    print(f"{len(contexts)} bundles, {args.runs} analyses per arm, history {retriever.count()} documents "
          f"(built in {ingest_s:.0f} s)")
    print(f"{'arm':<28}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}{'CPU p50':>9}{'CPU p95':>9}")
    for name, values, cpu in (("no history (baseline)", base_ms, base_cpu),
                              (f"{args.history} past incidents", full_ms, full_cpu)):
        print(f"{name:<28}{pct(values, 50):>9.0f}{pct(values, 95):>9.0f}{max(values):>9.0f}"
              f"{pct(cpu, 50):>9.0f}{pct(cpu, 95):>9.0f}")
    print("median stage times with history (ms): " + ", ".join(
        f"{k} {float(np.median(v)):.0f}" for k, v in stages.items()))
    print(f"load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (goal p95 < 500 ms)")
    print(json.dumps({"bench": "latency", "history": retriever.count(), "p50_ms": round(pct(full_ms, 50), 1),
                      "p95_ms": round(pct(full_ms, 95), 1), "baseline_p95_ms": round(pct(base_ms, 95), 1),
                      "cpu_p50_ms": round(pct(full_cpu, 50), 1), "cpu_p95_ms": round(pct(full_cpu, 95), 1),
                      "ratio_p95_vs_no_history": round(pct(full_ms, 95) / max(pct(base_ms, 95), 1e-9), 2),
                      "reasoning_median_ms": round(float(np.median(stages.get("reasoning", [0.0]))), 1),
                      "load_average": round(os.getloadavg()[0], 1)}))


if __name__ == "__main__":
    main()

"""Retrieval quality: similar postmortems (postmortems-icco) and recurring incidents (simulated).

1. postmortems-icco (242 public postmortems). Corpus: every postmortem with a body (title + body text;
   the front-matter ``summary`` is NOT indexed). Queries: each postmortem's front-matter ``summary``
   (195 have one); the query's own postmortem is excluded from its results. Relevant: another
   postmortem of the SAME COMPANY sharing at least one category. Queries with no relevant document
   are not scored. Reported twice: with the summary as written, and with the company and product
   names masked out of the query (so that a hit cannot come from the name alone).
   Recall@5 = relevant found in the top 5 / min(relevant, 5); Hit@5 = share of queries with at least
   one relevant in the top 5; MRR = mean of 1 / rank of the first relevant (0 beyond the top 50).
2. Recurrence: simulated histories (``bench/retrieval_data/recurrence.py``) of 40 past incidents each,
   in which an incident recurs (same service and root cause) described with other words and values,
   next to near misses (same cause elsewhere, other causes on the same service). The query is built
   from the open incident's alert and detector signals with ``query_for_incident``. Reported:
   share of cases whose earlier occurrence is in the top 1 and top 3.

Each method is the same ``Retriever`` (same boosts: same service, recency) with other fusion
settings: dense only (bm25_weight 0), BM25 only (dense_weight 0), hybrid reciprocal rank fusion,
hybrid weighted (the default: cosine + BM25 divided by the BM25 of a document holding every query word).

    .venv/bin/python -m bench.retrieval [--data ../shared/data/postmortems-icco] [--histories 20]
        [--precision float32|int8] [--max-tokens N] [--embed-backend torch|onnx]
"""

from __future__ import annotations

import argparse
import json
import re
import time
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench.retrieval_data.recurrence import generate_cases
from bot.domain import Document, DocumentType
from config.settings import RetrievalSettings
from retrieval import Retriever, query_for_incident
from retrieval.documents import as_list, split_front_matter

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "postmortems-icco"

METHODS: dict[str, dict[str, object]] = {
    "dense": {"dense_weight": 1.0, "bm25_weight": 0.0, "fusion": "weighted"},
    "bm25": {"dense_weight": 0.0, "bm25_weight": 1.0, "fusion": "weighted"},
    "hybrid-rrf": {"dense_weight": 1.0, "bm25_weight": 1.0, "fusion": "rrf"},
    "hybrid-weighted": {"dense_weight": 1.0, "bm25_weight": 1.0, "fusion": "weighted"},
}


@dataclass
class Postmortem:
    id: str
    company: str
    product: str
    categories: set[str]
    summary: str
    doc: Document


def load_postmortems(folder: Path) -> list[Postmortem]:
    out: list[Postmortem] = []
    for path in sorted((folder / "data").glob("*.md")):
        meta, body = split_front_matter(path.read_text(encoding="utf-8"))
        if not body.strip():
            continue
        doc = Document(
            id=str(meta.get("uuid") or path.stem),
            type=DocumentType.INCIDENT,
            title=str(meta.get("title") or ""),
            text=body.strip(),
            url=meta.get("url"),
            source="postmortems-icco",
        )
        out.append(
            Postmortem(
                id=doc.id,
                company=str(meta.get("company") or "").strip().lower(),
                product=str(meta.get("product") or "").strip(),
                categories=set(as_list(meta.get("categories"))) - {"undescriptive"},
                summary=str(meta.get("summary") or "").strip(),
                doc=doc,
            )
        )
    return out


def mask_names(text: str, *names: str) -> str:
    for name in sorted({n for n in names if len(n) > 1}, key=len, reverse=True):
        text = re.sub(rf"\b{re.escape(name)}(?:'s)?\b", " ", text, flags=re.IGNORECASE)
    return text


def evaluate_postmortems(retriever: Retriever, posts: list[Postmortem], *, masked: bool) -> dict[str, float]:
    recall, hit, rr, n = 0.0, 0.0, 0.0, 0
    for p in posts:
        if not p.summary or not p.categories:
            continue
        relevant = {
            q.id for q in posts if q.id != p.id and q.company == p.company and q.categories & p.categories
        }
        if not relevant:
            continue
        query = mask_names(p.summary, p.company, p.product) if masked else p.summary
        ids = [h.document.id for h in retriever.search(query, k=51) if h.document.id != p.id][:50]
        top5 = set(ids[:5])
        recall += len(top5 & relevant) / min(len(relevant), 5)
        hit += 1.0 if top5 & relevant else 0.0
        first = next((i for i, d in enumerate(ids, start=1) if d in relevant), None)
        rr += 1.0 / first if first else 0.0
        n += 1
    return {"queries": n, "recall@5": recall / n, "hit@5": hit / n, "mrr": rr / n}


def evaluate_recurrence(
    base: RetrievalSettings, histories: int, seed: int
) -> tuple[dict[str, dict[str, float]], int]:
    cases = generate_cases(histories=histories, seed=seed)
    by_history: dict[int, list[int]] = {}
    for i, case in enumerate(cases):
        by_history.setdefault(id(case.history), []).append(i)
    scores = {m: {"top1": 0.0, "top3": 0.0} for m in METHODS}
    for indices in by_history.values():
        retriever = Retriever.in_memory(base)
        retriever.upsert(cases[indices[0]].history)
        for method, weights in METHODS.items():
            retriever.settings = base.model_copy(update=weights)
            for i in indices:
                case = cases[i]
                ids = [
                    h.document.id
                    for h in retriever.search(query_for_incident(case.incident, case.signals), k=3)
                ]
                scores[method]["top1"] += ids[:1] == [case.expected_id]
                scores[method]["top3"] += case.expected_id in ids
    for m in scores:
        scores[m] = {k: v / len(cases) for k, v in scores[m].items()}
    return scores, len(cases)


def run_postmortems(console: Console, base: RetrievalSettings, data: Path) -> dict[str, object]:
    posts = load_postmortems(data)
    if not posts:
        raise SystemExit(f"{data}: no postmortems found (expected the postmortems-icco dataset's files)")
    retriever = Retriever.in_memory(base)
    retriever.upsert([p.doc for p in posts])
    pm: dict[str, dict[str, dict[str, float]]] = {}
    for method, weights in METHODS.items():
        retriever.settings = base.model_copy(update=weights)
        pm[method] = {
            "as-written": evaluate_postmortems(retriever, posts, masked=False),
            "names-masked": evaluate_postmortems(retriever, posts, masked=True),
        }
    table = Table(title=f"postmortems-icco: {len(posts)} documents, summary -> others' bodies")
    for col in ("method", "queries", "R@5", "Hit@5", "MRR", "R@5 masked", "Hit@5 masked", "MRR masked"):
        table.add_column(col, justify="right" if col != "method" else "left", no_wrap=True)
    for method, r in pm.items():
        a, b = r["as-written"], r["names-masked"]
        table.add_row(
            method,
            str(a["queries"]),
            f"{a['recall@5']:.3f}",
            f"{a['hit@5']:.3f}",
            f"{a['mrr']:.3f}",
            f"{b['recall@5']:.3f}",
            f"{b['hit@5']:.3f}",
            f"{b['mrr']:.3f}",
        )
    console.print(table)
    console.print(
        "relevant = another postmortem of the same company sharing >= 1 category; query = front-matter summary "
        "(not indexed); R@5 = |relevant in top 5| / min(|relevant|, 5); MRR over the top 50; "
        "'masked' = company and product names removed from the query."
    )
    return {
        "postmortems_documents": len(posts),
        "postmortems_queries": pm["hybrid-weighted"]["as-written"]["queries"],
        **{f"pm_{m}_recall@5": round(r["as-written"]["recall@5"], 4) for m, r in pm.items()},
        **{f"pm_{m}_mrr": round(r["as-written"]["mrr"], 4) for m, r in pm.items()},
        **{f"pm_masked_{m}_recall@5": round(r["names-masked"]["recall@5"], 4) for m, r in pm.items()},
        **{f"pm_masked_{m}_mrr": round(r["names-masked"]["mrr"], 4) for m, r in pm.items()},
    }


def run_recurrence(console: Console, base: RetrievalSettings, histories: int, seed: int) -> dict[str, object]:
    rec, n_cases = evaluate_recurrence(base, histories, seed)
    table = Table(
        title=f"recurrence: {n_cases} simulated recurring incidents (seed {seed}), 40 past incidents each"
    )
    for col in ("method", "top-1", "top-3"):
        table.add_column(col, justify="right" if col != "method" else "left", no_wrap=True)
    for method, r in rec.items():
        table.add_row(method, f"{r['top1']:.3f}", f"{r['top3']:.3f}")
    console.print(table)
    console.print(
        "goal: the earlier occurrence in the top 3 for >= 95% of cases (default method: hybrid-weighted)"
    )
    return {
        "recurrence_cases": n_cases,
        "recurrence_seed": seed,
        **{f"recurrence_{m}_top3": round(r["top3"], 4) for m, r in rec.items()},
        **{f"recurrence_{m}_top1": round(r["top1"], 4) for m, r in rec.items()},
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="postmortems-icco folder")
    parser.add_argument("--histories", type=int, default=20, help="simulated histories (5 recurrences each)")
    parser.add_argument("--seed", type=int, default=7, help="seed of the simulated histories")
    parser.add_argument(
        "--only", choices=["postmortems", "recurrence"], help="run one of the two evaluations"
    )
    parser.add_argument(
        "--precision", choices=["float32", "int8"], default=None, help="embedder precision (default: settings)"
    )
    parser.add_argument(
        "--max-tokens", type=int, default=None, help="word pieces the embedder reads per text (default: settings)"
    )
    parser.add_argument(
        "--embed-backend", choices=["torch", "onnx"], default=None, help="embedder runtime (default: settings)"
    )
    args = parser.parse_args(argv)
    if args.only in (None, "postmortems") and not args.data.is_dir():
        parser.error(f"--data {args.data}: no such folder (the postmortems-icco dataset; default {DEFAULT_DATA})")
    console = Console(width=120)
    base = RetrievalSettings(backend="memory")
    if args.precision is not None:
        base = base.model_copy(update={"embed_precision": args.precision})
    if args.max_tokens is not None:
        if args.max_tokens < 8:
            parser.error("--max-tokens must be at least 8")
        base = base.model_copy(update={"embed_max_tokens": args.max_tokens})
    if args.embed_backend is not None:
        base = base.model_copy(update={"embed_backend": args.embed_backend})
    started = time.perf_counter()
    headline: dict[str, object] = {"bench": "retrieval"}
    if args.only in (None, "postmortems"):
        headline.update(run_postmortems(console, base, args.data))
    if args.only in (None, "recurrence"):
        headline.update(run_recurrence(console, base, args.histories, args.seed))
    headline["embed_precision"] = base.embed_precision
    headline["embed_max_tokens"] = base.embed_max_tokens
    headline["embed_backend"] = Retriever.in_memory(base).embedder.backend  # torch if the ONNX export failed
    headline["seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(headline))


if __name__ == "__main__":
    main()

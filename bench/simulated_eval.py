"""`sherlog eval` on a freshly generated, held-out test split of simulated incidents.

Generates ``--n`` bundles with ``bot.simulation.generate_dataset`` at the training datasets' test fraction
(0.3, as ``sherlog simulate dataset`` and ``bench.rca`` make them) and keeps only the test split: its (kind,
world, culprit service) families, every difficulty of them, are never in the training split of a dataset of
any seed made at that fraction (``bot.simulation.dataset.held_out_families``). ``--train-manifest`` checks it
against the dataset a model was trained on and prints the share of evaluated bundles whose family or group
that training split holds, and the figures on the bundles of families it does not hold (the honest ones for a
model trained on a dataset split another way); with ``--only-unseen`` only those bundles are analysed. Analyses each one with the full
pipeline on the embedded defaults (detectors, bundle-local retrieval over the bundle's history, the
shipped ranker) and prints AC@1, AC@3, category accuracy, calibration error (ECE) and latency, per kind
and overall. With history, it also prints how well retrieval found the past incident that matters: the share of
bundles whose top-1 / top-5 similar past incident has the true kind (and the true service and kind), beside the
share whose history holds such an incident at all (the ceiling).

    .venv/bin/python -m bench.simulated_eval [--n 500] [--seed 2026] [--data DIR] [--no-history]
                                             [--train-manifest DATASET/manifest.jsonl [--only-unseen]]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.domain import Document, GroundTruth, SimilarIncident

TEST_FRACTION = 0.3  # the fraction training datasets are made with (sherlog simulate dataset, bench.rca)


class RetrievalTally:
    """How often the similar past incidents an analysis retrieved carry the true cause, per bundle with history:
    ``kind@1`` / ``kind@5`` (the top one / any of the top five has the true kind), ``exact@1`` / ``exact@5`` (true
    service and kind), and ``kind_held`` / ``exact_held`` (the bundle's history holds such an incident)."""

    KEYS = ("kind@1", "kind@5", "kind_held", "exact@1", "exact@5", "exact_held")

    def __init__(self) -> None:
        self.bundles = 0
        self.counts = dict.fromkeys(self.KEYS, 0)

    def add(self, *, truth: GroundTruth, similar: Sequence[SimilarIncident], history: Sequence[Document]) -> None:
        if not history:
            return
        self.bundles += 1
        kind = [s.root_cause_kind == truth.root_cause_kind for s in similar[:5]]
        exact = [k and s.root_cause_service == truth.root_cause_service for k, s in zip(kind, similar[:5], strict=False)]
        held = [d.root_cause_kind == truth.root_cause_kind for d in history]
        held_exact = [k and d.root_cause_service == truth.root_cause_service for k, d in zip(held, history, strict=True)]
        for key, flags in (("kind", kind), ("exact", exact)):
            self.counts[f"{key}@1"] += bool(flags[:1] and flags[0])
            self.counts[f"{key}@5"] += any(flags)
        self.counts["kind_held"] += any(held)
        self.counts["exact_held"] += any(held_exact)

    def shares(self) -> dict[str, float]:
        return {k: round(v / self.bundles, 3) for k, v in self.counts.items()} if self.bundles else {}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=500, help="test bundles to evaluate (default 500)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--data", type=Path, default=None, help="reuse or keep the bundles here")
    parser.add_argument("--no-history", action="store_true", help="bundles without history/ (no retrieval)")
    parser.add_argument("--train-manifest", type=Path, default=None,
                        help="manifest.jsonl of the dataset the model was trained on: report the overlap with it")
    parser.add_argument("--only-unseen", action="store_true",
                        help="with --train-manifest: analyse only bundles whose family that training split lacks")
    args = parser.parse_args(argv)
    if args.only_unseen and args.train_manifest is None:
        parser.error("--only-unseen needs --train-manifest")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    from bot.domain import Analysis, DocumentType
    from bot.pipeline import Pipeline
    from bot.pipeline.bundle import read_history_documents
    from bot.pipeline.evaluation import EvalCase, evaluate_bundles, find_bundles, summarize_cases
    from bot.simulation import generate_dataset
    from bot.simulation.dataset import read_manifest
    from config.settings import load_settings

    root = args.data or Path(tempfile.mkdtemp(prefix="sherlog-eval-"))
    test_dir = root / "test"
    if not (test_dir.is_dir() and find_bundles(test_dir)):
        # the training datasets' fraction: a larger one would hold out families a model was trained on;
        # plan a pool large enough that its test part holds --n cases (only that part is written)
        generate_dataset(root, n=int(args.n / TEST_FRACTION * 1.15) + 10, seed=args.seed,
                         test_fraction=TEST_FRACTION, history=not args.no_history, splits=("test",))
    bundles = find_bundles(test_dir)[: args.n]
    overlap = ""
    if args.train_manifest is not None:
        planned = {c.name: c for c in read_manifest(root) if c.split == "test"}
        trained = [c for c in read_manifest(args.train_manifest.parent) if c.split == "train"]
        families, groups = {c.family for c in trained}, {c.group for c in trained}
        shown = [planned[b.name] for b in bundles if b.name in planned]
        n = max(1, len(shown))
        overlap = (f"; held-out bundles whose family / group is in {args.train_manifest}'s training split: "
                   f"{sum(c.family in families for c in shown) / n:.0%} / {sum(c.group in groups for c in shown) / n:.0%}")
        if args.only_unseen:
            bundles = [b for b in bundles if b.name in planned and planned[b.name].family not in families]
            overlap += f"; only the {len(bundles)} bundles of unseen families are analysed"
    settings = load_settings(data_dir=root / ".sherlog", retrieval={"backend": "memory"})
    scored: list[tuple[Path, EvalCase]] = []
    tally = RetrievalTally()

    def on_case(path: Path, truth: GroundTruth, analysis: Analysis, case: EvalCase) -> None:
        scored.append((path, case))
        history = read_history_documents(path / "history" / "incidents", DocumentType.INCIDENT)
        tally.add(truth=truth, similar=analysis.similar_incidents, history=history)

    result = evaluate_bundles(bundles, pipeline=Pipeline(settings=settings), on_case=on_case)
    unseen: dict[str, Any] | None = None
    if args.train_manifest is not None and not args.only_unseen:
        kept = [case for path, case in scored if path.name in planned and planned[path.name].family not in families]
        unseen = summarize_cases(kept) if kept else None

    print(f"sherlog eval on {len(bundles)} held-out simulated bundles under {test_dir}"
          f" ({'without' if args.no_history else 'with'} history; families held out at test fraction {TEST_FRACTION}"
          f"{overlap})")
    head = f"{'kind':<28}{'cases':>6}{'AC@1':>7}{'AC@3':>7}{'cat':>7}{'ECE':>7}{'p50 ms':>9}"
    print(head)
    print("-" * len(head))
    for kind, row in sorted(result["per_kind"].items()):
        print(f"{kind:<28}{row['cases']:>6}{row['top1']:>7.2f}{row['top3']:>7.2f}{row['category_accuracy']:>7.2f}"
              f"{row['calibration_error']:>7.2f}{row['p50_ms']:>9.0f}")
    print("-" * len(head))
    print(f"{'overall':<28}{result['cases']:>6}{result['top1']:>7.3f}{result['top3']:>7.3f}"
          f"{result['category_accuracy']:>7.3f}{result['calibration_error']:>7.3f}{result['p50_ms']:>9.0f}"
          f"   (p95 {result['p95_ms']:.0f} ms)")
    shares = tally.shares()
    if shares:
        print(f"{'retrieval (share of bundles)':<28}{tally.bundles:>6}   past incident of the true kind: top-1 "
              f"{shares['kind@1']:.2f}, top-5 {shares['kind@5']:.2f}, in the history {shares['kind_held']:.2f}; "
              f"true service and kind: top-1 {shares['exact@1']:.2f}, top-5 {shares['exact@5']:.2f}, "
              f"in the history {shares['exact_held']:.2f}")
    print("goals (issue 6): AC@1 >= 0.90, AC@3 >= 0.98, category accuracy >= 0.95, ECE <= 0.05")
    headline = {k: result[k] for k in ("cases", "top1", "top3", "category_accuracy", "calibration_error",
                                       "p50_ms", "p95_ms")}
    if shares:
        headline["retrieval"] = shares
    if unseen is not None:
        print(f"{'unseen families only':<28}{unseen['cases']:>6}{unseen['top1']:>7.3f}{unseen['top3']:>7.3f}"
              f"{unseen['category_accuracy']:>7.3f}{unseen['calibration_error']:>7.3f}")
        headline["unseen_families"] = {k: unseen[k] for k in ("cases", "top1", "top3", "category_accuracy",
                                                              "calibration_error")}
    print(json.dumps(headline))


if __name__ == "__main__":
    main()

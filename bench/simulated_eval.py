"""`sherlog eval` on a freshly generated, held-out test split of simulated incidents.

Generates ``--n`` bundles with ``bot.simulation.generate_dataset`` (only the test split is kept: its
(kind, world, service, difficulty) groups never appear in training), analyses each one with the full
pipeline on the embedded defaults (detectors, bundle-local retrieval over the bundle's history, the
shipped ranker) and prints AC@1, AC@3, category accuracy, calibration error (ECE) and latency, per kind
and overall.

    .venv/bin/python -m bench.simulated_eval [--n 500] [--seed 2026] [--data DIR] [--no-history]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=500, help="test bundles to evaluate (default 500)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--data", type=Path, default=None, help="reuse or keep the bundles here")
    parser.add_argument("--no-history", action="store_true", help="bundles without history/ (no retrieval)")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    from bot.pipeline import Pipeline
    from bot.pipeline.evaluation import evaluate_bundles, find_bundles
    from bot.simulation import generate_dataset
    from config.settings import load_settings

    root = args.data or Path(tempfile.mkdtemp(prefix="sherlog-eval-"))
    test_dir = root / "test"
    if not (test_dir.is_dir() and find_bundles(test_dir)):
        # test_fraction 1.0 would leave no training groups: generate a 2x pool and keep its test part
        generate_dataset(root, n=int(args.n / 0.5) + 1, seed=args.seed, test_fraction=0.55,
                         history=not args.no_history, splits=("test",))
    bundles = find_bundles(test_dir)[: args.n]
    settings = load_settings(data_dir=root / ".sherlog", retrieval={"backend": "memory"})
    result = evaluate_bundles(bundles, pipeline=Pipeline(settings=settings))

    print(f"sherlog eval on {len(bundles)} held-out simulated bundles under {test_dir}"
          f" ({'without' if args.no_history else 'with'} history)")
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
    print("goals (issue 6): AC@1 >= 0.90, AC@3 >= 0.98, category accuracy >= 0.95, ECE <= 0.05")
    headline = {k: result[k] for k in ("cases", "top1", "top3", "category_accuracy", "calibration_error",
                                       "p50_ms", "p95_ms")}
    print(json.dumps(headline))


if __name__ == "__main__":
    main()

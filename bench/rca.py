"""Root-cause ranking on simulated evidence bundles held out from training.

Generates (or reuses) a dataset with ``bot.simulation.generate_dataset`` whose test split only holds
(kind, world, culprit service) families never seen in training, gathers the ranker's inputs with the
real detectors and bundle-local retrieval, trains weights + calibration on the train split and reports
AC@1, AC@3, category accuracy and ECE on the test split, next to the hand-set prior weights and the
shipped default model.

    .venv/bin/python -m bench.rca [--data .sherlog/bench/rca] [--n 360] [--seed 7]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT / ".sherlog" / "bench" / "rca"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="root-cause ranking benchmark on held-out simulated bundles")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="dataset folder (generated when absent)")
    parser.add_argument("--n", type=int, default=360, help="bundles to generate when the folder is absent")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--test-fraction", type=float, default=0.3)
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    from bot.reasoning.dataset import load_cases
    from bot.reasoning.scorer import DEFAULT_MODEL_PATH, RankerModel
    from bot.reasoning.train import evaluate, fit_model

    if not (args.data / "manifest.jsonl").is_file():
        from bot.simulation import generate_dataset

        print(f"generating {args.n} bundles under {args.data} (seed {args.seed})")
        generate_dataset(args.data, n=args.n, seed=args.seed, test_fraction=args.test_fraction)
    t0 = time.perf_counter()
    train = load_cases(args.data / "train")
    test = load_cases(args.data / "test")
    gather_s = time.perf_counter() - t0

    trained = fit_model(train)
    rows: list[tuple[str, dict[str, float]]] = [("prior weights (hand-set)", evaluate(test, RankerModel.prior()))]
    if DEFAULT_MODEL_PATH.exists():
        rows.append(("shipped default model", evaluate(test, RankerModel.load(DEFAULT_MODEL_PATH))))
    rows.append(("trained on this train split", evaluate(test, trained)))

    print(f"train bundles {len(train)}, held-out test bundles {len(test)} (gathering {gather_s:.0f} s)")
    head = f"{'model':<30}{'AC@1':>7}{'AC@3':>7}{'AC@5':>7}{'cat acc':>9}{'ECE':>7}{'abstain':>9}"
    print(head)
    print("-" * len(head))
    for name, f in rows:
        print(f"{name:<30}{f['ac1']:>7.3f}{f['ac3']:>7.3f}{f['ac5']:>7.3f}{f['category_accuracy']:>9.3f}"
              f"{f['ece']:>7.3f}{f['not_enough_evidence']:>9.3f}")
    print("goals: AC@1 >= 0.90, AC@3 >= 0.98, category accuracy >= 0.95, ECE <= 0.05")
    best = rows[-1][1]
    print(json.dumps({"bench": "rca", "train": len(train), "test": len(test), "ac1": best["ac1"], "ac3": best["ac3"],
                      "ac5": best["ac5"], "category_accuracy": best["category_accuracy"], "ece": best["ece"],
                      "prior_ac1": rows[0][1]["ac1"],
                      "shipped_ac1": rows[1][1]["ac1"] if len(rows) == 3 else None}))


if __name__ == "__main__":
    main()

"""Feedback replay: a stream of simulated incidents with simulated responder feedback.

Each incident is first answered (prequential evaluation: scored before its feedback is learned), then
the simulated responder resolves it with the confirmed cause (probability ``--p-resolve``) and votes up
the top hypothesis when right, down when wrong (probability ``--p-vote``). Two arms see the same stream:
the static model and a ``FeedbackLearner`` starting from the same weights. Top-1 accuracy and expected
calibration error are printed per block of 50 incidents.

The stream cycles through the bundles of a dataset's test split in a seeded random order, so with
fewer bundles than incidents a bundle recurs (as incidents recur in real teams).

    .venv/bin/python -m bench.feedback_replay [--data .sherlog/bench/rca] [--incidents 500] [--base prior]
"""

from __future__ import annotations

import argparse
import json
import os
import random
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT / ".sherlog" / "bench" / "rca"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="feedback replay benchmark")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="dataset folder (see bench.rca)")
    parser.add_argument("--split", default="test")
    parser.add_argument("--incidents", type=int, default=500)
    parser.add_argument("--block", type=int, default=50)
    parser.add_argument("--base", choices=("prior", "default"), default="default",
                        help="starting weights: hand-set prior or the shipped trained model")
    parser.add_argument("--p-resolve", type=float, default=0.9)
    parser.add_argument("--p-vote", type=float, default=0.6)
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    from bot.domain import Analysis, Feedback, Vote
    from bot.reasoning import rank
    from bot.reasoning.dataset import load_cases
    from bot.reasoning.feedback import FeedbackLearner
    from bot.reasoning.scorer import RankerModel, default_model
    from bot.reasoning.train import expected_calibration_error

    root = args.data / args.split if (args.data / args.split).is_dir() else args.data
    pool = load_cases(root)
    if not pool:
        raise SystemExit(f"no labelled bundles under {root}; run bench.rca first to generate a dataset")
    rng = random.Random(args.seed)
    stream = []
    while len(stream) < args.incidents:
        batch = list(pool)
        rng.shuffle(batch)
        stream.extend(batch)
    stream = stream[: args.incidents]

    base = RankerModel.prior() if args.base == "prior" else default_model()
    saved: dict[str, dict[str, object]] = {}
    learner = FeedbackLearner(base=base, load=saved.get, save=saved.__setitem__)
    records: dict[str, list[tuple[float, int]]] = {"static": [], "learning": []}
    for n, case in enumerate(stream):
        truth = (case.truth.root_cause_service, case.truth.root_cause_kind)
        static = rank(context=case.context, signals=case.signals, similar=case.similar, runbooks=case.runbooks,
                      model=base)
        learned = rank(context=case.context, signals=case.signals, similar=case.similar, runbooks=case.runbooks,
                       model=learner.model)
        for arm, result in (("static", static), ("learning", learned)):
            top = result.hypotheses[0] if result.hypotheses else None
            hit = int(top is not None and (top.service, top.kind) == truth)
            records[arm].append((top.confidence if top else 0.0, hit))
        analysis = Analysis(incident_id=f"replay-{n}", hypotheses=learned.hypotheses)
        feedback: list[Feedback] = []
        top = learned.hypotheses[0] if learned.hypotheses else None
        if top is not None and rng.random() < args.p_vote:
            right = (top.service, top.kind) == truth
            feedback.append(Feedback(incident_id=analysis.incident_id, service=top.service, kind=top.kind,
                                     vote=Vote.UP if right else Vote.DOWN, user="sim"))
        if rng.random() < args.p_resolve:
            feedback.append(Feedback(incident_id=analysis.incident_id, service=truth[0], kind=truth[1],
                                     vote=Vote.FIXED, user="sim"))
        learner.observe(analysis=analysis, feedback=feedback)

    print(f"stream of {len(stream)} incidents from {len(pool)} bundles ({root}); base = {args.base}")
    head = f"{'block':<12}{'AC@1 static':>12}{'AC@1 learning':>15}{'ECE static':>12}{'ECE learning':>14}"
    print(head)
    print("-" * len(head))
    blocks = []
    for start in range(0, len(stream), args.block):
        row = {}
        for arm in ("static", "learning"):
            part = records[arm][start:start + args.block]
            row[f"ac1_{arm}"] = sum(h for _, h in part) / len(part)
            row[f"ece_{arm}"] = expected_calibration_error([c for c, _ in part], [h for _, h in part])
        blocks.append(row)
        print(f"{start + 1:>4}-{start + len(records['static'][start:start + args.block]):<7}"
              f"{row['ac1_static']:>12.3f}{row['ac1_learning']:>15.3f}{row['ece_static']:>12.3f}"
              f"{row['ece_learning']:>14.3f}")
    half = len(stream) // 2
    late_static = sum(h for _, h in records["static"][half:]) / max(1, len(stream) - half)
    late_learning = sum(h for _, h in records["learning"][half:]) / max(1, len(stream) - half)
    total_static = sum(h for _, h in records["static"]) / len(stream)
    total_learning = sum(h for _, h in records["learning"]) / len(stream)
    print(f"second half AC@1: static {late_static:.3f}, learning {late_learning:.3f}, "
          f"margin {late_learning - late_static:+.3f}; learner updates: {learner.updates}")
    print(json.dumps({"bench": "feedback_replay", "incidents": len(stream), "bundles": len(pool), "base": args.base,
                      "ac1_static": round(total_static, 4), "ac1_learning": round(total_learning, 4),
                      "ac1_second_half_static": round(late_static, 4),
                      "ac1_second_half_learning": round(late_learning, 4),
                      "margin_second_half": round(late_learning - late_static, 4),
                      "last_block": {k: round(v, 4) for k, v in blocks[-1].items()}}))


if __name__ == "__main__":
    main()

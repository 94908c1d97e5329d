"""Sequence anomalies on HDFS block sessions (logdeep preprocessing), on an honest split.

Data (``../shared/data/hdfs-sessions-logdeep``): normal sessions from ``hdfs_train`` and the label-0
rows of ``robust_log_{train,valid}.csv``; anomalous sessions from ``hdfs_test_abnormal`` and the
label-1 rows. Sessions are deduplicated (each distinct event sequence counts once) and sequences
that carry both labels are dropped. Distinct normal sequences are split at random: the model learns
on ``--train-share`` of them and is tested on the normal sequences it never saw plus every distinct
anomalous one. Precision and F1 are re-weighted to HDFS's anomaly rate (~2.9%: 16,838 of 575,061
sessions): precision = TPR*r / (TPR*r + FPR*(1-r)). Repeated over several seeds.

    .venv/bin/python -m bench.hdfs [--data ../shared/data/hdfs-sessions-logdeep] [--seeds 5]
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import statistics
from collections import Counter
from pathlib import Path

from detectors.logs.sequence import SessionModel

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "hdfs-sessions-logdeep"
ANOMALY_RATE = 16_838 / 575_061

Seq = tuple[int, ...]


def _parse(text: str) -> Seq:
    return tuple(int(x) for x in text.split())


def load(data: Path) -> tuple[Counter[Seq], Counter[Seq]]:
    """(normal, anomalous) distinct sequences with how often each occurs."""
    normal: Counter[Seq] = Counter()
    abnormal: Counter[Seq] = Counter()
    for line in (data / "hdfs_train").read_text().splitlines():
        if line.strip():
            normal[_parse(line)] += 1
    for line in (data / "hdfs_test_abnormal").read_text().splitlines():
        if line.strip():
            abnormal[_parse(line)] += 1
    for name in ("robust_log_train.csv", "robust_log_valid.csv"):
        with (data / name).open(newline="") as fh:
            for row in csv.DictReader(fh):
                (abnormal if row["label"].strip() == "1" else normal)[_parse(row["Sequence"])] += 1
    both = set(normal) & set(abnormal)
    for seq in both:
        del normal[seq], abnormal[seq]
    return normal, abnormal


def evaluate(normal: Counter[Seq], abnormal: Counter[Seq], *, seed: int, train_share: float,
             n: int, margin: float, confidence: float, subspace: bool) -> dict[str, float]:
    rng = random.Random(seed)
    seqs = sorted(normal)
    rng.shuffle(seqs)
    cut = int(len(seqs) * train_share)
    train, held = seqs[:cut], seqs[cut:]
    model = SessionModel(n=n, count_margin=margin, invariant_confidence=confidence, subspace=subspace).fit(train)
    fp = [s for s in held if model.is_anomalous(s)]
    tp = [s for s in abnormal if model.is_anomalous(s)]
    tpr = len(tp) / len(abnormal)
    fpr = len(fp) / len(held)
    # the same, weighting each held-out normal sequence by how often it occurs (real traffic mix)
    fpr_weighted = sum(normal[s] for s in fp) / sum(normal[s] for s in held)
    return {"tpr": tpr, "fpr": fpr, "fpr_weighted": fpr_weighted, "held_normal": len(held),
            "abnormal": len(abnormal), "train": len(train)}


def reweighted(tpr: float, fpr: float, rate: float = ANOMALY_RATE) -> tuple[float, float]:
    """(precision, F1) at the given anomaly rate."""
    denom = tpr * rate + fpr * (1 - rate)
    precision = tpr * rate / denom if denom else 0.0
    f1 = 2 * precision * tpr / (precision + tpr) if precision + tpr else 0.0
    return precision, f1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--train-share", type=float, default=0.7)
    parser.add_argument("--n", type=int, default=2, help="longest n-gram the model learns")
    parser.add_argument("--margin", type=float, default=0.0, help="allowed excess over the largest normal count")
    parser.add_argument("--confidence", type=float, default=1.0,
                        help="share of normal sessions a count invariant must hold in")
    parser.add_argument("--no-subspace", action="store_true", help="without the PCA-residual count check")
    args = parser.parse_args()
    normal, abnormal = load(args.data)
    runs = [evaluate(normal, abnormal, seed=s, train_share=args.train_share, n=args.n, margin=args.margin,
                     confidence=args.confidence, subspace=not args.no_subspace)
            for s in range(args.seeds)]
    tpr = statistics.mean(r["tpr"] for r in runs)
    fpr = statistics.mean(r["fpr"] for r in runs)
    fpr_w = statistics.mean(r["fpr_weighted"] for r in runs)
    p, f1 = reweighted(tpr, fpr)
    p_w, f1_w = reweighted(tpr, fpr_w)
    print(f"distinct sequences: {len(normal):,} normal, {len(abnormal):,} anomalous; "
          f"train on {runs[0]['train']:,} normal, test on {runs[0]['held_normal']:,} unseen normal + "
          f"{runs[0]['abnormal']:,} anomalous; {args.seeds} seeds")
    print(f"{'view':<34} {'recall':>7} {'FPR':>7} {'precision@2.9%':>15} {'F1@2.9%':>8}")
    print(f"{'distinct held-out normals':<34} {tpr:>7.3f} {fpr:>7.4f} {p:>15.3f} {f1:>8.3f}")
    print(f"{'held-out normals by frequency':<34} {tpr:>7.3f} {fpr_w:>7.4f} {p_w:>15.3f} {f1_w:>8.3f}")
    print("published (different, non-deduplicated splits): DeepLog F1 0.945, LogAnomaly F1 0.976")
    print(json.dumps({"recall": round(tpr, 4), "fpr_distinct": round(fpr, 5), "f1_distinct": round(f1, 4),
                      "precision_distinct": round(p, 4), "fpr_by_frequency": round(fpr_w, 5),
                      "f1_by_frequency": round(f1_w, 4), "precision_by_frequency": round(p_w, 4),
                      "seeds": args.seeds, "train_share": args.train_share}))


if __name__ == "__main__":
    main()

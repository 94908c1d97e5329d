"""Fit the top answer's confidence map (``RankerModel.confidence_coef``) on the casebook's DEV half and a
simulated sample, so that a confidence means the same on evidence unlike the simulator's.

The learned calibration map was fitted on simulated bundles only; on field evidence it said 0.85-1.0 for wrong
answers. This fits a small logistic map over ``CONFIDENCE_FEATURES`` (the calibrated confidence's logit, whether a
decisive finding supports the answer or a rival, the margin, direct support) on:
- every dev case of the field casebook (never the test half), and
- simulated bundles (``--sim DIR``, e.g. a ``sherlog simulate dataset`` folder; its ``test`` split when present),
  weighted to ``--sim-weight`` of the dev cases in all (field evidence is what the map is for).
It prints out-of-fold ECE on the dev cases before and after, and with ``--write`` stores the map in the shipped
model file. ``python -m bench.casebook`` then reports the test half.

    .venv/bin/python -m bench.casebook.calibrate [--sim DIR] [--limit-sim 200] [--c 1.0] [--sim-weight 0.3] [--write]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

import numpy as np


def _rows(bundles: list[Path], pipeline: object) -> tuple[list[dict[str, float]], list[int]]:
    from bot.pipeline.bundle import load_bundle

    feats: list[dict[str, float]] = []
    hits: list[int] = []
    for path in bundles:
        context, report = load_bundle(path)
        if report.truth is None:
            continue
        analysis = pipeline.analyze_context(context)  # type: ignore[attr-defined]
        top = analysis.top
        if top is None:
            continue
        feats.append({k[5:]: float(v) for k, v in top.features.items() if k.startswith("conf:")})
        hits.append(int((top.service, top.kind) == (report.truth.root_cause_service, report.truth.root_cause_kind)))
    return feats, hits


def _ece(conf: np.ndarray, hits: np.ndarray) -> float:
    from bot.pipeline.evaluation import expected_calibration_error

    return float(expected_calibration_error([float(c) for c in conf], [bool(h) for h in hits]))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.casebook.calibrate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sim", type=Path, default=None, help="simulated bundles (a dataset folder)")
    parser.add_argument("--limit-sim", type=int, default=200)
    parser.add_argument("--c", type=float, default=1.0, help="inverse L2 strength of the logistic map")
    parser.add_argument("--sim-weight", type=float, default=0.3,
                        help="total weight of the simulated cases relative to the dev cases (default 0.3)")
    parser.add_argument("--write", action="store_true", help="store the map in bot/reasoning/default_model.json")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    from bench.casebook import CASES_DIR, select_cases
    from bot.pipeline import Pipeline
    from bot.pipeline.evaluation import find_bundles
    from bot.reasoning.scorer import CONFIDENCE_FEATURES, DEFAULT_MODEL_PATH, default_model
    from config.settings import load_settings

    model = default_model()
    model.confidence_coef = {}  # features are computed the same way; the map itself is what is fitted
    model.kind_confidence_coef = {}
    data = Path(tempfile.mkdtemp(prefix="sherlog-calibrate-"))
    pipeline = Pipeline(settings=load_settings(data_dir=data / ".sherlog", retrieval={"backend": "memory"}),
                        ranker_model=model)
    dev = select_cases(CASES_DIR, split="dev")
    dev_x, dev_y = _rows(dev, pipeline)
    sim_x: list[dict[str, float]] = []
    sim_y: list[int] = []
    if args.sim is not None:
        root = args.sim / "test" if (args.sim / "test").is_dir() else args.sim
        sim_x, sim_y = _rows(find_bundles(root)[: args.limit_sim], pipeline)

    def matrix(rows: list[dict[str, float]]) -> np.ndarray:
        return np.array([[r.get(f, 0.0) for f in CONFIDENCE_FEATURES] for r in rows], dtype=float)

    xd, yd = matrix(dev_x), np.array(dev_y)
    xs, ys = matrix(sim_x), np.array(sim_y)
    ws = args.sim_weight * len(xd) / max(1, len(xs))
    before = np.array([r.get("calibrated", 0.0) for r in dev_x])
    oof = np.zeros(len(xd))
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    for tr, te in folds.split(xd, yd):
        x = np.vstack([xd[tr], xs]) if len(xs) else xd[tr]
        y = np.concatenate([yd[tr], ys]) if len(xs) else yd[tr]
        w = np.concatenate([np.ones(len(tr)), np.full(len(xs), ws)]) if len(xs) else np.ones(len(tr))
        fit = LogisticRegression(C=args.c, max_iter=2000).fit(x, y, sample_weight=w)
        oof[te] = fit.predict_proba(xd[te])[:, 1]
    x = np.vstack([xd, xs]) if len(xs) else xd
    y = np.concatenate([yd, ys]) if len(xs) else yd
    w = np.concatenate([np.ones(len(xd)), np.full(len(xs), ws)]) if len(xs) else np.ones(len(xd))
    final = LogisticRegression(C=args.c, max_iter=2000).fit(x, y, sample_weight=w)
    coef = {f: round(float(c), 4) for f, c in zip(CONFIDENCE_FEATURES, final.coef_[0], strict=True)}
    print(f"dev cases {len(xd)} (right first {int(yd.sum())}), simulated {len(xs)} (right first {int(ys.sum())})")
    print(f"dev ECE with the calibration map alone {_ece(before, yd):.3f}; out-of-fold with the fitted map "
          f"{_ece(oof, yd):.3f}; wrong above 0.5: {int(((before > 0.5) & (yd == 0)).sum())} -> "
          f"{int(((oof > 0.5) & (yd == 0)).sum())}")
    if len(xs):
        sim_before = np.array([r.get("calibrated", 0.0) for r in sim_x])
        print(f"simulated ECE {_ece(sim_before, ys):.3f} -> {_ece(final.predict_proba(xs)[:, 1], ys):.3f} (in-sample)")
    print("coefficients:", coef, "intercept", round(float(final.intercept_[0]), 4))
    if args.write:
        stored = json.loads(DEFAULT_MODEL_PATH.read_text(encoding="utf-8"))
        stored["confidence"] = {"coef": coef, "intercept": round(float(final.intercept_[0]), 4),
                                "fitted_on": f"casebook dev ({len(xd)}) + simulated ({len(xs)})"}
        DEFAULT_MODEL_PATH.write_text(json.dumps(stored, indent=1), encoding="utf-8")
        print(f"written to {DEFAULT_MODEL_PATH}")
    print(json.dumps({"dev_cases": len(xd), "sim_cases": len(xs), "dev_ece_before": round(_ece(before, yd), 4),
                      "dev_ece_oof": round(_ece(oof, yd), 4)}))


if __name__ == "__main__":
    main()

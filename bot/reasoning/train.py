"""Train the ranker's weights and calibration from labelled bundles.

    .venv/bin/python -m bot.reasoning.train --data DIR [--out bot/reasoning/default_model.json]

DIR holds evidence bundles with ``truth.json`` (``DIR/train`` is used when it exists, as written by
``bot.simulation.generate_dataset``). Every (service, kind) candidate of every bundle is a row labelled
1 when it is the true root cause. Gradient-boosted trees (or, with ``--learner linear``, a logistic
regression) learn the scores; out-of-fold top-1
confidences (cross-validation grouped by the true service and kind, so that calibration reflects
situations not seen in training) fit an isotonic calibration map. Every case is also learned without
its similar incidents and runbook matches (``without_history``), as a fresh install or a team with no
indexed history sees it, so the model does not lean on retrieval being there.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold

from bot.reasoning.dataset import LabelledCase, load_cases
from bot.reasoning.features import FEATURES, build_candidates
from bot.reasoning.ranker import rank
from bot.reasoning.scorer import DEFAULT_MODEL_PATH, RankerModel

log = logging.getLogger(__name__)


@dataclass
class CaseRows:
    name: str
    x: np.ndarray  # candidates x features
    y: np.ndarray  # 1 for the true (service, kind)
    truth_present: bool


def case_rows(case: LabelledCase, features: Sequence[str] = FEATURES) -> CaseRows:
    cands = build_candidates(context=case.context, signals=case.signals, similar=case.similar,
                             runbooks=case.runbooks)
    truth = (case.truth.root_cause_service, case.truth.root_cause_kind)
    x = np.array([[c.features.get(f, 0.0) for f in features] for c in cands], dtype=float).reshape(-1, len(features))
    y = np.array([1 if (c.service, c.kind) == truth else 0 for c in cands], dtype=int)
    return CaseRows(case.name, x, y, bool(y.sum()))


def _fit(rows: list[CaseRows], c: float, learner: str) -> RankerModel:
    x = np.vstack([r.x for r in rows if len(r.x)])
    y = np.concatenate([r.y for r in rows if len(r.y)])
    if learner == "linear":
        lr = LogisticRegression(C=c, max_iter=5000).fit(x, y)
        return RankerModel(features=list(FEATURES), coef=[float(v) for v in lr.coef_[0]],
                           intercept=float(lr.intercept_[0]))
    booster = HistGradientBoostingClassifier(max_iter=200, learning_rate=0.05, max_leaf_nodes=15,
                                             l2_regularization=1.0, early_stopping=False,
                                             random_state=0).fit(x, y)
    return RankerModel(features=list(FEATURES), coef=[0.0] * len(FEATURES), intercept=0.0, booster=booster,
                       booster_features=list(FEATURES))


def _top_confidence(model: RankerModel, r: CaseRows) -> tuple[float, int]:
    if not len(r.x):
        return 0.0, 0
    rows = [dict(zip(model.features, map(float, row), strict=True)) for row in r.x]
    conf = model.confidences(rows)
    i = int(np.argmax(conf))
    return float(conf[i]), int(r.y[i])


def fit_model(cases: list[LabelledCase], *, c: float = 1.0, folds: int = 5, learner: str = "boosted",
              without_history: bool = True) -> RankerModel:
    """Weights (gradient-boosted trees, or ``learner="linear"`` logistic regression) and calibration."""
    bundles = len(cases)
    if without_history:
        cases = list(cases) + [dataclasses.replace(case, similar=[], runbooks=[])
                               for case in cases if case.similar or case.runbooks]
    rows = [case_rows(case) for case in cases]
    model = _fit(rows, c, learner)
    # out-of-fold top-1 confidences for the calibration map
    raw: list[float] = []
    hits: list[int] = []
    idx = np.arange(len(rows))
    # group by true (service, kind) so the out-of-fold confidences are those of unseen situations
    groups = [f"{case.truth.root_cause_service}/{case.truth.root_cause_kind}" for case in cases]
    n_folds = max(2, min(folds, len(set(groups))))
    for tr, te in GroupKFold(n_splits=n_folds).split(idx, groups=groups):
        fold_model = _fit([rows[i] for i in tr], c, learner)
        for i in te:
            conf, hit = _top_confidence(fold_model, rows[i])
            raw.append(conf)
            hits.append(hit)
    iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip", increasing=True)
    iso.fit(np.array(raw), np.array(hits, dtype=float))
    model.calibration_x = [round(float(v), 6) for v in iso.X_thresholds_]
    model.calibration_y = [round(float(v), 6) for v in iso.y_thresholds_]
    model.meta = {
        "source": "trained",
        "cases": len(rows),
        "bundles": bundles,
        "positives_in_candidates": int(sum(r.truth_present for r in rows)),
        "c": c,
        "learner": learner,
        "without_history_copies": without_history,
    }
    return model


def expected_calibration_error(confidences: Sequence[float], hits: Sequence[int], bins: int = 10) -> float:
    conf = np.asarray(confidences, dtype=float)
    hit = np.asarray(hits, dtype=float)
    if conf.size == 0:
        return 0.0
    edges = np.linspace(0.0, 1.0, bins + 1)
    total = 0.0
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        mask = (conf > lo) & (conf <= hi) if lo > 0 else (conf >= lo) & (conf <= hi)
        if mask.any():
            total += mask.sum() / conf.size * abs(conf[mask].mean() - hit[mask].mean())
    return float(total)


def evaluate(cases: list[LabelledCase], model: RankerModel | None) -> dict[str, float]:
    """AC@1, AC@3, AC@5, category accuracy, ECE of the top confidence, abstention figures."""
    from bot.reasoning.categorize import categorize

    ac1 = ac3 = ac5 = cat_ok = 0
    confs: list[float] = []
    hits: list[int] = []
    abstained = abstained_wrong = 0
    for case in cases:
        result = rank(context=case.context, signals=case.signals, similar=case.similar, runbooks=case.runbooks,
                      model=model)
        keys = [(h.service, h.kind) for h in result.hypotheses]
        truth = (case.truth.root_cause_service, case.truth.root_cause_kind)
        hit = int(keys[:1] == [truth])
        ac1 += hit
        ac3 += int(truth in keys[:3])
        ac5 += int(truth in keys[:5])
        category = categorize(context=case.context, signals=case.signals, hypotheses=result.hypotheses)
        cat_ok += int(category.label == case.truth.category)
        confs.append(result.hypotheses[0].confidence if result.hypotheses else 0.0)
        hits.append(hit)
        if not result.enough_evidence:
            abstained += 1
            abstained_wrong += int(not hit)
    n = max(1, len(cases))
    return {
        "n": len(cases),
        "ac1": round(ac1 / n, 4),
        "ac3": round(ac3 / n, 4),
        "ac5": round(ac5 / n, 4),
        "category_accuracy": round(cat_ok / n, 4),
        "ece": round(expected_calibration_error(confs, hits), 4),
        "mean_confidence": round(float(np.mean(confs)) if confs else 0.0, 4),
        "not_enough_evidence": round(abstained / n, 4),
        "abstained_were_wrong": round(abstained_wrong / abstained, 4) if abstained else 0.0,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Train the ranker's weights and calibration")
    parser.add_argument("--data", type=Path, required=True, help="folder of bundles with truth.json")
    parser.add_argument("--out", type=Path, default=DEFAULT_MODEL_PATH)
    parser.add_argument("--c", type=float, default=1.0, help="inverse L2 regularisation strength")
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--learner", choices=("boosted", "linear"), default="boosted")
    args = parser.parse_args(argv)
    root = args.data / "train" if (args.data / "train").is_dir() else args.data
    cases = load_cases(root, limit=args.limit)
    if len(cases) < 10:
        raise SystemExit(f"need at least 10 labelled bundles under {root}, found {len(cases)}")
    model = fit_model(cases, c=args.c, learner=args.learner)
    model.meta["data"] = str(args.data)
    model.save(args.out)
    figures = evaluate(cases, model)
    print(f"trained on {len(cases)} bundles -> {args.out}")
    print("training-set figures (optimistic; see bench/rca.py for held-out ones):", figures)
    if model.booster is None:
        for name, weight in sorted(zip(model.features, model.coef, strict=True), key=lambda kv: -abs(kv[1])):
            print(f"  {name:<22}{weight:+.3f}")


if __name__ == "__main__":
    main()

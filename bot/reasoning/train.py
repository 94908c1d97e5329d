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

``--extra DIR`` (repeatable) also learns from other labelled bundles, such as the field casebook's
(bench/casebook/cases): every candidate row of those weighs ``--extra-weight`` times a simulated one. Where
bundles carry a ``split`` in truth.json (the casebook), only the ``dev`` ones are used: the test half is never
learned from, and naming one test case as DIR is an error. The calibration map stays fitted on the simulated
bundles only (out of fold; each fold's model learns the extra bundles too), so extra bundles the rules were
tuned on cannot make it believe the model is right more often than on evidence it never saw.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold

from bot.domain import InputError
from bot.reasoning.dataset import LabelledCase, bundle_dirs, bundle_split, load_bundles, load_cases
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
    weight: float = 1.0  # of each of its rows in the fit


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
    w = np.concatenate([np.full(len(r.y), r.weight) for r in rows if len(r.y)])
    if learner == "linear":
        lr = LogisticRegression(C=c, max_iter=5000).fit(x, y, sample_weight=w)
        return RankerModel(features=list(FEATURES), coef=[float(v) for v in lr.coef_[0]],
                           intercept=float(lr.intercept_[0]))
    booster = HistGradientBoostingClassifier(max_iter=200, learning_rate=0.05, max_leaf_nodes=15,
                                             l2_regularization=1.0, early_stopping=False,
                                             random_state=0).fit(x, y, sample_weight=w)
    return RankerModel(features=list(FEATURES), coef=[0.0] * len(FEATURES), intercept=0.0, booster=booster,
                       booster_features=list(FEATURES))


def _top_confidence(model: RankerModel, r: CaseRows) -> tuple[float, int]:
    if not len(r.x):
        return 0.0, 0
    rows = [dict(zip(model.features, map(float, row), strict=True)) for row in r.x]
    conf = model.confidences(rows)
    i = int(np.argmax(conf))
    return float(conf[i]), int(r.y[i])


def _with_history_copies(cases: Sequence[LabelledCase]) -> list[LabelledCase]:
    return list(cases) + [dataclasses.replace(case, similar=[], runbooks=[])
                          for case in cases if case.similar or case.runbooks]


def fit_model(cases: list[LabelledCase], *, c: float = 1.0, folds: int = 5, learner: str = "boosted",
              without_history: bool = True, extra: Sequence[LabelledCase] = (),
              extra_weight: float = 1.0) -> RankerModel:
    """Weights (gradient-boosted trees, or ``learner="linear"`` logistic regression) and calibration.

    ``extra`` cases are learned too, each row weighing ``extra_weight``; the calibration map is fitted on the
    out-of-fold confidences of ``cases`` alone (every fold's model learns all of ``extra``)."""
    if not extra_weight > 0.0 or not math.isfinite(extra_weight):
        raise InputError(f"the extra bundles' weight must be a positive number, not {extra_weight}")
    bundles = len(cases)
    if without_history:
        cases = _with_history_copies(cases)
        extra = _with_history_copies(extra)
    rows = [case_rows(case) for case in cases]
    extra_rows = [dataclasses.replace(case_rows(case), weight=float(extra_weight)) for case in extra]
    model = _fit(rows + extra_rows, c, learner)
    # out-of-fold top-1 confidences for the calibration map
    raw: list[float] = []
    hits: list[int] = []
    idx = np.arange(len(rows))
    # group by true (service, kind) so the out-of-fold confidences are those of unseen situations
    groups = [f"{case.truth.root_cause_service}/{case.truth.root_cause_kind}" for case in cases]
    n_folds = max(2, min(folds, len(set(groups))))
    for tr, te in GroupKFold(n_splits=n_folds).split(idx, groups=groups):
        fold_model = _fit([rows[i] for i in tr] + extra_rows, c, learner)
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
    if extra:
        model.meta.update({"extra_cases": len(extra_rows), "extra_bundles": len({case.name for case in extra}),
                           "extra_weight": float(extra_weight)})
    return model


def extra_bundles(folder: Path) -> tuple[list[Path], int]:
    """The labelled bundles under ``folder`` to learn from, and how many test cases were left out.

    Every bundle with a truth.json is taken, except where bundles name a ``split`` (the field casebook): then
    only the ``dev`` ones. ``InputError`` when ``folder`` is no folder, holds no labelled bundle, holds no dev
    one although it is split, or is itself one test case."""
    if not folder.is_dir():
        raise InputError(f"extra bundles: {folder} is not a folder")
    labelled = [b for b in bundle_dirs(folder) if (b / "truth.json").is_file()]
    if not labelled:
        raise InputError(f"extra bundles: no labelled bundle (alert.json with truth.json) under {folder}")
    splits = {b: bundle_split(b) for b in labelled}
    if (folder / "alert.json").is_file() and splits.get(folder) == "test":
        raise InputError(f"extra bundles: {folder} is a test case; the test half is never learned from")
    if not any(splits.values()):
        return labelled, 0
    dev = [b for b in labelled if splits[b] == "dev"]
    if not dev:
        raise InputError(f"extra bundles: {folder} names splits but holds no dev case to learn from")
    return dev, sum(1 for b in labelled if splits[b] == "test")


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
    parser.add_argument("--extra", type=Path, action="append", default=[], metavar="DIR",
                        help="also learn from the labelled bundles under DIR (repeatable; of a split folder such "
                             "as bench/casebook/cases only the dev cases)")
    parser.add_argument("--extra-weight", type=float, default=1.0,
                        help="weight of an extra bundle's rows against a simulated one's (default 1)")
    args = parser.parse_args(argv)
    root = args.data / "train" if (args.data / "train").is_dir() else args.data
    try:
        chosen: list[Path] = []
        for folder in args.extra:
            paths, left_out = extra_bundles(folder)
            print(f"extra bundles: {len(paths)} from {folder}" + (f" ({left_out} test cases left out)" if left_out
                                                                  else ""))
            chosen.extend(paths)
        if chosen and not (args.extra_weight > 0.0 and math.isfinite(args.extra_weight)):
            raise InputError(f"--extra-weight must be a positive number, not {args.extra_weight}")
    except InputError as e:
        raise SystemExit(f"error: {e}") from e
    cases = load_cases(root, limit=args.limit)
    if len(cases) < 10:
        raise SystemExit(f"need at least 10 labelled bundles under {root}, found {len(cases)}")
    # cached next to the simulated bundles' own cache, never inside the extra folders (the casebook is in the repo)
    extra = load_bundles(chosen, cache=root / ".reasoning-cache-extra.jsonl") if chosen else []
    model = fit_model(cases, c=args.c, learner=args.learner, extra=extra, extra_weight=args.extra_weight)
    model.meta["data"] = str(args.data)
    if args.extra:
        model.meta["extra_data"] = [str(folder) for folder in args.extra]
    model.save(args.out)
    figures = evaluate(cases, model)
    print(f"trained on {len(cases)} bundles -> {args.out}")
    print("training-set figures (optimistic; see bench/rca.py for held-out ones):", figures)
    if extra:
        print("extra bundles' figures (learned from, so optimistic too):", evaluate(extra, model))
    if model.booster is None:
        for name, weight in sorted(zip(model.features, model.coef, strict=True), key=lambda kv: -abs(kv[1])):
            print(f"  {name:<22}{weight:+.3f}")


if __name__ == "__main__":
    main()

"""Confidence from first contact: how often Sherlog's first answer is right on evidence it was never tuned on.

Rules and reasoning are tuned on the casebook's dev half, so on dev cases the shipped confidence looks
calibrated while on unseen evidence (the test half, the held-out sets) the same confidence is right far less
often. The honest data for a confidence map are answers given at *first contact*: cases analysed by a checkout
made before anybody tuned on them. Two steps:

    # 1. in a checkout of the commit before the cases were tuned on (for example `git worktree add`), over
    #    DEV cases only: record each case's top answer, whether it was right, and its confidence inputs
    python -m bench.casebook.first_contact record --cases DIR --out bench/casebook/first_contact.json
    # 2. in this checkout: fit the two-parameter map (slope on the calibrated confidence's logit, intercept),
    #    print leave-one-out figures, and with --write store it in bot/reasoning/default_model.json
    python -m bench.casebook.first_contact fit bench/casebook/first_contact.json [--write]

The map is deliberately small (two numbers, pulled towards "no change" by an L2 prior): thirty cases can say
"answers are right less often than they claim", not much more. The last stdout line is JSON.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

PRIOR_STRENGTH = 3.0  # L2 pull of (slope, intercept) towards (1, 0): the identity map


def _logit(value: float) -> float:
    clipped = min(0.99, max(0.01, float(value)))
    return math.log(clipped / (1.0 - clipped))


def record(cases: Path, out: Path) -> dict[str, Any]:
    from bot.pipeline import Pipeline
    from bot.pipeline.bundle import load_bundle
    from config.settings import load_settings

    data = Path(tempfile.mkdtemp(prefix="sherlog-first-contact-"))
    pipeline = Pipeline(settings=load_settings(data_dir=data / ".sherlog", retrieval={"backend": "memory"}))
    rows: list[dict[str, Any]] = []
    for path in sorted(p for p in cases.iterdir() if p.is_dir()):
        context, report = load_bundle(path)
        if report.truth is None:
            continue
        if getattr(report.truth, "split", None) not in (None, "dev"):
            raise SystemExit(f"{path.name} is not a dev case: first-contact data come from the dev half only")
        top = pipeline.analyze_context(context).top
        rows.append({
            "case": path.name,
            "hit": bool(top is not None and (top.service, top.kind)
                        == (report.truth.root_cause_service, report.truth.root_cause_kind)),
            "confidence": round(float(top.confidence), 6) if top else 0.0,
            "calibrated": round(float(top.features.get("conf:calibrated", top.confidence)), 6) if top else 0.0,
        })
    out.write_text(json.dumps({"rows": rows}, indent=1) + "\n", encoding="utf-8")
    return {"cases": len(rows), "right_first": sum(r["hit"] for r in rows)}


def _fit(z: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Slope and intercept of sigmoid(a*z + b) by Newton steps on the penalised log-likelihood."""
    a, b = 1.0, 0.0
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-(a * z + b)))
        w = p * (1.0 - p)
        grad = np.array([np.sum((p - y) * z) + 2 * PRIOR_STRENGTH * (a - 1.0),
                         np.sum(p - y) + 2 * PRIOR_STRENGTH * b])
        hess = np.array([[np.sum(w * z * z) + 2 * PRIOR_STRENGTH, np.sum(w * z)],
                         [np.sum(w * z), np.sum(w) + 2 * PRIOR_STRENGTH]])
        step = np.linalg.solve(hess, grad)
        a, b = a - float(step[0]), b - float(step[1])
        if float(np.abs(step).max()) < 1e-9:
            break
    return a, b


def fit(path: Path, *, write: bool) -> dict[str, Any]:
    from bot.pipeline.evaluation import expected_calibration_error
    from bot.reasoning.scorer import DEFAULT_MODEL_PATH

    rows = json.loads(path.read_text(encoding="utf-8"))["rows"]
    z = np.array([_logit(r["calibrated"]) for r in rows])
    y = np.array([1.0 if r["hit"] else 0.0 for r in rows])
    a, b = _fit(z, y)
    loo = []
    for i in range(len(rows)):
        keep = np.arange(len(rows)) != i
        ai, bi = _fit(z[keep], y[keep])
        loo.append(1.0 / (1.0 + math.exp(-(ai * z[i] + bi))))
    raw = [float(r["calibrated"]) for r in rows]
    hits = [bool(h) for h in y]
    figures = {
        "cases": len(rows), "right_first": int(y.sum()), "slope": round(a, 4), "intercept": round(b, 4),
        "ece_before": round(expected_calibration_error(raw, hits), 4),
        "ece_loo": round(expected_calibration_error(loo, hits), 4),
        "wrong_above_half_before": sum(1 for c, h in zip(raw, hits, strict=True) if c > 0.5 and not h),
        "wrong_above_half_loo": sum(1 for c, h in zip(loo, hits, strict=True) if c > 0.5 and not h),
    }
    print(f"first-contact cases {len(rows)} (right first {int(y.sum())}); map sigmoid({a:.3f} * logit(c) + {b:.3f})")
    print(f"ECE {figures['ece_before']:.3f} -> {figures['ece_loo']:.3f} (leave one out); wrong above 0.5: "
          f"{figures['wrong_above_half_before']} -> {figures['wrong_above_half_loo']}")
    if write:
        stored = json.loads(DEFAULT_MODEL_PATH.read_text(encoding="utf-8"))
        stored["confidence"] = {"coef": {"z_calibrated": round(a, 4)}, "intercept": round(b, 4),
                                "fitted_on": f"first contact with {len(rows)} casebook dev cases ({path.name})"}
        DEFAULT_MODEL_PATH.write_text(json.dumps(stored, indent=1), encoding="utf-8")
        print(f"written to {DEFAULT_MODEL_PATH}")
    return figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.casebook.first_contact", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    rec = sub.add_parser("record", help="analyse dev cases with this checkout and store the first answers")
    rec.add_argument("--cases", type=Path, required=True, help="a folder of dev case bundles")
    rec.add_argument("--out", type=Path, required=True)
    fit_p = sub.add_parser("fit", help="fit the confidence map on recorded first answers")
    fit_p.add_argument("rows", type=Path)
    fit_p.add_argument("--write", action="store_true", help="store the map in bot/reasoning/default_model.json")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    result = record(args.cases, args.out) if args.command == "record" else fit(args.rows, write=args.write)
    print(json.dumps(result))


if __name__ == "__main__":
    main()

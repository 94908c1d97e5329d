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


def _checkout() -> str:
    """The commit this code is at (what 'first contact' was made with), or "unknown" outside git."""
    import subprocess

    try:
        done = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).resolve().parent,
                              capture_output=True, text=True, timeout=10, check=True)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return done.stdout.strip() or "unknown"


def record(cases: Path, out: Path) -> dict[str, Any]:
    from bench.casebook import read_case_labels
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
        if read_case_labels(path)[0] not in ("", "dev"):  # the truth model does not carry the split
            raise SystemExit(f"{path.name} is not a dev case: first-contact data come from the dev half only")
        top = pipeline.analyze_context(context).top
        rows.append({
            "case": path.name,
            "hit": bool(top is not None and (top.service, top.kind)
                        == (report.truth.root_cause_service, report.truth.root_cause_kind)),
            "confidence": round(float(top.confidence), 6) if top else 0.0,
            "calibrated": round(float(top.features.get("conf:calibrated", top.confidence)), 6) if top else 0.0,
            # everything the answer rested on, so that later maps can be fitted on more than the confidence
            "features": {k: round(float(v), 6) for k, v in sorted(top.features.items()) if v} if top else {},
            "evidence_types": sorted({e.type.value for e in top.evidence}) if top else [],
        })
    out.write_text(json.dumps({"checkout": _checkout(), "rows": rows}, indent=1) + "\n", encoding="utf-8")
    return {"cases": len(rows), "right_first": sum(r["hit"] for r in rows)}


# The inputs a map may use (names of ``confidence_inputs`` in bot/reasoning/ranker.py) and where a recorded row
# keeps them. ``z_calibrated`` comes from the row's calibrated confidence; the rest from its ``conf:*`` features.
# On 57 first-contact rows neither a decisive finding of the answer's own (decisive_top), decisive_rival, margin nor a change on the
# answered service lowered the leave-one-out log-loss below the calibrated logit alone: the default is that.
MAP_FEATURES: tuple[str, ...] = ("z_calibrated",)
# the prior's centre: the identity on the calibrated logit, nothing from the other inputs
_PRIOR_CENTRE = {"z_calibrated": 1.0}


def row_inputs(row: dict[str, Any], names: tuple[str, ...] = MAP_FEATURES) -> list[float]:
    """One recorded answer's map inputs, in ``names`` order."""
    feats = row.get("features")
    out: list[float] = []
    for name in names:
        if name == "z_calibrated":
            out.append(_logit(row["calibrated"]))
            continue
        if feats is None:
            raise SystemExit(f"{row.get('case')}: recorded without features; record it again to fit on {name!r}")
        out.append(float(feats.get(f"conf:{name}", 0.0)))
    return out


def _fit_map(x: np.ndarray, y: np.ndarray, names: tuple[str, ...] = MAP_FEATURES) -> tuple[np.ndarray, float]:
    """Weights and intercept of sigmoid(x @ w + b) by Newton steps on the log-likelihood with an L2 pull of every
    weight towards the identity map (1 on the calibrated logit, 0 elsewhere) and of the intercept towards 0."""
    k = x.shape[1]
    centre = np.array([_PRIOR_CENTRE.get(n, 0.0) for n in names] + [0.0])
    xb = np.hstack([x, np.ones((x.shape[0], 1))])

    def loss(t: np.ndarray) -> float:
        z = xb @ t
        return float(np.sum(np.logaddexp(0.0, z) - y * z) + PRIOR_STRENGTH * np.sum((t - centre) ** 2))

    theta = centre.copy()
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-(xb @ theta)))
        grad = xb.T @ (p - y) + 2 * PRIOR_STRENGTH * (theta - centre)
        hess = (xb * (p * (1.0 - p))[:, None]).T @ xb + 2 * PRIOR_STRENGTH * np.eye(k + 1)
        step = np.linalg.solve(hess, grad)
        # damped: many rows at the same clipped logit make full Newton steps overshoot and diverge
        scale, before = 1.0, loss(theta)
        while scale > 1e-6 and loss(theta - scale * step) > before:
            scale /= 2
        theta = theta - scale * step
        if float(np.abs(scale * step).max()) < 1e-9:
            break
    return theta[:k], float(theta[k])


def _fit(z: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """The one-input map sigmoid(a*z + b) on the calibrated logit alone."""
    w, b = _fit_map(z.reshape(-1, 1), y, ("z_calibrated",))
    return float(w[0]), b


def load_rows(paths: list[Path]) -> list[dict[str, Any]]:
    """Rows of every file; a case recorded twice is an error (one first contact per case)."""
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    for path in paths:
        for row in json.loads(path.read_text(encoding="utf-8"))["rows"]:
            if row["case"] in seen:
                raise SystemExit(f"{row['case']} is recorded twice")
            seen.add(row["case"])
            rows.append(row)
    return rows


def fit(paths: Path | list[Path], *, write: bool, names: tuple[str, ...] = MAP_FEATURES) -> dict[str, Any]:
    from bot.pipeline.evaluation import expected_calibration_error
    from bot.reasoning.scorer import CONFIDENCE_FEATURES, DEFAULT_MODEL_PATH

    unknown = [n for n in names if n not in CONFIDENCE_FEATURES]
    if unknown:  # the shipped map can only use what an analysis computes (confidence_inputs)
        raise SystemExit(f"unknown map input(s) {', '.join(unknown)}; choose from {', '.join(CONFIDENCE_FEATURES)}")
    files = [paths] if isinstance(paths, Path) else list(paths)
    rows = load_rows(files)
    x = np.array([row_inputs(r, names) for r in rows])
    y = np.array([1.0 if r["hit"] else 0.0 for r in rows])
    w, b = _fit_map(x, y, names)
    loo = []
    for i in range(len(rows)):
        keep = np.arange(len(rows)) != i
        wi, bi = _fit_map(x[keep], y[keep], names)
        loo.append(1.0 / (1.0 + math.exp(-(float(x[i] @ wi) + bi))))
    raw = [float(r["calibrated"]) for r in rows]
    hits = [bool(h) for h in y]
    coef = {n: round(float(v), 4) for n, v in zip(names, w, strict=True)}
    figures = {
        "cases": len(rows), "right_first": int(y.sum()), "coef": coef, "intercept": round(b, 4),
        "ece_before": round(expected_calibration_error(raw, hits), 4),
        "ece_loo": round(expected_calibration_error(loo, hits), 4),
        "wrong_above_half_before": sum(1 for c, h in zip(raw, hits, strict=True) if c > 0.5 and not h),
        "wrong_above_half_loo": sum(1 for c, h in zip(loo, hits, strict=True) if c > 0.5 and not h),
    }
    if coef.keys() == {"z_calibrated"}:
        figures.update(slope=coef["z_calibrated"], intercept=round(b, 4))
    terms = " + ".join(f"{v:.3f} * {n}" for n, v in coef.items())
    print(f"first-contact cases {len(rows)} (right first {int(y.sum())}); map sigmoid({terms} + {b:.3f})")
    print(f"ECE {figures['ece_before']:.3f} -> {figures['ece_loo']:.3f} (leave one out); wrong above 0.5: "
          f"{figures['wrong_above_half_before']} -> {figures['wrong_above_half_loo']}")
    if write:
        stored = json.loads(DEFAULT_MODEL_PATH.read_text(encoding="utf-8"))
        stored["confidence"] = {"coef": coef, "intercept": round(b, 4),
                                "fitted_on": f"first contact with {len(rows)} casebook dev cases "
                                             f"({', '.join(p.name for p in files)})"}
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
    fit_p.add_argument("rows", type=Path, nargs="+", help="recorded rows (several files: one per batch of cases)")
    fit_p.add_argument("--features", default=",".join(MAP_FEATURES),
                       help=f"map inputs, comma-separated (default {','.join(MAP_FEATURES)})")
    fit_p.add_argument("--write", action="store_true", help="store the map in bot/reasoning/default_model.json")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    result = record(args.cases, args.out) if args.command == "record" else fit(
        args.rows, write=args.write, names=tuple(n.strip() for n in args.features.split(",") if n.strip()))
    print(json.dumps(result))


if __name__ == "__main__":
    main()

"""Confidence from first contact: how often Sherlog's first answer is right on evidence it was never tuned on.

Rules and reasoning are tuned on the casebook's dev half, so on dev cases the shipped confidence looks
calibrated while on unseen evidence (the test half, the held-out sets) the same confidence is right far less
often. The honest data for a confidence map are answers given at *first contact*: cases analysed by a checkout
made before anybody tuned on them. Two steps:

    # 1. in a checkout of the commit before the cases were tuned on (for example `git worktree add`), over
    #    DEV cases only: record each case's top answer, whether it was right, and its confidence inputs
    python -m bench.casebook.first_contact record --cases DIR --out bench/casebook/first_contact.json
    # 2. in this checkout: fit the map, print leave-one-out figures (ECE, wrong answers above 0.5, Brier), and
    #    with --write store it in bot/reasoning/default_model.json
    python -m bench.casebook.first_contact fit bench/casebook/first_contact*.json [--write]

The map is the product of two small logistic maps: P(the first answer's service is right), fitted on every
row (label: ``service_hit``), and P(its kind is right | the service is right), fitted on the rows whose service
was right (label: ``hit``). The origin evidence lifts every kind on a service alike, so one number for the pair
mixes "which component" with "how it failed"; the second factor says how far the kind is to be trusted once the
component is (a change of that component just before the onset competes with any other kind). Each map has
its inputs and an intercept, pulled by an L2 prior towards the identity on the calibrated logit (service part)
and towards "no information" (kind part): some eighty cases can say little more. ``--kind-features ''`` fits
the one map for the pair (the earlier default). The last stdout line is JSON.
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
            "service_hit": bool(top is not None and top.service == report.truth.root_cause_service),
            "answer": [top.service, top.kind] if top else None,
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
# answered service lowered the leave-one-out log-loss of one map for the pair below the calibrated logit alone:
# the service part is that. The kind part (FIRST_CONTACT_STUDY.md, "Confidence in two parts"): the calibrated
# logit and a change competing on the answered service (on 85 rows, 3 of 14 answers with one were right).
# On 135 rows (FIRST_CONTACT_STUDY.md, "What the answer rests on"): both parts also weigh the calibrated logit of an
# answer resting on Kubernetes evidence (``z_kubernetes``), and the kind part drops the plain logit: an answer read
# from free text is right about half the time however sure the ranking is, one resting on the cluster's reported
# state almost always when the ranking is sure.
MAP_FEATURES: tuple[str, ...] = ("z_calibrated", "z_kubernetes")
KIND_FEATURES: tuple[str, ...] = ("change_competes", "z_kubernetes")
# the prior's centre: the identity on the calibrated logit, nothing from the other inputs (service part, or one map)
_PRIOR_CENTRE = {"z_calibrated": 1.0}
# an input recorded before it was a confidence input, under the candidate feature it is computed from
_RECORDED_AS = {"change_competes": "change_on_service"}


def row_inputs(row: dict[str, Any], names: tuple[str, ...] = MAP_FEATURES) -> list[float]:
    """One recorded answer's map inputs, in ``names`` order."""
    feats = row.get("features")
    out: list[float] = []
    for name in names:
        if name == "z_calibrated":
            out.append(_logit(row["calibrated"]))
            continue
        if name == "z_kubernetes" and (feats is None or "conf:z_kubernetes" not in feats):
            # recorded before it was an input: the same thing from what the answer showed as its evidence
            out.append(_logit(row["calibrated"]) if "kubernetes" in (row.get("evidence_types") or []) else 0.0)
            continue
        if feats is None:
            raise SystemExit(f"{row.get('case')}: recorded without features; record it again to fit on {name!r}")
        key = f"conf:{name}" if f"conf:{name}" in feats or name not in _RECORDED_AS else _RECORDED_AS[name]
        out.append(float(feats.get(key, 0.0)))
    return out


def _fit_map(x: np.ndarray, y: np.ndarray, names: tuple[str, ...] = MAP_FEATURES, *,
             identity: bool = True) -> tuple[np.ndarray, float]:
    """Weights and intercept of sigmoid(x @ w + b) by Newton steps on the log-likelihood with an L2 pull of every
    weight towards the identity map (1 on the calibrated logit, 0 elsewhere; all 0 with ``identity=False``) and of
    the intercept towards 0."""
    k = x.shape[1]
    centre = np.array([_PRIOR_CENTRE.get(n, 0.0) if identity else 0.0 for n in names] + [0.0])
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


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def _fit_parts(rows: list[dict[str, Any]], names: tuple[str, ...], kind_names: tuple[str, ...]
               ) -> tuple[tuple[np.ndarray, float], tuple[np.ndarray, float] | None]:
    """The service part (or, without kind inputs, the one map for the pair) and the kind part."""
    y = np.array([1.0 if r["hit"] else 0.0 for r in rows])
    x = np.array([row_inputs(r, names) for r in rows])
    if not kind_names:
        return _fit_map(x, y, names), None
    missing = [r["case"] for r in rows if "service_hit" not in r]
    if missing:
        raise SystemExit(f"{missing[0]}: recorded without service_hit; record it again to fit a kind part")
    ys = np.array([1.0 if r["service_hit"] else 0.0 for r in rows])
    right = ys == 1.0
    xk = np.array([row_inputs(r, kind_names) for r in rows])
    return _fit_map(x, ys, names), _fit_map(xk[right], y[right], kind_names, identity=False)


def _predict(row: dict[str, Any], names: tuple[str, ...], kind_names: tuple[str, ...],
             service: tuple[np.ndarray, float], kind: tuple[np.ndarray, float] | None) -> float:
    p = _sigmoid(float(np.array(row_inputs(row, names)) @ service[0]) + service[1])
    if kind is not None:
        p *= _sigmoid(float(np.array(row_inputs(row, kind_names)) @ kind[0]) + kind[1])
    return p


def fit(paths: Path | list[Path], *, write: bool, names: tuple[str, ...] = MAP_FEATURES,
        kind_names: tuple[str, ...] = KIND_FEATURES) -> dict[str, Any]:
    from bot.pipeline.evaluation import expected_calibration_error
    from bot.reasoning.scorer import CONFIDENCE_FEATURES, DEFAULT_MODEL_PATH

    unknown = [n for n in (*names, *kind_names) if n not in CONFIDENCE_FEATURES]
    if unknown:  # the shipped map can only use what an analysis computes (confidence_inputs)
        raise SystemExit(f"unknown map input(s) {', '.join(unknown)}; choose from {', '.join(CONFIDENCE_FEATURES)}")
    files = [paths] if isinstance(paths, Path) else list(paths)
    rows = load_rows(files)
    service, kind = _fit_parts(rows, names, kind_names)
    loo = [_predict(rows[i], names, kind_names, *_fit_parts(rows[:i] + rows[i + 1:], names, kind_names))
           for i in range(len(rows))]
    raw = [float(r["calibrated"]) for r in rows]
    hits = [bool(r["hit"]) for r in rows]
    y = np.array([1.0 if h else 0.0 for h in hits])
    coef = {n: round(float(v), 4) for n, v in zip(names, service[0], strict=True)}
    b = service[1]
    figures: dict[str, Any] = {
        "cases": len(rows), "right_first": int(y.sum()), "coef": coef, "intercept": round(b, 4),
        "ece_before": round(expected_calibration_error(raw, hits), 4),
        "ece_loo": round(expected_calibration_error(loo, hits), 4),
        "wrong_above_half_before": sum(1 for c, h in zip(raw, hits, strict=True) if c > 0.5 and not h),
        "wrong_above_half_loo": sum(1 for c, h in zip(loo, hits, strict=True) if c > 0.5 and not h),
        "brier_before": round(float(np.mean((np.array(raw) - y) ** 2)), 4),
        "brier_loo": round(float(np.mean((np.array(loo) - y) ** 2)), 4),
    }
    terms = " + ".join(f"{v:.3f} * {n}" for n, v in coef.items())
    shape = f"sigmoid({terms} + {b:.3f})"
    if kind is not None:
        kind_coef = {n: round(float(v), 4) for n, v in zip(kind_names, kind[0], strict=True)}
        figures["kind"] = {"coef": kind_coef, "intercept": round(kind[1], 4)}
        kind_terms = " + ".join(f"{v:.3f} * {n}" for n, v in kind_coef.items())
        shape += f" * sigmoid({kind_terms} + {kind[1]:.3f})"
        figures["right_service_first"] = sum(1 for r in rows if r["service_hit"])
    elif coef.keys() == {"z_calibrated"}:
        figures.update(slope=coef["z_calibrated"], intercept=round(b, 4))
    print(f"first-contact cases {len(rows)} (right first {int(y.sum())}); map {shape}")
    print(f"ECE {figures['ece_before']:.3f} -> {figures['ece_loo']:.3f} (leave one out); wrong above 0.5: "
          f"{figures['wrong_above_half_before']} -> {figures['wrong_above_half_loo']}; Brier "
          f"{figures['brier_before']:.4f} -> {figures['brier_loo']:.4f}")
    if write:
        stored = json.loads(DEFAULT_MODEL_PATH.read_text(encoding="utf-8"))
        stored["confidence"] = {"coef": coef, "intercept": round(b, 4),
                                "fitted_on": f"first contact with {len(rows)} casebook dev cases "
                                             f"({', '.join(p.name for p in files)})"}
        if kind is not None:
            stored["confidence"]["kind"] = figures["kind"]
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
                       help=f"inputs of the service part (of the one map without a kind part), comma-separated "
                            f"(default {','.join(MAP_FEATURES)})")
    fit_p.add_argument("--kind-features", default=",".join(KIND_FEATURES),
                       help=f"inputs of the kind part, comma-separated (default {','.join(KIND_FEATURES)}); "
                            "empty: one map for the pair, fitted on whether the pair was right")
    fit_p.add_argument("--write", action="store_true", help="store the map in bot/reasoning/default_model.json")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    result = record(args.cases, args.out) if args.command == "record" else fit(
        args.rows, write=args.write, names=tuple(n.strip() for n in args.features.split(",") if n.strip()),
        kind_names=tuple(n.strip() for n in args.kind_features.split(",") if n.strip()))
    print(json.dumps(result))


if __name__ == "__main__":
    main()

"""Scoring analyses against ground truth: AC@k (ARCHITECTURE.md), category accuracy, calibration, latency."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bot.domain import Analysis, GroundTruth

if TYPE_CHECKING:
    from bot.pipeline.service import Pipeline


@dataclass
class EvalCase:
    name: str
    kind: str
    rank: int | None  # 1-based rank of the first hit, None when absent
    top_confidence: float
    top_correct: bool
    category_correct: bool
    ms: float

    @classmethod
    def from_analysis(cls, name: str, truth: GroundTruth, analysis: Analysis, ms: float) -> EvalCase:
        rank = None
        for i, h in enumerate(analysis.hypotheses, start=1):
            if h.service == truth.root_cause_service and h.kind == truth.root_cause_kind:
                rank = i
                break
        top = analysis.top
        return cls(
            name=name,
            kind=truth.root_cause_kind,
            rank=rank,
            top_confidence=top.confidence if top else 0.0,
            top_correct=rank == 1,
            category_correct=analysis.category.label == truth.category,
            ms=ms,
        )


def expected_calibration_error(confidences: list[float], correct: list[bool], bins: int = 10) -> float:
    """ECE over equal-width confidence bins of the top hypothesis."""
    if not confidences:
        return 0.0
    conf = np.asarray(confidences, dtype=float)
    hit = np.asarray(correct, dtype=float)
    edges = np.linspace(0.0, 1.0, bins + 1)
    ece = 0.0
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        mask = (conf > lo) & (conf <= hi) if lo > 0 else (conf >= lo) & (conf <= hi)
        if mask.any():
            ece += mask.mean() * abs(conf[mask].mean() - hit[mask].mean())
    return float(ece)


def _rates(cases: list[EvalCase]) -> dict[str, Any]:
    n = len(cases)
    return {
        "cases": n,
        "top1": sum(c.rank == 1 for c in cases) / n if n else 0.0,
        "top3": sum(c.rank is not None and c.rank <= 3 for c in cases) / n if n else 0.0,
        "category_accuracy": sum(c.category_correct for c in cases) / n if n else 0.0,
        "calibration_error": expected_calibration_error([c.top_confidence for c in cases],
                                                        [c.top_correct for c in cases]),
        "p50_ms": float(np.percentile([c.ms for c in cases], 50)) if n else 0.0,
    }


def summarize_cases(cases: list[EvalCase]) -> dict[str, Any]:
    out = _rates(cases)
    ms = [c.ms for c in cases]
    out["p95_ms"] = float(np.percentile(ms, 95)) if ms else 0.0
    kinds: dict[str, list[EvalCase]] = {}
    for c in cases:
        kinds.setdefault(c.kind, []).append(c)
    out["per_kind"] = {k: _rates(v) for k, v in kinds.items()}
    return out


def find_bundles(root: Path) -> list[Path]:
    """Every bundle folder (one holding alert.json) at or below ``root``, sorted."""
    if (root / "alert.json").is_file():
        return [root]
    return sorted(p.parent for p in root.rglob("alert.json"))


def evaluate_bundles(
    bundles: list[Path],
    *,
    pipeline: Pipeline,
    progress: Callable[[Iterable[Path]], Iterable[Path]] = lambda it: it,
    on_case: Callable[[Path, GroundTruth, Analysis, EvalCase], None] | None = None,
) -> dict[str, Any]:
    """Analyse each bundle with ``truth.json`` and score it; bundles without truth are counted, not scored.

    ``on_case``, when given, sees every scored case (its folder, truth, analysis and score) as it is made,
    for callers that report more than the aggregate (``bench.casebook``: splits, sources, misses).
    """
    from bot.pipeline.bundle import load_bundle

    cases: list[EvalCase] = []
    skipped = 0
    for path in progress(bundles):
        context, report = load_bundle(path)
        if report.truth is None:
            skipped += 1
            continue
        t0 = time.perf_counter()
        analysis = pipeline.analyze_context(context, lacked=report.lacked)
        ms = (time.perf_counter() - t0) * 1000
        case = EvalCase.from_analysis(path.name, report.truth, analysis, ms)
        cases.append(case)
        if on_case is not None:
            on_case(path, report.truth, analysis, case)
    result = summarize_cases(cases)
    result["skipped_without_truth"] = skipped
    return result

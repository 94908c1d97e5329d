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
    from bot.reasoning.llm import LLMReasoner
    from config.settings import Settings

NO_LLM = ("no LLM endpoint is configured (llm.enabled is false; docs/llm.md): "
          "deterministic figures only")


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


def evaluation_llm(settings: Settings) -> LLMReasoner | None:
    """The configured LLM for scoring bundles (None without one). Its tools read the bundle only: a
    bundle is a past incident, so live metrics, logs and clusters are not asked."""
    if not settings.llm.enabled:
        return None
    from bot.investigation import ToolResources
    from bot.reasoning.llm import LLMReasoner

    return LLMReasoner(settings.llm, tools=ToolResources(kubernetes_namespace=settings.logs.kubernetes_namespace))


def _llm_row(name: str, det: EvalCase, case: EvalCase, usage: dict[str, Any]) -> dict[str, Any]:
    return {"case": name, "kind": case.kind, "rank": det.rank, "rank_llm": case.rank,
            "used": bool(usage.get("used")), "fallback_reason": usage.get("fallback_reason"),
            "prompt_tokens": int(usage.get("prompt_tokens", 0)), "completion_tokens": int(usage.get("completion_tokens", 0)),
            "cost_usd": float(usage.get("cost_usd", 0.0)), "latency_ms": float(usage.get("latency_ms", 0.0)),
            "tool_calls": len(usage.get("tool_calls", []))}


def summarize_llm(rows: list[dict[str, Any]], cases: list[EvalCase], llm: LLMReasoner) -> dict[str, Any]:
    """AC@1/AC@3 with the LLM, its tokens, cost and latency, in all and per case."""
    rates = _rates(cases)
    latency = [r["latency_ms"] for r in rows]
    return {
        "model": llm.settings.model, "provider": llm.settings.provider, "investigate": llm.settings.investigate,
        "cases": len(cases), "top1": rates["top1"], "top3": rates["top3"],
        "used": sum(r["used"] for r in rows), "fallbacks": sum(not r["used"] for r in rows),
        "prompt_tokens": sum(r["prompt_tokens"] for r in rows),
        "completion_tokens": sum(r["completion_tokens"] for r in rows),
        "cost_usd": round(sum(r["cost_usd"] for r in rows), 6),
        "latency_p50_ms": float(np.percentile(latency, 50)) if latency else 0.0,
        "per_case": rows,
    }


def evaluate_bundles(
    bundles: list[Path],
    *,
    pipeline: Pipeline,
    progress: Callable[[Iterable[Path]], Iterable[Path]] = lambda it: it,
    on_case: Callable[[Path, GroundTruth, Analysis, EvalCase], None] | None = None,
    llm: LLMReasoner | None = None,
) -> dict[str, Any]:
    """Analyse each bundle with ``truth.json`` and score it; bundles without truth are counted, not scored.

    ``on_case``, when given, sees every scored case (its folder, truth, analysis and score) as it is made,
    for callers that report more than the aggregate (``bench.casebook``: splits, sources, misses).

    With ``llm``, each deterministic analysis is also refined by it and scored again: ``result["llm"]``
    holds AC@1/AC@3 with the LLM and per case its rank, tokens, cost, latency and tool calls (see
    ``summarize_llm``). The deterministic figures are the pipeline's own (give one without an LLM).
    """
    from bot.pipeline.bundle import load_bundle

    cases: list[EvalCase] = []
    llm_cases: list[EvalCase] = []
    rows: list[dict[str, Any]] = []
    skipped = 0
    for path in progress(bundles):
        context, report = load_bundle(path)
        if report.truth is None:
            skipped += 1
            continue
        t0 = time.perf_counter()
        analysis = pipeline.analyze_context(context, lacked=report.lacked)
        ms = (time.perf_counter() - t0) * 1000
        det = EvalCase.from_analysis(path.name, report.truth, analysis, ms)
        cases.append(det)
        if on_case is not None:
            on_case(path, report.truth, analysis, det)
        if llm is not None:
            t1 = time.perf_counter()
            refined = llm.refine(context=context, analysis=analysis)
            case = EvalCase.from_analysis(path.name, report.truth, refined, ms + (time.perf_counter() - t1) * 1000)
            llm_cases.append(case)
            rows.append(_llm_row(path.name, det, case, refined.llm))
    result = summarize_cases(cases)
    result["skipped_without_truth"] = skipped
    if llm is not None:
        result["llm"] = summarize_llm(rows, llm_cases, llm)
    return result

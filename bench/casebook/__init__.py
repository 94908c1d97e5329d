"""The field casebook: incident bundles not made by our simulator, with their truth fixed before any run.

Each case under ``cases/`` is an evidence bundle (ARCHITECTURE.md) whose ``truth.json`` also carries
``split`` (``dev``/``test``), ``source`` (``kubernetes``/``postmortem``), ``modelled_on`` and ``notes``.
``run_casebook`` analyses every case through the path ``sherlog eval`` uses
(``bot.pipeline.evaluation.evaluate_bundles``) and groups the scores by split, source and true kind;
``__main__`` prints them (``python -m bench.casebook --help``).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bot.domain import Analysis, GroundTruth
from bot.pipeline.evaluation import EvalCase, evaluate_bundles, expected_calibration_error, find_bundles

CASES_DIR = Path(__file__).resolve().parent / "cases"
SPLITS = ("dev", "test")
SOURCES = ("kubernetes", "postmortem")
NO_LLM_MESSAGE = "no LLM endpoint configured (llm.base_url); deterministic figures only"


@dataclass
class CaseResult:
    """One scored case: its truth, where it belongs (split, source) and the top answers."""

    name: str
    split: str
    source: str
    truth: GroundTruth
    score: EvalCase
    top: list[tuple[str, str, float]] = field(default_factory=list)  # (service, kind, confidence), best first

    @property
    def wrong_above_half(self) -> bool:
        return not self.score.top_correct and self.score.top_confidence > 0.5


def read_case_labels(bundle: Path) -> tuple[str, str]:
    """(split, source) from a case's truth.json; ("", "") when absent or unreadable."""
    try:
        raw = json.loads((bundle / "truth.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "", ""
    if not isinstance(raw, dict):
        return "", ""
    return str(raw.get("split") or ""), str(raw.get("source") or "")


def select_cases(root: Path, *, split: str = "all", source: str | None = None) -> list[Path]:
    """The case folders under ``root`` in ``split`` (``all``: both) and, when given, of ``source``."""
    chosen = []
    for bundle in find_bundles(root):
        case_split, case_source = read_case_labels(bundle)
        if split != "all" and case_split != split:
            continue
        if source and case_source != source:
            continue
        chosen.append(bundle)
    return chosen


def run_casebook(
    bundles: list[Path],
    *,
    pipeline: Any,
    progress: Callable[[Iterable[Path]], Iterable[Path]] = lambda it: it,
) -> list[CaseResult]:
    """Score each bundle with ``evaluate_bundles`` (the ``sherlog eval`` path) and keep every case."""
    labels = {b.resolve(): read_case_labels(b) for b in bundles}
    results: list[CaseResult] = []

    def keep(path: Path, truth: GroundTruth, analysis: Analysis, score: EvalCase) -> None:
        split, source = labels.get(path.resolve(), ("", ""))
        top = [(h.service, h.kind, h.confidence) for h in analysis.hypotheses[:3]]
        results.append(CaseResult(path.name, split or "unsplit", source or "unknown", truth, score, top))

    evaluate_bundles(bundles, pipeline=pipeline, progress=progress, on_case=keep)
    return results


def _percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else 0.0


def figures(results: list[CaseResult]) -> dict[str, Any]:
    """AC@1, AC@3, category accuracy, ECE, wrong-first-above-0.5 (count, rate), p50/p95 ms of some cases."""
    n = len(results)
    wrong = sum(r.wrong_above_half for r in results)
    ms = [r.score.ms for r in results]
    return {
        "cases": n,
        "top1": sum(r.score.rank == 1 for r in results) / n if n else 0.0,
        "top3": sum(r.score.rank is not None and r.score.rank <= 3 for r in results) / n if n else 0.0,
        "category_accuracy": sum(r.score.category_correct for r in results) / n if n else 0.0,
        "ece": expected_calibration_error([r.score.top_confidence for r in results],
                                          [r.score.top_correct for r in results]),
        "wrong_above_half": wrong,
        "wrong_above_half_rate": wrong / n if n else 0.0,
        "p50_ms": _percentile(ms, 50),
        "p95_ms": _percentile(ms, 95),
    }


def group(results: list[CaseResult], key: Callable[[CaseResult], str]) -> dict[str, list[CaseResult]]:
    out: dict[str, list[CaseResult]] = {}
    for r in results:
        out.setdefault(key(r), []).append(r)
    return dict(sorted(out.items()))


def _round(value: float | int) -> float | int:
    return round(value, 4) if isinstance(value, float) else value


def headline(results: list[CaseResult]) -> dict[str, Any]:
    """The one-line summary: dev and test figures, and test AC@1 per source."""
    out: dict[str, Any] = {}
    by_split = group(results, lambda r: r.split)
    for split in SPLITS:
        f = figures(by_split.get(split, []))
        out[split] = {k: _round(f[k]) for k in ("cases", "top1", "top3", "category_accuracy", "ece", "wrong_above_half")}
    test = by_split.get("test", [])
    out["test_top1_by_source"] = {src: _round(figures(rows)["top1"]) for src, rows in group(test, lambda r: r.source).items()}
    return out


_HEAD = f"{'':<30}{'cases':>6}{'AC@1':>7}{'AC@3':>7}{'cat':>7}{'ECE':>7}{'wrong>.5':>10}{'p50 ms':>9}{'p95 ms':>9}"


def _row(label: str, rows: list[CaseResult]) -> str:
    f = figures(rows)
    wrong = f"{f['wrong_above_half']} ({f['wrong_above_half_rate']:.0%})"
    return (f"{label:<30}{f['cases']:>6}{f['top1']:>7.2f}{f['top3']:>7.2f}{f['category_accuracy']:>7.2f}"
            f"{f['ece']:>7.2f}{wrong:>10}{f['p50_ms']:>9.0f}{f['p95_ms']:>9.0f}")


def _table(title: str, groups: dict[str, list[CaseResult]]) -> list[str]:
    lines = [title, _HEAD, "-" * len(_HEAD)]
    lines += [_row(label, rows) for label, rows in groups.items()]
    return lines + [""]


def report_lines(results: list[CaseResult], *, show_misses: bool = False) -> list[str]:
    """The readable report: overall per split, per source per split, per true kind per split, misses."""
    by_split = group(results, lambda r: r.split)
    lines = _table("overall, per split", by_split)
    lines += _table("per source, per split", group(results, lambda r: f"{r.split} / {r.source}"))
    for split, rows in by_split.items():
        lines += _table(f"per true kind, {split}", group(rows, lambda r: r.truth.root_cause_kind))
    if show_misses:
        lines += miss_lines(results)
    return lines


def miss_lines(results: list[CaseResult]) -> list[str]:
    misses = [r for r in results if r.score.rank != 1]
    lines = [f"misses ({len(misses)} of {len(results)}; rank of the true cause in brackets)"]
    for r in misses:
        rank = f"rank {r.score.rank}" if r.score.rank else "not in the answer"
        lines.append(f"  {r.name} [{r.split}, {rank}]  truth: {r.truth.root_cause_service} / "
                     f"{r.truth.root_cause_kind} ({r.truth.category})")
        if not r.top:
            lines.append("      (no hypothesis)")
        for i, (service, kind, confidence) in enumerate(r.top, start=1):
            lines.append(f"      {i}. {service} / {kind}  {confidence:.2f}")
    return lines + [""]


__all__ = ["CASES_DIR", "NO_LLM_MESSAGE", "CaseResult", "figures", "headline", "miss_lines", "read_case_labels",
           "report_lines", "run_casebook", "select_cases"]


def ready_to_run(cases: Path) -> bool:
    """The casebook CLIs' common start: offline model loading, and a clear error when ``cases`` is no folder."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    if not cases.is_dir():
        print(f"error: {cases} is not a folder of case bundles", file=sys.stderr)
        return False
    return True

"""Score Sherlog on the field casebook (bench/casebook/cases): bundles written from Kubernetes documentation
and public postmortems, never by our simulator, each with its truth fixed before any run.

Every case is analysed through the shipped path (``sherlog eval``'s ``evaluate_bundles``) on the embedded
defaults with the in-memory retrieval backend. Prints AC@1, AC@3, category accuracy, ECE, how many first
answers were wrong with a confidence above 0.5, and latency: overall per split, per source per split and
per true kind per split; then one JSON line with the headline figures.

    .venv/bin/python -m bench.casebook [--cases DIR] [--split dev|test|all] [--source kubernetes|postmortem]
                                       [--show-misses] [--json] [--llm]

--json prints only the JSON line. --llm also scores the configured LLM (``llm`` settings; see ``llm_figures``);
without an endpoint it says so and reports the deterministic figures.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.casebook import (
    CASES_DIR,
    NO_LLM_MESSAGE,
    SOURCES,
    headline,
    ready_to_run,
    report_lines,
    run_casebook,
    select_cases,
)


def llm_figures(bundles: list[Path], settings: Any) -> dict[str, Any] | None:
    """AC@1/AC@3 with the configured LLM, tokens, cost and latency per case (``evaluate_bundles(..., llm=...)``,
    the ``sherlog eval --llm`` path), or None when no LLM endpoint is configured."""
    from bot.pipeline import Pipeline
    from bot.pipeline.evaluation import evaluate_bundles, evaluation_llm

    llm = evaluation_llm(settings)
    if llm is None:
        return None
    result = evaluate_bundles(bundles, pipeline=Pipeline(settings=settings), llm=llm)
    return dict(result.get("llm") or {})


def _deterministic_pipeline(settings: Any) -> Any:
    from bot.pipeline import Pipeline

    return Pipeline(settings=settings)


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.casebook", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=Path, default=CASES_DIR, help="folder of case bundles")
    parser.add_argument("--split", choices=("dev", "test", "all"), default="all")
    parser.add_argument("--source", choices=SOURCES, default=None, help="only cases of this source")
    parser.add_argument("--json", action="store_true", help="print only the headline JSON line")
    parser.add_argument("--show-misses", action="store_true", help="list each miss with the top-3 answers")
    parser.add_argument("--llm", action="store_true", help="analyse with the configured LLM too")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    if not ready_to_run(args.cases):
        return 2
    from config.settings import load_settings
    bundles = select_cases(args.cases, split=args.split, source=args.source)
    if not bundles:
        print(f"error: no cases under {args.cases} for split={args.split} source={args.source or 'any'}",
              file=sys.stderr)
        return 2
    settings = load_settings(data_dir=Path(tempfile.mkdtemp(prefix="sherlog-casebook-")) / ".sherlog",
                             retrieval={"backend": "memory"})
    llm = llm_figures(bundles, settings) if args.llm else None
    if args.llm and llm is None:
        print(NO_LLM_MESSAGE)
    results = run_casebook(bundles, pipeline=_deterministic_pipeline(settings))
    if not args.json:
        print(f"field casebook: {len(results)} cases under {args.cases}"
              f" (split {args.split}, source {args.source or 'all'})\n")
        print("\n".join(report_lines(results, show_misses=args.show_misses)))
        if llm is not None:
            print(f"\nwith the LLM ({llm.get('provider')}/{llm.get('model')}): AC@1 {llm.get('top1', 0):.2f}  "
                  f"AC@3 {llm.get('top3', 0):.2f}  tokens {llm.get('prompt_tokens', 0)}+{llm.get('completion_tokens', 0)}"
                  f"  cost ${llm.get('cost_usd', 0):.4f}  p50 {llm.get('latency_p50_ms', 0):.0f} ms  "
                  f"fallbacks {llm.get('fallbacks', 0)}")
    figures = headline(results)
    if llm is not None:
        figures["llm"] = {k: llm.get(k) for k in ("provider", "model", "top1", "top3", "prompt_tokens",
                                                  "completion_tokens", "cost_usd", "latency_p50_ms")}
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())

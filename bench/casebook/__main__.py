"""Score Sherlog on the field casebook (bench/casebook/cases): bundles written from Kubernetes documentation
and public postmortems, never by our simulator, each with its truth fixed before any run.

Every case is analysed through the shipped path (``sherlog eval``'s ``evaluate_bundles``) on the embedded
defaults with the in-memory retrieval backend. Prints AC@1, AC@3, category accuracy, ECE, how many first
answers were wrong with a confidence above 0.5, and latency: overall per split, per source per split and
per true kind per split; then one JSON line with the headline figures.

    .venv/bin/python -m bench.casebook [--cases DIR] [--split dev|test|all] [--source kubernetes|postmortem]
                                       [--show-misses] [--json] [--llm]

--json prints only the JSON line. --llm asks the configured LLM too (see ``llm_pipeline``); without an
endpoint it says so and reports the deterministic figures.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.casebook import (
    CASES_DIR,
    NO_LLM_MESSAGE,
    SOURCES,
    headline,
    report_lines,
    run_casebook,
    select_cases,
)


def llm_pipeline(settings: Any) -> Any | None:
    """Hook for the LLM engineer: the ``Pipeline`` that analyses with the configured LLM, or None.

    Today it returns None (no LLM client is wired here yet); the caller then prints ``NO_LLM_MESSAGE`` and
    keeps the deterministic figures. Fill it by building the LLM client from ``settings.llm`` and returning
    ``Pipeline(settings=settings, llm=client)``; a pipeline returned here is scored exactly like the
    deterministic one.
    """
    if not (settings.llm.enabled and settings.llm.base_url):
        return None
    return None


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
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from config.settings import load_settings

    if not args.cases.is_dir():
        print(f"error: {args.cases} is not a folder of case bundles", file=sys.stderr)
        return 2
    bundles = select_cases(args.cases, split=args.split, source=args.source)
    if not bundles:
        print(f"error: no cases under {args.cases} for split={args.split} source={args.source or 'any'}",
              file=sys.stderr)
        return 2
    settings = load_settings(data_dir=Path(tempfile.mkdtemp(prefix="sherlog-casebook-")) / ".sherlog",
                             retrieval={"backend": "memory"})
    pipeline = None
    if args.llm:
        pipeline = llm_pipeline(settings)
        if pipeline is None:
            print(NO_LLM_MESSAGE)
    results = run_casebook(bundles, pipeline=pipeline or _deterministic_pipeline(settings))
    if not args.json:
        print(f"field casebook: {len(results)} cases under {args.cases}"
              f" (split {args.split}, source {args.source or 'all'})\n")
        print("\n".join(report_lines(results, show_misses=args.show_misses)))
    print(json.dumps(headline(results)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

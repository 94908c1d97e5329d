"""Dashboard report speed: every report over N seeded incidents, against loading the same rows
through the Store (``list_incidents`` + ``list_analyses``), in the same process.

Incidents come from the test factory (realistic delays, analyses, feedback, LLM usage) written
to a fresh SQLite file. No data folder is needed.

    .venv/bin/python -m bench.reports [--sizes 300,1500] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from bot.reporting import ReportScope, build_report
from bot.storage import Store
from tests.reporting.factory import seed_incidents

REPORTS = ("summary", "incidents-per-day", "response-times", "root-causes", "early-warnings", "hit-rate",
           "calibration", "feedback", "llm", "incidents")


def _best(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return min(times)


def run(size: int, repeat: int) -> dict[str, float]:
    now = datetime(2026, 11, 20, 12, tzinfo=UTC)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(f"sqlite:///{Path(tmp) / 'bench.db'}")
        seed_incidents(store, now=now, days=30, count=size, seed=1, with_chat=False)
        scope = ReportScope.parse(days=30, now=now)
        baseline = _best(lambda: (store.list_incidents(since=scope.since, until=scope.until, limit=10**6),
                                  store.list_analyses(since=scope.since)), repeat)
        out = {"baseline_ms": baseline}
        for name in REPORTS:
            out[name] = _best(lambda name=name: build_report(name, store=store, scope=scope), repeat)
        store.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="300,1500", help="comma-separated incident counts")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    results = {size: run(size, args.repeat) for size in sizes}
    header = f"{'report':<20}" + "".join(f"{f'{s} inc. ms':>14}{'x load':>8}" for s in sizes)
    print(header)
    print("-" * len(header))
    for name in ("baseline_ms", *REPORTS):
        row = f"{name:<20}"
        for size in sizes:
            ms = results[size][name]
            row += f"{ms:>14.1f}{ms / results[size]['baseline_ms']:>8.2f}"
        print(row)
    largest = results[sizes[-1]]
    ratios = [largest[n] / largest["baseline_ms"] for n in REPORTS]
    print(json.dumps({"incidents": sizes[-1], "baseline_load_ms": round(largest["baseline_ms"], 1),
                      "summary_ms": round(largest["summary"], 1),
                      "median_report_ms": round(statistics.median(largest[n] for n in REPORTS), 1),
                      "median_ratio_to_load": round(statistics.median(ratios), 2),
                      "max_ratio_to_load": round(max(ratios), 2)}))


if __name__ == "__main__":
    main()

"""Simulator: validity, speed, and how far naive heuristics get on its bundles.

Writes one bundle per (kind, difficulty) and seed, validates each, and scores four heuristics that need
no reasoning: blame the service the alert names, the service with the most error lines, the service of
the latest change, or the component whose metrics moved most in the last 10 minutes. If one of them
found the culprit nearly always, the bundles would be too easy (or would leak the answer).
Speed is reported as a ratio against writing the same bundles without history, in the same process.

    .venv/bin/python -m bench.simulation [--seeds 1] [--out DIR]
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import statistics
import tempfile
import time
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path

from bot.domain.vocabulary import ALL_KINDS
from bot.simulation import generate_bundle, validate_bundle
from bot.simulation.scenario import DIFFICULTIES

ERROR = re.compile(r'\b(ERROR|FATAL|error|fatal|panic)\b|"level":"(error|ERROR)"|HTTP/1\.1" 5\d\d |^<[0-3]>1 ')


def _ts(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def alert_service(bundle: Path) -> str:
    return json.loads((bundle / "truth.json").read_text())["alert_service"]  # what the alert names


def most_errors(bundle: Path) -> str:
    counts = {p.stem: sum(1 for line in p.read_text().splitlines() if ERROR.search(line))
              for p in (bundle / "logs").glob("*.log")}
    return max(sorted(counts), key=lambda s: counts[s])


def latest_change(bundle: Path) -> str:
    events = [json.loads(line) for line in (bundle / "events.jsonl").read_text().splitlines() if line.strip()]
    changes = [e for e in events if e["kind"] in ("deploy", "config", "feature_flag") and e["service"]]
    return changes[-1]["service"] if changes else ""


def biggest_shift(bundle: Path) -> str:
    best, best_score = "", -1.0
    for path in (bundle / "metrics").glob("*.csv"):
        with path.open() as fh:
            rows = [(_ts(r["timestamp"]), float(r["value"])) for r in csv.DictReader(fh)]
        if len(rows) < 30:
            continue
        end = rows[-1][0]
        recent = [v for t, v in rows if end - t <= timedelta(minutes=10)]
        before = [v for t, v in rows if end - t > timedelta(minutes=25)]
        if not recent or len(before) < 5:
            continue
        spread = statistics.pstdev(before) or 1e-9
        score = abs(statistics.fmean(recent) - statistics.fmean(before)) / (spread + 0.05 * abs(statistics.fmean(before)))
        if score > best_score:
            best, best_score = path.name.split(".")[0], score
    return best


HEURISTICS = {"alert service": alert_service, "most error lines": most_errors, "latest change": latest_change,
              "biggest metric shift": biggest_shift}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=1, help="bundles per (kind, difficulty)")
    parser.add_argument("--out", type=Path, default=None, help="keep the bundles here (default: a temp dir)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = args.out or Path(tmp)
        jobs = [(k, d, s) for s in range(args.seeds) for d in DIFFICULTIES for k in ALL_KINDS]
        t0 = time.perf_counter()
        for kind, difficulty, seed in jobs:
            generate_bundle(root / "bare" / f"{kind}-{difficulty}-{seed}", kind=kind, difficulty=difficulty,
                            seed=seed, history=False)
        bare_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        bundles = [generate_bundle(root / "full" / f"{kind}-{difficulty}-{seed}", kind=kind, difficulty=difficulty,
                                   seed=seed) for kind, difficulty, seed in jobs]
        full_s = time.perf_counter() - t0
        invalid = [b.name for b in bundles if validate_bundle(b)]
        size_mb = sum(f.stat().st_size for b in bundles for f in b.rglob("*") if f.is_file()) / len(bundles) / 2**20
        hits: dict[str, dict[str, list[bool]]] = defaultdict(lambda: defaultdict(list))
        for bundle in bundles:
            truth = json.loads((bundle / "truth.json").read_text())
            for name, guess in HEURISTICS.items():
                hit = guess(bundle) == truth["root_cause_service"]
                hits[name][truth["difficulty"]].append(hit)
                hits[name]["all"].append(hit)
    header = f"{'heuristic (service only)':<26}" + "".join(f"{d:>9}" for d in (*DIFFICULTIES, "all"))
    print(f"{len(bundles)} bundles ({len(ALL_KINDS)} kinds x {len(DIFFICULTIES)} difficulties x {args.seeds} seeds), "
          f"{len(invalid)} invalid, {size_mb:.2f} MB each")
    print(f"writing: {len(bundles) / full_s:.1f} bundles/s with history; "
          f"{full_s / bare_s:.2f}x the time of the same bundles without history")
    print(header)
    figures: dict[str, float] = {}
    for name in HEURISTICS:
        row = {d: sum(v) / len(v) for d, v in hits[name].items()}
        print(f"{name:<26}" + "".join(f"{row[d]:>9.2f}" for d in (*DIFFICULTIES, "all")))
        figures[name.replace(" ", "_")] = round(row["all"], 3)
        figures[name.replace(" ", "_") + "_hard"] = round(row["hard"], 3)
    print(json.dumps({"bundles": len(bundles), "invalid": len(invalid), "mb_per_bundle": round(size_mb, 2),
                      "bundles_per_s": round(len(bundles) / full_s, 2),
                      "history_time_ratio": round(full_s / bare_s, 2), **figures}))


if __name__ == "__main__":
    main()

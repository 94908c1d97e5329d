"""BGL line alerts: precision/recall of "this line is anomalous" from Sherlog's log signals.

``BGL_2k.log``'s first token is the label ("-" = normal; anything else names an alert category).
The label is never shown to the detector: each line goes through loghub's BGL header format and the
detector sees the message, the level and the time. Detection is prequential, as in production: the
stream is cut into chunks of ``--chunk`` lines; for each chunk, every line before it is the baseline,
and a line is flagged when its template carries an error-level signal (new template, surge, rare
error) with a score of at least ``--threshold``. The first chunk only warms up and is not scored.

Printed next to it: "level is FATAL/ERROR/FAILURE/SEVERE" alone, a baseline any log tool has.

    .venv/bin/python -m bench.bgl [--data ../shared/data/loghub-2k] [--chunk 100] [--threshold 0.3]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bench.loghub import DEFAULT_DATA, HEADERS
from detectors.logs.formats import HeaderFormat
from detectors.logs.parsing import LogEvent, parse_lines
from detectors.logs.signals import LogComparison, mining_text

LINE_DETECTORS = ("log.new_template", "log.rate_surge", "log.rare")
BAD_LEVELS = {"FATAL", "ERROR", "FAILURE", "SEVERE"}


def prf(pred: list[bool], truth: list[bool]) -> tuple[float, float, float]:
    tp = sum(p and t for p, t in zip(pred, truth, strict=True))
    fp = sum(p and not t for p, t in zip(pred, truth, strict=True))
    fn = sum(t and not p for p, t in zip(pred, truth, strict=True))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def flag_chunk(base: list[LogEvent], chunk: list[LogEvent], threshold: float) -> list[bool]:
    comparison = LogComparison("bgl")
    for e in base:
        comparison.add_baseline(e)
    for e in chunk:
        comparison.add_current(e)
    flagged = {comparison.miner.resolve(int(s.attributes["template_id"])) for s in comparison.signals()
               if s.detector in LINE_DETECTORS and s.score >= threshold
               and s.attributes.get("level") in ("critical", "error")}
    out = []
    for e in chunk:
        cluster = comparison.miner.match(mining_text(e))
        out.append(cluster is not None and comparison.miner.resolve(cluster.id) in flagged)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--chunk", type=int, default=100)
    parser.add_argument("--threshold", type=float, default=0.3)
    args = parser.parse_args()
    raw = (args.data / "BGL" / "BGL_2k.log").read_text(encoding="utf-8", errors="replace").splitlines()
    fmt = HeaderFormat(HEADERS["BGL"])
    events = list(parse_lines(raw, fmt=fmt, service="bgl", join_multiline=False))
    truth = [e.fields.get("Label", "-") != "-" for e in events]
    levels = [str(e.fields.get("Level", "")).upper() for e in events]
    predicted: list[bool] = []
    for start in range(args.chunk, len(events), args.chunk):
        predicted.extend(flag_chunk(events[:start], events[start:start + args.chunk], args.threshold))
    scored_truth = truth[args.chunk:]
    by_level = [lvl in BAD_LEVELS for lvl in levels[args.chunk:]]
    p, r, f1 = prf(predicted, scored_truth)
    lp, lr, lf1 = prf(by_level, scored_truth)
    print(f"BGL_2k: {len(events)} lines, {sum(truth)} alert lines; scored {len(scored_truth)} lines "
          f"({sum(scored_truth)} alerts) after a {args.chunk}-line warm-up")
    print(f"{'method':<34} {'precision':>9} {'recall':>7} {'F1':>6}")
    print(f"{'sherlog signals (prequential)':<34} {p:>9.3f} {r:>7.3f} {f1:>6.3f}")
    print(f"{'level in FATAL/ERROR/FAILURE/SEVERE':<34} {lp:>9.3f} {lr:>7.3f} {lf1:>6.3f}")
    print(json.dumps({"precision": round(p, 4), "recall": round(r, 4), "f1": round(f1, 4),
                      "level_precision": round(lp, 4), "level_recall": round(lr, 4), "level_f1": round(lf1, 4),
                      "chunk": args.chunk, "threshold": args.threshold}))


if __name__ == "__main__":
    main()

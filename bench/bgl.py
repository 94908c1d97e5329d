"""BGL line alerts: precision/recall of "this line is anomalous" from Sherlog's log signals.

``BGL_2k.log``'s first token is the label ("-" = normal; anything else names an alert category).
The label is never shown to the detector: each line goes through loghub's BGL header format and the
detector sees the message, the level and the time. Detection is prequential, as in production: the
stream is cut into chunks of ``--chunk`` lines; for each chunk, every line before it is the baseline,
and a line's score is the best score of an error-level signal (new template, surge, rare error) on
its template; it is flagged when that score reaches the threshold. The first chunk only warms up.

Honest split: the scored stream is cut in time at ``--val-share`` (default: the first half of the
scored lines). The threshold is chosen ONLY on that validation part (best F1, ties to the higher
threshold); the test part (the later lines) is scored once with it. The detector is unsupervised:
labels are used only to choose the threshold (validation) and to score (test). Also printed on the
same test lines: the previous fixed threshold 0.3 (chosen without a split), and "level is
FATAL/ERROR/FAILURE/SEVERE" alone, a baseline any log tool has. ``--threshold`` fixes it instead.

    .venv/bin/python -m bench.bgl [--data ../shared/data/loghub-2k] [--chunk 100] [--val-share 0.5]
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
THRESHOLDS = (0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6, 0.7)
PREVIOUS_THRESHOLD = 0.3


def prf(pred: list[bool], truth: list[bool]) -> tuple[float, float, float]:
    tp = sum(p and t for p, t in zip(pred, truth, strict=True))
    fp = sum(p and not t for p, t in zip(pred, truth, strict=True))
    fn = sum(t and not p for p, t in zip(pred, truth, strict=True))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def score_chunk(base: list[LogEvent], chunk: list[LogEvent]) -> list[float]:
    """Each chunk line's score: the best error-level line signal on its template (0 when none)."""
    comparison = LogComparison("bgl")
    for e in base:
        comparison.add_baseline(e)
    for e in chunk:
        comparison.add_current(e)
    best: dict[int, float] = {}
    for s in comparison.signals():
        if s.detector in LINE_DETECTORS and s.attributes.get("level") in ("critical", "error"):
            tid = comparison.miner.resolve(int(s.attributes["template_id"]))
            best[tid] = max(best.get(tid, 0.0), s.score)
    out = []
    for e in chunk:
        cluster = comparison.miner.match(mining_text(e))
        out.append(best.get(comparison.miner.resolve(cluster.id), 0.0) if cluster is not None else 0.0)
    return out


def flag_chunk(base: list[LogEvent], chunk: list[LogEvent], threshold: float) -> list[bool]:
    return [s >= threshold for s in score_chunk(base, chunk)]


def prequential_scores(events: list[LogEvent], chunk: int) -> list[float]:
    """Scores of every line after the first chunk, each chunk judged against all lines before it."""
    scores: list[float] = []
    for start in range(chunk, len(events), chunk):
        scores.extend(score_chunk(events[:start], events[start:start + chunk]))
    return scores


def choose_threshold(scores: list[float], truth: list[bool], grid: tuple[float, ...] = THRESHOLDS) -> float:
    """The grid threshold with the best F1 on these (validation) lines; ties go to the higher one."""
    return max(grid, key=lambda t: (prf([s >= t for s in scores], truth)[2], t))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--chunk", type=int, default=100)
    parser.add_argument("--val-share", type=float, default=0.5,
                        help="share of the scored lines (the earliest) used to choose the threshold")
    parser.add_argument("--threshold", type=float, default=None,
                        help="fixed threshold instead of choosing it on the validation lines")
    args = parser.parse_args()
    if args.chunk < 1 or not 0.0 < args.val_share < 1.0:
        parser.error("--chunk must be >= 1 and --val-share strictly between 0 and 1")
    path = args.data / "BGL" / "BGL_2k.log"
    if not path.is_file():
        parser.error(f"{path} not found (point --data at the loghub-2k folder)")
    raw = path.read_text(encoding="utf-8", errors="replace").splitlines()
    fmt = HeaderFormat(HEADERS["BGL"])
    events = list(parse_lines(raw, fmt=fmt, service="bgl", join_multiline=False))
    truth = [e.fields.get("Label", "-") != "-" for e in events]
    levels = [str(e.fields.get("Level", "")).upper() for e in events]
    scores = prequential_scores(events, args.chunk)
    scored_truth = truth[args.chunk:]
    by_level = [lvl in BAD_LEVELS for lvl in levels[args.chunk:]]
    cut = int(len(scores) * args.val_share)
    val_scores, test_scores = scores[:cut], scores[cut:]
    val_truth, test_truth = scored_truth[:cut], scored_truth[cut:]
    threshold = args.threshold if args.threshold is not None else choose_threshold(val_scores, val_truth)
    print(f"BGL_2k: {len(events)} lines, {sum(truth)} alert lines; scored {len(scores)} lines after a "
          f"{args.chunk}-line warm-up, prequential chunks of {args.chunk}")
    print(f"split in time: validation = scored lines {args.chunk + 1}-{args.chunk + cut} ({sum(val_truth)} alerts), "
          f"test = lines {args.chunk + cut + 1}-{len(events)} ({sum(test_truth)} alerts)")
    if args.threshold is None:
        print("threshold selection (VALIDATION lines only)")
        print(f"  {'threshold':>9} {'precision':>9} {'recall':>7} {'F1':>6}")
        for t in THRESHOLDS:
            vp, vr, vf = prf([s >= t for s in val_scores], val_truth)
            print(f"  {t:>9g} {vp:>9.3f} {vr:>7.3f} {vf:>6.3f}" + ("   <- chosen" if t == threshold else ""))
    else:
        print(f"threshold fixed by --threshold {threshold:g} (no selection)")
    p, r, f1 = prf([s >= threshold for s in test_scores], test_truth)
    pp, pr, pf1 = prf([s >= PREVIOUS_THRESHOLD for s in test_scores], test_truth)
    lp, lr, lf1 = prf(by_level[cut:], test_truth)
    fp, fr, ff1 = prf([s >= PREVIOUS_THRESHOLD for s in scores], scored_truth)
    print()
    print("TEST lines (scored once)")
    print(f"{'method':<44} {'precision':>9} {'recall':>7} {'F1':>6}")
    print(f"{f'sherlog signals, threshold {threshold:g}':<44} {p:>9.3f} {r:>7.3f} {f1:>6.3f}   <- headline")
    print(f"{f'sherlog signals, previous fixed {PREVIOUS_THRESHOLD:g}':<44} {pp:>9.3f} {pr:>7.3f} {pf1:>6.3f}")
    print(f"{'level in FATAL/ERROR/FAILURE/SEVERE':<44} {lp:>9.3f} {lr:>7.3f} {lf1:>6.3f}")
    print(f"all scored lines, previous fixed threshold {PREVIOUS_THRESHOLD:g} (the figure reported before the "
          f"split; includes the validation lines): precision {fp:.3f} recall {fr:.3f} F1 {ff1:.3f}")
    print(json.dumps({"precision": round(p, 4), "recall": round(r, 4), "f1": round(f1, 4), "threshold": threshold,
                      "selected_on": "validation" if args.threshold is None else "fixed",
                      "f1_previous_threshold_test": round(pf1, 4), "level_precision": round(lp, 4),
                      "level_recall": round(lr, 4), "level_f1": round(lf1, 4),
                      "f1_previous_all_lines": round(ff1, 4), "chunk": args.chunk, "val_share": args.val_share}))


if __name__ == "__main__":
    main()

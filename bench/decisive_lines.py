"""Precision and recall of decisive-line reading on a labelled set: rules alone, meaning alone, both.

The set (``bench/decisive_lines_data/lines.tsv``, written for Sherlog; see its SOURCE.md) holds log lines
labelled with the cause kind they name and ordinary lines labelled ``none``. A prediction is right when
its kind equals the label; a prediction on an ordinary line is a false positive.

Meaning matching reads only lines whose words say something went wrong (``semantic.is_errorish``), as
the detector does. The semantic thresholds (similarity floor, margin over the second kind) are chosen on the even rows
(the tuning half) by F0.5 (precision weighs more: a wrong cause costs more than a missed one) and
reported on the odd rows (held out) and on all rows, next to the values ``detectors/logs/semantic.py``
ships. The time to read ``MAX_LINES`` (64) new lines once the model is loaded is printed too.

    HF_HUB_OFFLINE=1 .venv/bin/python -m bench.decisive_lines [--data PATH] [--no-grid] [--write-vectors]

``--write-vectors`` refreshes the descriptions' stored vectors after ``semantic_kinds.py`` changes (a
process whose model signature or descriptions differ from the stored ones embeds them itself).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from detectors.logs import semantic
from detectors.logs.decisive import classify_line
from detectors.logs.semantic import MAX_LINES, SemanticMatcher, is_errorish, semantic_text

DATA = Path(__file__).parent / "decisive_lines_data" / "lines.tsv"


def load(path: Path) -> list[tuple[str, str]]:
    rows = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        if raw.strip():
            kind, line = raw.split("\t", 1)
            rows.append((kind, line))
    return rows


def score(labels: list[str], predicted: list[str | None]) -> tuple[float, float, int]:
    made = [(y, p) for y, p in zip(labels, predicted, strict=True) if p is not None]
    right = sum(1 for y, p in made if y == p)
    positives = sum(1 for y in labels if y != "none")
    precision = right / len(made) if made else 0.0
    recall = right / positives if positives else 0.0
    return precision, recall, len(made)


def f_beta(p: float, r: float, beta: float = 0.5) -> float:
    return (1 + beta**2) * p * r / (beta**2 * p + r) if p + r else 0.0


def semantic_predictions(matcher: SemanticMatcher, table: np.ndarray, floor: float, margin: float,
                         gate: list[bool]) -> list[str | None]:
    """The matcher's kind per line, for lines the error gate lets through (as the detector does)."""
    matcher.floor, matcher.margin = floor, margin
    out: list[str | None] = []
    for row, passes in zip(table, gate, strict=True):
        found = matcher._decide(row) if passes else None
        out.append(found.kind if found is not None else None)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--no-grid", action="store_true", help="only the shipped thresholds")
    parser.add_argument("--write-vectors", action="store_true",
                        help="store the kind descriptions' vectors in detectors/logs/semantic_vectors.npz and stop")
    args = parser.parse_args()

    from retrieval.embedder import get_embedder

    if args.write_vectors:
        print(f"wrote {semantic.write_description_vectors(get_embedder())}")
        return

    rows = load(args.data)
    labels = [k for k, _ in rows]
    lines = [line for _, line in rows]
    print(f"{len(rows)} lines: {sum(1 for k in labels if k != 'none')} name a cause, "
          f"{sum(1 for k in labels if k == 'none')} ordinary, {len(set(labels) - {'none'})} kinds")

    started = time.perf_counter()
    encoder = get_embedder()
    matcher = SemanticMatcher(encoder)
    print(f"model and kind descriptions ready in {time.perf_counter() - started:.1f} s")

    rule_pred = []
    for line in lines:
        found = classify_line(line)
        rule_pred.append(found.kind if found is not None else None)
    table = matcher.kind_similarities([semantic_text(line) for line in lines])
    gate = [is_errorish(line) for line in lines]

    halves = {"tune (even rows)": range(0, len(rows), 2), "held out (odd rows)": range(1, len(rows), 2),
              "all": range(len(rows))}
    choices = [(semantic.FLOOR, semantic.MARGIN, "shipped")]
    if not args.no_grid:
        tune = list(halves["tune (even rows)"])
        best = None
        for floor in np.arange(0.30, 0.71, 0.025):
            for margin in np.arange(0.0, 0.101, 0.01):
                pred = semantic_predictions(matcher, table[tune], float(floor), float(margin), [gate[i] for i in tune])
                p, r, _ = score([labels[i] for i in tune], pred)
                key = f_beta(p, r)
                if best is None or key > best[0]:
                    best = (key, float(floor), float(margin))
        assert best is not None
        choices.append((round(best[1], 3), round(best[2], 3), "best F0.5 on the tuning half"))

    print(f"\n{'thresholds':<44} {'rows':<20} {'method':<14} {'precision':>9} {'recall':>7} {'made':>5}")
    for floor, margin, name in choices:
        sem_all = semantic_predictions(matcher, table, floor, margin, gate)
        both_all = [r if r is not None else s for r, s in zip(rule_pred, sem_all, strict=True)]
        for half, idx in halves.items():
            idx = list(idx)
            y = [labels[i] for i in idx]
            for method, pred in (("rules", rule_pred), ("semantic", sem_all), ("both", both_all)):
                p, r, n = score(y, [pred[i] for i in idx])
                print(f"{f'floor {floor} margin {margin} ({name})':<44} {half:<20} {method:<14} {p:>9.3f} {r:>7.3f} {n:>5}")

    fresh = [f"{line} (variant {i})" for i, line in enumerate(lines[:MAX_LINES])]
    started = time.perf_counter()
    matcher.best([semantic_text(x) for x in fresh])
    print(f"\nreading {MAX_LINES} new lines by meaning: {1000 * (time.perf_counter() - started):.0f} ms "
          f"(model loaded, one thread)")


if __name__ == "__main__":
    main()

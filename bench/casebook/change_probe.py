"""How Sherlog weighs changes on the casebook's dev cases (odd numbers only; test cases are never opened).

Two errors, measured apart:

- **change missed**: the truth is a change kind (``bad_deploy``, ``config_change``, ``feature_flag``) and the first
  answer is not it (the change's symptom won, or another change kind, or another service);
- **red herring taken**: the reasoning saw a change that is *not* the truth (another service's, or a change kind
  that is not the truth's) and the first answer names that change.

For each dev case the probe lists the changes the reasoning saw (service, kind, minutes before the first anomaly),
the truth and the top three answers::

    .venv/bin/python -m bench.casebook.change_probe [--cases DIR] [--all]

``--all`` lists every case with a change; by default only the two errors and a summary are printed.
``--herring`` also scores a copy of each dev case with one red herring added to its change log: a deploy of the
alerted service (another service when the alerted one is the truth) five minutes before the first anomaly, as a
busy team ships all day. A first answer that was right and turns to that deploy is a red herring taken.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.casebook import CASES_DIR, read_case_labels

CHANGE_KINDS = ("bad_deploy", "config_change", "feature_flag")
_NUMBER = re.compile(r"^[a-z0-9]+-(\d+)-")


def dev_cases(root: Path) -> list[Path]:
    """The odd-numbered case folders (the dev split), by their folder name before any file is opened."""
    out = []
    for path in sorted(root.iterdir()):
        match = _NUMBER.match(path.name)
        if path.is_dir() and match and int(match.group(1)) % 2 == 1:
            out.append(path)
    return out


def probe(bundles: list[Path]) -> list[dict[str, Any]]:
    from bot.pipeline import Pipeline
    from bot.pipeline.bundle import load_bundle
    from bot.reasoning import features
    from config.settings import load_settings

    seen: list[Any] = []
    original = features._Scene.__init__

    def recording(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        seen.append(self)

    features._Scene.__init__ = recording  # type: ignore[method-assign]
    settings = load_settings(data_dir=Path(tempfile.mkdtemp(prefix="sherlog-probe-")) / ".sherlog",
                             retrieval={"backend": "memory"})
    pipeline = Pipeline(settings=settings)
    rows = []
    try:
        for path in bundles:
            split, _source = read_case_labels(path)
            if split != "dev":
                continue
            context, report = load_bundle(path)
            if report.truth is None:
                continue
            seen.clear()
            analysis = pipeline.analyze_context(context, lacked=report.lacked)
            scene = seen[-1] if seen else None
            changes = []
            if scene is not None:
                for change in scene.changes:
                    lead = scene.change_lead(change)
                    changes.append((change.service, change.kind, None if lead is None else round(lead, 1),
                                    (change.evidence.summary or "")[:110]))
            truth = (report.truth.root_cause_service, str(report.truth.root_cause_kind))
            top = [(h.service, h.kind, round(h.confidence, 2)) for h in analysis.hypotheses[:3]]
            herring = None
            if scene is not None and scene.first_onset is not None:
                pick = scene.alert_service if scene.alert_service != truth[0] else next(
                    (s for s in sorted(scene.topology) if s != truth[0]), None)
                if pick:
                    herring = (pick, (scene.first_onset.timestamp() - 300))
            rows.append({"case": path.name, "truth": truth, "top": top, "changes": changes, "herring": herring})
    finally:
        features._Scene.__init__ = original  # type: ignore[method-assign]
    return rows


def classify(row: dict[str, Any]) -> tuple[bool, bool, bool]:
    """(change case, change missed, red herring taken)."""
    truth_svc, truth_kind = row["truth"]
    first = row["top"][0] if row["top"] else ("", "", 0.0)
    is_change_case = truth_kind in CHANGE_KINDS
    missed = is_change_case and (first[0], first[1]) != (truth_svc, truth_kind)
    herrings = {(s, k) for s, k, _lead, _text in row["changes"] if (s, k) != (truth_svc, truth_kind)}
    taken = first[1] in CHANGE_KINDS and (first[0], first[1]) in herrings
    return is_change_case, missed, taken


def with_herrings(rows: list[dict[str, Any]], cases: Path, out: Path) -> list[Path]:
    """Copies of the rows' cases, each with one deploy of ``row["herring"]`` added to its ``events.jsonl``."""
    from datetime import UTC, datetime

    made = []
    for row in rows:
        if not row["herring"]:
            continue
        service, when = row["herring"]
        dest = out / row["case"]
        shutil.copytree(cases / row["case"], dest)
        ts = datetime.fromtimestamp(when, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        event = {"ts": ts, "kind": "deploy", "service": service, "text": f"{service} 9.14.2 rolled out"}
        with (dest / "events.jsonl").open("a", encoding="utf-8") as fh:
            fh.write("\n" + json.dumps(event) + "\n")
        made.append(dest)
    return made


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=Path, default=CASES_DIR)
    parser.add_argument("--all", action="store_true", help="list every dev case that has a change")
    parser.add_argument("--herring", action="store_true", help="also score copies with a red-herring deploy added")
    args = parser.parse_args(argv)
    rows = probe(dev_cases(args.cases))
    if args.herring:
        right = {r["case"] for r in rows if r["top"] and (r["top"][0][0], r["top"][0][1]) == tuple(r["truth"])}
        with tempfile.TemporaryDirectory(prefix="sherlog-herring-") as tmp:
            herrings = {r["case"]: r["herring"] for r in rows}
            again = probe(with_herrings(rows, args.cases, Path(tmp)))
        flipped = [r for r in again if r["case"] in right and r["top"]
                   and (r["top"][0][0], r["top"][0][1]) != tuple(r["truth"])]
        taken = [r for r in flipped if r["top"][0][0] == herrings[r["case"]][0] and r["top"][0][1] in CHANGE_KINDS]
        for r in flipped:
            label = "HERRING TAKEN" if r in taken else "flipped"
            print(f"{label:18} {r['case']}  truth {r['truth'][0]}/{r['truth'][1]}  herring {herrings[r['case']][0]}"
                  f"  top: " + "; ".join(f"{s}/{k} {c}" for s, k, c in r["top"]))
        print(f"red-herring deploy added to {len(again)} dev cases; of {len(right)} right before, "
              f"{len(flipped)} flipped, {len(taken)} to the herring")
    n_change = n_missed = n_herring_cases = n_taken = 0
    for row in rows:
        is_change_case, missed, taken = classify(row)
        has_herring = any((s, k) != tuple(row["truth"]) for s, k, _l, _t in row["changes"])
        n_change += is_change_case
        n_missed += missed
        n_herring_cases += has_herring
        n_taken += taken
        if missed or taken or (args.all and row["changes"]):
            label = "CHANGE MISSED" if missed else "RED HERRING TAKEN" if taken else "ok"
            print(f"{label:18} {row['case']}  truth {row['truth'][0]}/{row['truth'][1]}")
            print(f"{'':18} top: " + "; ".join(f"{s}/{k} {c}" for s, k, c in row["top"]))
            for s, k, lead, text in row["changes"]:
                print(f"{'':18}   change {s}/{k} lead {lead} min: {text}")
    print(f"\ndev cases {len(rows)}; truth a change kind: {n_change}, missed {n_missed}; "
          f"with a change that is not the truth: {n_herring_cases}, taken {n_taken}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

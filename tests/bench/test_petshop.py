"""bench.petshop: the shipped-path figure ranks a real analysis' hypotheses, on a small dataset written
in PetShop's own file layout (a call chain whose deepest service slows down first)."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from bench.petshop import HISTORY_GAP_STEPS, Issue, Table, alert_payload, baseline_of, main, with_history

T0 = 1_700_000_000.0
STEP = 300.0
COLUMNS = [("web", "latency", "p99"), ("api", "latency", "p99"), ("search", "latency", "p99"),
           ("search", "latency", "Average"), ("sqs", "requests", "Sum")]
GRAPH = {"web": ["api"], "api": ["search"], "search": [], "sqs": []}


def _rows(n: int, seed: int, *, start: float, fault_at: int | None = None) -> list[list[float]]:
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        web, api, search, avg, sqs = 0.15, 0.10, 0.02, 0.015, 500.0
        if fault_at is not None and i >= fault_at:
            search, avg, sqs = search + 1.0, avg + 0.9, sqs * 3  # search slows down; its callers wait on it
            if i > fault_at:
                api, web = api + 1.0, web + 1.0
        vals = [web, api, search, avg, sqs]
        rows.append([start + STEP * i] + [v * (1 + rng.normal(0, 0.03)) for v in vals])
    return rows


def _write_metrics(path: Path, rows: list[list[float]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["microservice"] + [c[0] for c in COLUMNS])
        w.writerow(["metric"] + [c[1] for c in COLUMNS])
        w.writerow(["statistic"] + [c[2] for c in COLUMNS])
        w.writerow(["unix_timestamp"] + [""] * len(COLUMNS))
        w.writerows(rows)


def _dataset(root: Path) -> Path:
    data = root / "dataset"
    scen = data / "low_traffic"
    names = sorted(GRAPH)
    scen.mkdir(parents=True)
    with (scen / "graph.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow([""] + names)
        for n in names:
            w.writerow([n] + [1.0 if m in GRAPH[n] else 0.0 for m in names])
    _write_metrics(scen / "noissue" / "metrics.csv", _rows(200, 1, start=T0))
    for split, count in (("train", 1), ("test", 2)):
        for k in range(count):
            start = T0 + 100_000 * (k + 1) + (0 if split == "train" else 500_000)
            _write_metrics(scen / split / f"issue_{k}" / "metrics.csv", _rows(5, 10 + k, start=start, fault_at=2))
            target = {"target": {"node": "web", "metric": "latency", "timestamp": start + 2 * STEP + 60},
                      "root_cause": {"node": "search", "metric": None}}
            (scen / split / f"issue_{k}" / "target.json").write_text(json.dumps(target))
    return data


def test_with_history_puts_normal_operation_before_the_window() -> None:
    ts = [datetime.fromtimestamp(T0 + STEP * i, tz=UTC) for i in range(3)]
    table = Table(ts, [("web", "latency_p99")], np.array([[1.0], [2.0], [3.0]]))
    issue = Issue("s", "test", "issue_0", table, ts[1], "latency", "web", "web")
    base = {("web", "latency_p99", ()): np.array([0.5, np.nan, 0.6, 0.7])}
    full = with_history(issue, base)[0]
    assert full.values == [0.5, 0.6, 0.7, 1.0, 2.0, 3.0]
    # the history is another period: it ends HISTORY_GAP_STEPS steps before the window, not at its seam
    gap = HISTORY_GAP_STEPS * STEP
    assert [t.timestamp() for t in full.timestamps[:3]] == [T0 - gap - 2 * STEP, T0 - gap - STEP, T0 - gap]
    assert full.timestamps[3].timestamp() == T0
    assert with_history(issue, base, 1)[0].values == [0.7, 1.0, 2.0, 3.0]
    payload = alert_payload(issue)
    assert payload["service"] == "web" and payload["labels"] == {"metric": "latency"}
    assert baseline_of([table])[("web", "latency_p99", ())].tolist() == [1.0, 2.0, 3.0]


def test_the_headline_has_the_shipped_path_figures(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--data", str(_dataset(tmp_path))]) == 0
    out = capsys.readouterr().out
    line = json.loads(out.strip().splitlines()[-1])
    assert line["test_ac1"] == 1.0
    # the real analysis blames the slowed-down dependency, not the alerting front or the traffic jump
    assert line["test_analysis_ac1"] == 1.0 and line["test_analysis_ac3"] == 1.0
    assert "test_detector_ac1" in line and "train_analysis_ac1" in line
    assert "temporal_traffic1: not in" in out
    assert "Pipeline.analyze_context" in out


def test_without_analysis_no_shipped_path_figure(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--data", str(_dataset(tmp_path)), "--no-analysis"]) == 0
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert "test_analysis_ac1" not in line and line["test_ac1"] == 1.0

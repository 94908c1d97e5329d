"""``sherlog metrics score`` and ``sherlog predict`` through typer's runner."""

from __future__ import annotations

import json
import os
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import typer
from typer.testing import CliRunner

from bot.cli.metrics import app as metrics_app
from bot.cli.metrics import predict
from detectors.metrics.online import OnlineParams, score_series

runner = CliRunner()
T0 = datetime(2026, 5, 1, tzinfo=UTC)


def _cli() -> typer.Typer:
    root = typer.Typer()
    root.add_typer(metrics_app, name="metrics")
    root.command("predict")(predict)
    return root


def _write(path: Path, values: list[float], step_min: int = 5) -> Path:
    rows = ["timestamp,value"] + [
        f"{(T0 + timedelta(minutes=step_min * i)).isoformat()},{v}" for i, v in enumerate(values)
    ]
    path.write_text("\n".join(rows) + "\n")
    return path


def test_score_json_streams_one_causal_object_per_row(tmp_path: Path) -> None:
    y = 10 + np.random.default_rng(0).normal(0, 0.5, 400)
    y[300] = 40
    f = _write(tmp_path / "latency.csv", [float(v) for v in y])
    res = runner.invoke(_cli(), ["metrics", "score", str(f), "--json"])
    assert res.exit_code == 0, res.output
    rows = [json.loads(line) for line in res.output.splitlines()]
    assert len(rows) == 400 and set(rows[0]) == {"timestamp", "value", "score"}
    scores = np.array([r["score"] for r in rows])
    assert int(np.argmax(scores)) == 300 and scores[300] > 0.9
    ts = np.array([(T0 + timedelta(minutes=5 * i)).timestamp() for i in range(400)])
    assert np.allclose(scores, np.round(score_series(y, timestamps=ts), 6))


def test_score_nab_profile_stops_flagging_a_daily_job_but_flags_a_new_spike(tmp_path: Path) -> None:
    n, period = 288 * 6, 288  # six days of 5-minute points; a job spikes at 02:00 every day
    y = 10 + np.random.default_rng(1).normal(0, 0.3, n)
    for day in range(6):
        y[day * period + 24 : day * period + 27] += 15
    y[5 * period + 150] += 40  # one spike at a new time of day on the last day
    f = _write(tmp_path / "cpu.csv", [float(v) for v in y])
    res = runner.invoke(_cli(), ["metrics", "score", str(f), "--json", "--profile", "nab"])
    assert res.exit_code == 0, res.output
    scores = np.array([json.loads(line)["score"] for line in res.output.splitlines()])
    ts = np.array([(T0 + timedelta(minutes=5 * i)).timestamp() for i in range(n)])
    assert np.allclose(scores, np.round(score_series(y, timestamps=ts, params=OnlineParams.nab()), 6))
    late_jobs = [d * period + k for d in (3, 4, 5) for k in range(24, 27)]
    assert scores[late_jobs].max() < 0.995 <= scores[5 * period + 150]
    no_range = OnlineParams(**{**OnlineParams.nab().__dict__, "season_slack": 0.0})
    assert (
        score_series(y, timestamps=ts, params=no_range)[late_jobs].max() >= 0.995
    )  # what the range prevents
    bad = runner.invoke(_cli(), ["metrics", "score", str(f), "--profile", "nba"])
    assert bad.exit_code == 2 and "--profile" in bad.output


def test_score_bad_file_is_one_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("when,what\n1,2\n")
    res = runner.invoke(_cli(), ["metrics", "score", str(bad)])
    assert res.exit_code == 2 and "timestamp,value" in res.output
    res = runner.invoke(_cli(), ["metrics", "score", str(tmp_path / "missing.csv")])
    assert res.exit_code == 2 and "cannot read" in res.output


def test_a_file_scores_like_the_stream_and_a_bad_row_keeps_the_rows_before_it(tmp_path: Path) -> None:
    y = 10 + np.random.default_rng(2).normal(0, 0.5, 700)
    y[500:505] += 6
    f = _write(tmp_path / "q.csv", [float(v) for v in y])
    whole = runner.invoke(_cli(), ["metrics", "score", str(f), "--json", "--profile", "gated"])
    piped = runner.invoke(
        _cli(), ["metrics", "score", "-", "--json", "--profile", "gated"], input=f.read_text()
    )
    assert whole.exit_code == 0 == piped.exit_code and len(whole.output.splitlines()) == 700
    assert whole.output == piped.output  # the file is scored at once, stdin row by row: same numbers
    fifo = tmp_path / "live.fifo"  # a pipe may never end: scored row by row, same numbers
    os.mkfifo(fifo)
    writer = threading.Thread(target=lambda: fifo.write_text(f.read_text()))
    writer.start()
    live = runner.invoke(_cli(), ["metrics", "score", str(fifo), "--json", "--profile", "gated"])
    writer.join(timeout=30)
    assert live.exit_code == 0 and live.output == whole.output
    lines = f.read_text().splitlines()
    lines[301] = lines[301].split(",")[0] + ",not-a-number"  # data row 301 (file line 302)
    f.write_text("\n".join(lines) + "\n")
    cut = runner.invoke(_cli(), ["metrics", "score", str(f), "--json", "--profile", "gated"])
    assert cut.exit_code == 2 and ":302:" in cut.output
    printed = [line for line in cut.output.splitlines() if line.startswith("{")]
    assert printed == whole.output.splitlines()[:300]


def test_predict_warns_on_a_filling_disk_before_it_is_full(tmp_path: Path) -> None:
    # 0.50 -> 0.80 over 10 hours at 1-minute points: full at hour ~16.7
    n = 600
    y = 0.5 + 0.03 * np.arange(n) / 60 + np.random.default_rng(1).normal(0, 0.002, n)
    f = _write(tmp_path / "disk_used_ratio.csv", [float(v) for v in y], step_min=1)
    res = runner.invoke(_cli(), ["predict", str(f), "--service", "db-1", "--json"])
    assert res.exit_code == 0, res.output
    (w,) = [json.loads(line) for line in res.output.splitlines()]
    assert w["kind"] == "disk_full" and w["service"] == "db-1"
    eta = datetime.fromisoformat(w["eta"])
    full = T0 + timedelta(hours=0.5 / 0.03)
    assert abs((eta - full).total_seconds()) < 1800
    assert datetime.fromisoformat(w["eta_early"]) <= full <= datetime.fromisoformat(w["eta_late"])
    quiet = runner.invoke(_cli(), ["predict", str(f), "--horizon-hours", "2"])
    assert quiet.exit_code == 0 and "no limit is due" in quiet.output


def test_predict_without_file_or_watches_says_what_to_configure() -> None:
    res = runner.invoke(_cli(), ["predict"])
    assert res.exit_code == 2 and "prediction.watches" in res.output

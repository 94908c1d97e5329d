"""The `sherlog simulate` and `sherlog gameday` sub-apps, through typer's runner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli.gameday import app as gameday_app
from bot.cli.simulate import app as simulate_app

runner = CliRunner()


def test_simulate_bundle_list_validate_history(tmp_path: Path) -> None:
    result = runner.invoke(simulate_app, ["bundle", "--kind", "disk_full", "--out", str(tmp_path / "b"),
                                          "--seed", "4", "--difficulty", "easy", "--vendor", "opsgenie"])
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "b" / "truth.json").read_text())["root_cause_kind"] == "disk_full"
    assert runner.invoke(simulate_app, ["validate", str(tmp_path / "b")]).exit_code == 0
    (tmp_path / "b" / "truth.json").write_text("{}")
    assert runner.invoke(simulate_app, ["validate", str(tmp_path / "b")]).exit_code == 1
    listing = runner.invoke(simulate_app, ["list"], env={"COLUMNS": "200"})
    assert "db_connection_exhaustion" in listing.output and "hardware_error" in listing.output
    hist = runner.invoke(simulate_app, ["history", "--out", str(tmp_path / "h"), "--n", "5"])
    assert hist.exit_code == 0 and len(list((tmp_path / "h" / "incidents").glob("*.md"))) == 5


def test_simulate_bad_kind_is_one_clear_error(tmp_path: Path) -> None:
    result = runner.invoke(simulate_app, ["bundle", "--kind", "gremlins", "--out", str(tmp_path / "x")])
    assert result.exit_code == 2 and "unknown fault kind" in result.output


def test_simulate_dataset_only_test_without_history(tmp_path: Path) -> None:
    result = runner.invoke(simulate_app, ["dataset", "--n", "8", "--seed", "1", "--out", str(tmp_path / "ds"),
                                          "--only", "test", "--no-history", "--test-fraction", "0.5"])
    assert result.exit_code == 0, result.output
    tests = list((tmp_path / "ds" / "test").iterdir())
    assert tests and not (tmp_path / "ds" / "train").exists()
    assert all(not (p / "history").exists() for p in tests)


def test_gameday_cli_dry_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHERLOG__DATA_DIR", str(tmp_path / "data"))
    started = runner.invoke(gameday_app, ["start", "oom_kill:cart", "--channel", "#drill", "--dry-run"])
    assert started.exit_code == 0, started.output
    assert "GAME DAY" in started.output
    status = runner.invoke(gameday_app, ["status", "--channel", "#drill"])
    assert json.loads(status.output)["status"] == "running"
    wrong = runner.invoke(gameday_app, ["diagnose", "redis", "disk_full", "--channel", "#drill", "--dry-run"])
    assert '"correct": false' in wrong.output
    ended = runner.invoke(gameday_app, ["end", "--channel", "#drill", "--dry-run"])
    assert ended.exit_code == 0 and "oom_kill" in ended.output
    again = runner.invoke(gameday_app, ["end", "--channel", "#drill", "--dry-run"])
    assert again.exit_code == 2 and "no game day is running" in again.output

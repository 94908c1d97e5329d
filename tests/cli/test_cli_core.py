"""The ``sherlog`` CLI: analyze, eval and error handling, through typer's runner."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from bot.cli.main import app
from bot.domain import ALL_KINDS

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "bundles"
runner = CliRunner()


def _json(output: str) -> dict:  # type: ignore[type-arg]
    return json.loads(output.strip().splitlines()[-1])


def test_analyze_handwritten_bundle_json(tmp_path: Path) -> None:
    result = runner.invoke(app, ["analyze", str(FIXTURES / "inventory-disk"), "--json", "--no-index"])
    assert result.exit_code == 0, result.output
    out = _json(result.stdout)
    assert set(out) >= {"incident", "category", "hypotheses", "recommendations", "similar_incidents", "summary"}
    hyps = out["hypotheses"]
    assert hyps and all(h["kind"] in ALL_KINDS for h in hyps)
    assert [h["rank"] for h in hyps] == list(range(1, len(hyps) + 1))
    assert sum(h["confidence"] for h in hyps) <= 1.0 + 1e-6
    assert all(h["evidence"] for h in hyps[:1])
    # the disk on inventory filled up: the evidence says so, the fixture's alert fired on frontend
    assert (hyps[0]["service"], hyps[0]["kind"]) == ("inventory", "disk_full")
    assert out["category"]["label"] == "storage"
    assert any(s["id"] == "INC-1042" for s in out["similar_incidents"])
    assert any("runbooks/disk-full" in (r.get("url") or "") for r in out["recommendations"])


def test_analyze_report_is_readable() -> None:
    result = runner.invoke(app, ["analyze", str(FIXTURES / "inventory-disk"), "--no-index"])
    assert result.exit_code == 0, result.output
    assert "Likely root causes" in result.stdout and "disk_full" in result.stdout


def test_analyze_bad_bundle_is_one_clear_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["analyze", str(tmp_path)])
    assert result.exit_code == 2
    assert "alert.json is missing" in result.output
    assert "Traceback" not in result.output


def test_eval_scores_bundles_with_truth(tmp_path: Path) -> None:
    result = runner.invoke(app, ["eval", str(FIXTURES), "--json"])
    assert result.exit_code == 0, result.output
    out = _json(result.stdout)
    assert out["cases"] >= 1
    assert set(out) >= {"cases", "top1", "top3", "category_accuracy", "p50_ms", "p95_ms"}
    assert 0.0 <= out["top1"] <= out["top3"] <= 1.0
    assert out["per_kind"]["disk_full"]["cases"] == 1


def test_every_command_has_help() -> None:
    for args in (["--help"], ["analyze", "--help"], ["eval", "--help"], ["serve", "--help"], ["demo", "--help"],
                 ["config", "check", "--help"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 0, (args, result.output)
        assert "Usage" in result.output

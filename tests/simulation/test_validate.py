"""The bundle validator finds what is wrong, and accepts what the simulator writes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from bot.simulation import validate_bundle


def _copy(bundle: Path, tmp_path: Path) -> Path:
    target = tmp_path / "copy"
    shutil.copytree(bundle, target)
    return target


def test_a_generated_bundle_is_valid(demo_bundle: Path) -> None:
    assert validate_bundle(demo_bundle) == []


def test_missing_or_broken_alert_is_reported(demo_bundle: Path, tmp_path: Path) -> None:
    bundle = _copy(demo_bundle, tmp_path)
    (bundle / "alert.json").unlink()
    assert any("alert.json is missing" in p for p in validate_bundle(bundle))
    (bundle / "alert.json").write_text("{not json")
    assert any("not valid JSON" in p for p in validate_bundle(bundle))
    (bundle / "alert.json").write_text(json.dumps({"version": "4", "status": "firing", "alerts": [{"labels": {}}]}))
    problems = validate_bundle(bundle)
    assert any("lacks 'receiver'" in p for p in problems)
    assert any("alerts[0] lacks 'startsAt'" in p for p in problems)


def test_bad_metrics_and_events_are_reported(demo_bundle: Path, tmp_path: Path) -> None:
    bundle = _copy(demo_bundle, tmp_path)
    (bundle / "metrics" / "checkout.error_rate.csv").write_text("time,val\n1,2\n")
    (bundle / "metrics" / "cart.error_rate.csv").write_text(
        "timestamp,value\n2026-01-01T00:02:00Z,0.1\n2026-01-01T00:01:00Z,0.2\n")
    (bundle / "metrics" / "badname.csv").write_text("timestamp,value\n")
    with (bundle / "events.jsonl").open("a") as fh:
        fh.write('{"ts": "yesterday", "kind": "deploy", "service": "x", "text": ""}\n{"kind": "deploy"}\n')
    problems = validate_bundle(bundle)
    assert any("checkout.error_rate.csv: header" in p for p in problems)
    assert any("cart.error_rate.csv:3: timestamps must increase" in p for p in problems)
    assert any("badname.csv: expected" in p for p in problems)
    assert any("is not ISO-8601" in p for p in problems)
    assert any("lacks ts, service, text" in p for p in problems)


def test_truth_and_history_must_speak_the_vocabulary(demo_bundle: Path, tmp_path: Path) -> None:
    bundle = _copy(demo_bundle, tmp_path)
    truth = json.loads((bundle / "truth.json").read_text())
    truth.update(root_cause_kind="db_connection_exhaustion", category="network", root_cause_service="ghost")
    (bundle / "truth.json").write_text(json.dumps(truth))
    incident = next((bundle / "history" / "incidents").glob("*.md"))
    incident.write_text(incident.read_text().replace("root_cause_kind:", "root_cause_kind: gremlins\nold_kind:", 1))
    runbook = next((bundle / "history" / "runbooks").glob("*.md"))
    runbook.write_text("# no front matter\n")
    problems = validate_bundle(bundle)
    assert any("does not match kind" in p for p in problems)
    assert any("'ghost' appears nowhere" in p for p in problems)
    assert any("root_cause_kind 'gremlins' is not in the vocabulary" in p for p in problems)
    assert any("no YAML front matter" in p for p in problems)


def test_only_alert_json_is_required(tmp_path: Path) -> None:
    (tmp_path / "alert.json").write_text(json.dumps({"title": "disk full", "service": "db"}))
    assert validate_bundle(tmp_path) == []
    assert validate_bundle(tmp_path / "nope") == [f"{tmp_path / 'nope'} is not a folder"]

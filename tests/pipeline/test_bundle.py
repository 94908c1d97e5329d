"""Reading evidence bundles that Sherlog did not write (hand-written, per ARCHITECTURE.md)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bot.domain import BundleError, DocumentType
from bot.pipeline import load_bundle

BUNDLE = Path(__file__).resolve().parents[1] / "fixtures" / "bundles" / "inventory-disk"


def test_reads_every_part_of_a_handwritten_bundle() -> None:
    context, report = load_bundle(BUNDLE)
    assert context.incident.alerts[0].name == "FrontendHighErrorRate"
    assert context.incident.service == "frontend"
    assert set(context.logs) == {"frontend", "orders", "inventory", "search", "payments"}
    assert {(s.service, s.metric) for s in context.metrics} >= {("inventory", "disk_used_ratio")}
    assert len(context.events) == 2 and context.events[0].ts < context.events[1].ts
    assert context.topology["orders"] == ["inventory", "payments"]
    kinds = {d.type for d in context.history}
    assert kinds == {DocumentType.INCIDENT, DocumentType.RUNBOOK}
    assert report.truth is not None and report.truth.root_cause_kind == "disk_full"
    assert report.lacked == [] and report.problems == []


def test_only_alert_json_is_required(tmp_path: Path) -> None:
    shutil.copy(BUNDLE / "alert.json", tmp_path / "alert.json")
    context, report = load_bundle(tmp_path)
    assert context.incident.alerts
    assert report.lacked == ["logs", "metrics", "events", "topology"]


def test_missing_alert_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(BundleError, match="alert.json is missing"):
        load_bundle(tmp_path)


def test_malformed_parts_are_reported_and_skipped(tmp_path: Path) -> None:
    shutil.copy(BUNDLE / "alert.json", tmp_path / "alert.json")
    (tmp_path / "metrics").mkdir()
    (tmp_path / "metrics" / "api.latency.csv").write_text("time,val\n1,2\n")
    (tmp_path / "events.jsonl").write_text('{"ts": "2026-01-01T00:00:00Z", "kind": "deploy"}\nnot json\n')
    (tmp_path / "topology.json").write_text("[1, 2]")
    context, report = load_bundle(tmp_path)
    assert len(context.events) == 1
    joined = " | ".join(report.problems)
    assert "api.latency.csv" in joined and "events.jsonl:2" in joined and "topology.json" in joined


def test_generic_json_alert_is_accepted(tmp_path: Path) -> None:
    (tmp_path / "alert.json").write_text(json.dumps(
        {"title": "Queue backlog on billing", "service": "billing", "severity": "p2",
         "timestamp": 1767225600}))
    context, _ = load_bundle(tmp_path)
    alert = context.incident.alerts[0]
    assert (alert.source, alert.service, alert.severity.value) == ("generic", "billing", "high")
    assert alert.starts_at.year == 2026


def test_a_pasted_database_log_goes_to_the_topologys_database(tmp_path: Path) -> None:
    (tmp_path / "alert.json").write_text(json.dumps(
        {"title": "Errors on ledger-api", "service": "ledger-api", "severity": "p2", "timestamp": 1767225600}))
    (tmp_path / "topology.json").write_text(json.dumps({"ledger-api": ["ledger-pg", "ledger-redis"]}))
    (tmp_path / "kubernetes").mkdir()
    pg = ["2026-01-01 00:00:01.100 UTC [71] FATAL:  too many connections for role \"ledger\"",
          "2026-01-01 00:00:02.200 UTC [72] FATAL:  too many connections for role \"ledger\""]
    app = ["2026-01-01T00:00:03.000Z ERROR 1 --- [exec-1] c.x.Repo : Connection is not available",
           "2026-01-01T00:00:04.000Z ERROR 1 --- [exec-2] c.x.Repo : Connection is not available"]
    (tmp_path / "kubernetes" / "1.txt").write_text("\n".join(app + pg) + "\n")
    context, _ = load_bundle(tmp_path)
    assert context.logs["ledger-pg"] == pg and context.logs["ledger-api"] == app


@pytest.mark.parametrize(("stem", "owner"), [
    ("git-server-kern", "git-server"),
    ("lhr-ad1-bmc", "lhr-ad1"),
    ("web.error", "web"),
    ("db1-syslog", "db1"),
    ("edge-audit", "edge"),
    ("dc1-bms", "dc1"),  # a site's building-management system
    ("atl-tcc-epms", "atl-tcc"),  # a site's electrical power monitoring
])
def test_a_log_named_for_a_component_and_its_kind_is_that_components(tmp_path: Path, stem: str, owner: str) -> None:
    shutil.copy(BUNDLE / "alert.json", tmp_path / "alert.json")
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / f"{stem}.log").write_text("2026-01-01T00:00:00Z kernel: I/O error\n")
    (tmp_path / "topology.json").write_text(json.dumps({"frontend": [owner], owner: []}))
    context, _ = load_bundle(tmp_path)
    assert set(context.logs) == {owner}


@pytest.mark.parametrize(("stems", "topology"), [
    (["edge-audit"], {"frontend": ["edge-audit", "edge"], "edge": [], "edge-audit": []}),  # a component of that name
    (["git-kern"], {"frontend": ["api"], "api": []}),  # no component git
    (["db1-kern", "db1"], {"frontend": ["db1"], "db1": []}),  # db1 has its own log
    (["payments-worker"], {"frontend": ["payments"], "payments": []}),  # no kind of log
])
def test_other_logs_keep_their_names(tmp_path: Path, stems: list[str], topology: dict[str, list[str]]) -> None:
    shutil.copy(BUNDLE / "alert.json", tmp_path / "alert.json")
    (tmp_path / "logs").mkdir()
    for stem in stems:
        (tmp_path / "logs" / f"{stem}.log").write_text("2026-01-01T00:00:00Z hello\n")
    (tmp_path / "topology.json").write_text(json.dumps(topology))
    context, _ = load_bundle(tmp_path)
    assert set(context.logs) == set(stems)

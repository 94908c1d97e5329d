"""Bundles: every kind, the demo scenario, determinism, no name leaks, propagation, red herrings."""

from __future__ import annotations

import csv
import hashlib
import json
import re
from datetime import datetime
from pathlib import Path

import pytest

from bot.domain.errors import InputError
from bot.domain.vocabulary import ALL_KINDS, category_of
from bot.simulation import generate_bundle, validate_bundle
from bot.simulation.scenario import build_scenario
from bot.simulation.validate import detect_vendor


def _series(bundle: Path, service: str, metric: str) -> list[tuple[datetime, float]]:
    with (bundle / "metrics" / f"{service}.{metric}.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    return [(datetime.fromisoformat(r["timestamp"].replace("Z", "+00:00")), float(r["value"])) for r in rows]


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)


def _before_after(bundle: Path, service: str, metric: str) -> tuple[float, float]:
    truth = json.loads((bundle / "truth.json").read_text())
    start = datetime.fromisoformat(truth["fault_start"].replace("Z", "+00:00"))
    points = _series(bundle, service, metric)
    before = [v for t, v in points if (start - t).total_seconds() > 600]
    after = [v for t, v in points if (t - start).total_seconds() > 300]
    return _mean(before), _mean(after)


def _tree_digest(root: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.is_file():
            h.update(str(path.relative_to(root)).encode())
            h.update(path.read_bytes())
    return h.hexdigest()


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_every_kind_writes_a_valid_bundle_with_its_truth(kind: str, tmp_path: Path) -> None:
    path = generate_bundle(tmp_path / kind, kind=kind, seed=3, history=False)
    assert validate_bundle(path) == []
    truth = json.loads((path / "truth.json").read_text())
    assert truth["root_cause_kind"] == kind
    assert truth["category"] == category_of(kind).value
    assert truth["keywords"]
    if truth["field"]["sparse"]:  # the responder saved only the alert and kubectl output
        assert not (path / "topology.json").exists() and list((path / "kubernetes").iterdir())
    else:
        topology = json.loads((path / "topology.json").read_text())
        assert truth["root_cause_service"] in topology
    assert detect_vendor(json.loads((path / "alert.json").read_text())) == truth["vendor"]


def test_demo_scenario_has_the_deploy_the_pool_saturation_and_its_propagation(demo_bundle: Path) -> None:
    truth = json.loads((demo_bundle / "truth.json").read_text())
    assert (truth["root_cause_service"], truth["root_cause_kind"]) == ("checkout", "db_connection_exhaustion")
    fault = datetime.fromisoformat(truth["fault_start"].replace("Z", "+00:00"))
    events = [json.loads(line) for line in (demo_bundle / "events.jsonl").read_text().splitlines()]
    deploys = [e for e in events if e["kind"] == "deploy" and e["service"] == "checkout"]
    assert deploys, "the demo fault follows a deploy of checkout"
    gap = (fault - datetime.fromisoformat(deploys[0]["ts"].replace("Z", "+00:00"))).total_seconds() / 60
    assert 0 < gap < 15
    assert any(e["kind"] == "deploy" and e["service"] != "checkout" for e in events), "an innocent deploy too"
    in_use = _series(demo_bundle, "checkout", "db_connections_in_use")
    assert max(v for _, v in in_use) >= 19 and _mean([v for _, v in in_use[:30]]) < 12
    # symptoms travel to the caller: the gateway's latency rises after the fault
    before, after = _before_after(demo_bundle, "api-gateway", "latency_p95_ms")
    assert after > 1.5 * before
    assert "HikariPool-1 - Connection is not available" in (demo_bundle / "logs" / "checkout.log").read_text()
    gateway = (demo_bundle / "logs" / "api-gateway.log").read_text()
    assert re.search(r'"(GET|POST) /api/checkout[^"]*" 50[234] ', gateway)
    # a similar past incident and the runbook exist
    incidents = "\n".join(p.read_text() for p in (demo_bundle / "history" / "incidents").glob("*.md"))
    assert "root_cause_kind: db_connection_exhaustion" in incidents
    assert (demo_bundle / "history" / "runbooks" / "db-connection-exhaustion.md").is_file()


def test_logs_come_in_several_formats(demo_bundle: Path) -> None:
    logs = {p.stem: p.read_text().splitlines()[0] for p in (demo_bundle / "logs").glob("*.log")}
    formats = set()
    for first in logs.values():
        if first.startswith("{"):
            formats.add("json")
        elif first.startswith("time="):
            formats.add("logfmt")
        elif first.startswith("<") or re.match(r"[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d ", first):
            formats.add("syslog")
        elif re.match(r"[\d.]+ - - \[", first):
            formats.add("nginx")
        elif re.match(r"\d{4}-\d\d-\d\dT\S+ (INFO|WARN|ERROR)", first):
            formats.add("java")
    assert {"json", "logfmt", "syslog", "nginx", "java"} <= formats
    assert "\tat com.zaxxer.hikari" in (demo_bundle / "logs" / "checkout.log").read_text()


def test_file_names_do_not_reveal_the_culprit(tmp_path: Path) -> None:
    """Same world and seed, different culprits and kinds: every component and node has its log and metric files
    whatever the culprit (field evidence may add files, such as a switch's log, but never takes one away)."""
    bundles = [generate_bundle(tmp_path / f"{kind}-{svc}", kind=kind, service=svc, seed=seed, world="shop",
                               history=False)
               for kind, svc, seed in (("memory_leak", "cart", 5), ("bad_deploy", "search", 5),
                                       ("exception_surge", "users", 6), ("cpu_throttling", "catalog", 8))]
    full = [b for b in bundles if not json.loads((b / "truth.json").read_text())["field"]["sparse"]]
    assert len(full) >= 2
    world = build_scenario("memory_leak", service="cart", seed=5, world="shop").world
    expected_logs = {f"{name}.log" for name in [*world.owned(), *world.nodes]}
    per_bundle = []
    for bundle in full:
        names = {p.name for p in (bundle / "logs").iterdir()}
        assert expected_logs <= names
        per_bundle.append({p.name for p in (bundle / "metrics").iterdir()
                           if not p.name.endswith(".replicas_available.csv")})
    assert all(names == per_bundle[0] for names in per_bundle)
    topo = json.loads((full[0] / "topology.json").read_text())
    assert list(topo) == sorted(topo)


def test_same_arguments_write_the_same_bundle(tmp_path: Path) -> None:
    one = generate_bundle(tmp_path / "one", kind="dns_failure", seed=9, difficulty="hard")
    two = generate_bundle(tmp_path / "two", kind="dns_failure", seed=9, difficulty="hard")
    other = generate_bundle(tmp_path / "three", kind="dns_failure", seed=10, difficulty="hard")
    assert _tree_digest(one) == _tree_digest(two)
    assert _tree_digest(one) != _tree_digest(other)


def test_hard_bundles_carry_red_herrings(hard_bundle: Path) -> None:
    truth = json.loads((hard_bundle / "truth.json").read_text())
    culprit = truth["root_cause_service"]
    events = [json.loads(line) for line in (hard_bundle / "events.jsonl").read_text().splitlines()]
    innocent_deploys = [e for e in events if e["kind"] == "deploy" and e["service"] != culprit]
    assert len(innocent_deploys) >= 2
    fault = datetime.fromisoformat(truth["fault_start"].replace("Z", "+00:00"))
    near = [e for e in innocent_deploys
            if abs((datetime.fromisoformat(e["ts"].replace("Z", "+00:00")) - fault).total_seconds()) < 8 * 60]
    assert near, "at 'hard' an unrelated deploy lands next to the fault"
    flapping = [e for e in events if e["kind"] == "alert"]
    assert {e["text"].split()[1] for e in flapping} == {"firing", "resolved"}
    alert = json.loads((hard_bundle / "alert.json").read_text())
    assert len(alert["alerts"]) == 2 and alert["alerts"][0]["labels"]["service"] == truth["alert_service"]
    assert truth["alert_service"] != culprit, "at 'hard' the alert fires on a symptom, not on the culprit"


def test_alert_usually_fires_on_a_symptom_service() -> None:
    by_difficulty = {}
    for difficulty in ("easy", "normal", "hard"):
        scenarios = [build_scenario("thread_pool_exhaustion", service="inventory", seed=s, difficulty=difficulty)
                     for s in range(12)]
        by_difficulty[difficulty] = sum(s.alert_service == "inventory" for s in scenarios)
        assert all(s.alert_service in {"inventory", *s.impacts} for s in scenarios)
    assert by_difficulty["easy"] == 12 and by_difficulty["hard"] == 0
    assert by_difficulty["normal"] < 9


def test_unknown_kind_or_impossible_service_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="unknown fault kind"):
        generate_bundle(tmp_path / "x", kind="gremlins")
    with pytest.raises(InputError, match="candidates"):
        generate_bundle(tmp_path / "y", kind="db_down", service="cart")

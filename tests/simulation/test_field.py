"""Field evidence: each Kubernetes signature renders what kubectl would show, crash tails are complete, the
layer is deterministic, exporter alerts carry exporter labels, and a dataset holds each kind of evidence in
its expected share."""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from pathlib import Path

import pytest

from bot.simulation import generate_bundle, generate_dataset, validate_bundle
from bot.simulation.crashes import TAILS, crash_tail
from bot.simulation.evidence import EvidenceWriter
from bot.simulation.faults import CATALOG
from bot.simulation.field import SHARES, plan_field
from bot.simulation.field_lines import KERNEL
from bot.simulation.k8s_signatures import SIGNATURES, Signature
from bot.simulation.kube_evidence import KubeEvidence, target_of
from bot.simulation.scenario import build_scenario, candidates
from bot.simulation.validate import kube_file_kind
from bot.simulation.world import build_world
from detectors.logs.decisive_rules import RULES

_PLACEHOLDER = re.compile(r"\{[a-z_]+\}")


def _scenario_for(sig: Signature, seed: int = 3):  # type: ignore[no-untyped-def]
    world = build_world("shop")
    for culprit in candidates(CATALOG[sig.kind], world):
        scn = build_scenario(sig.kind, service=culprit, seed=seed, world="shop")
        if target_of(scn) in sig.targets:
            return scn
    raise AssertionError(f"no culprit fits {sig.id}")


@pytest.mark.parametrize("sig", SIGNATURES, ids=lambda s: s.id)
def test_each_signature_renders_kubectl_output_that_says_what_it_is(sig: Signature) -> None:
    scn = _scenario_for(sig)
    writer = EvidenceWriter(scn)
    out = KubeEvidence(scn, writer, random.Random(sig.id), writer.timed_logs()).build(sig)
    assert out.files, "a responder saved at least one kubectl output"
    for name, text in out.files.items():
        kind = kube_file_kind(text)
        if "describe" in name:
            assert kind == "describe" and "Events:" in text or "networkpolicy" in name
        elif "events" in name:
            assert kind == {".yaml": "yaml", ".json": "json"}.get(name[-5:], "events table")
        elif name.endswith((".yaml", ".json")):
            assert kind == name[-4:]
        elif name.startswith(("get-", "kubectl-get")) or ".get-" in name or "get_" in name:
            assert kind == "get table"
        assert not _PLACEHOLDER.search(text), f"{name}: unfilled placeholder"
    rows = " ".join(r["text"] for r in out.event_rows)
    assert {e.reason for e in sig.events} <= {r["text"].split()[1] for r in out.event_rows}
    assert not _PLACEHOLDER.search(rows)
    assert all(r["kind"] == "k8s_event" and r["service"] for r in out.event_rows)
    described = [t for n, t in out.files.items() if "describe" in n and "QoS Class:" in t]
    for text in described:
        if sig.state == "Waiting":
            assert re.search(rf"State:\s+Waiting\n\s+Reason:\s+{sig.reason}\n", text)
        if sig.last:
            assert re.search(rf"Last State:\s+Terminated\n\s+Reason:\s+{sig.last[0]}\n\s+Exit Code:\s+{sig.last[1]}\n",
                             text)
    if sig.tail and sig.tail != "oom_quiet":
        assert out.previous and not _PLACEHOLDER.search("\n".join(out.previous))
    if sig.subject == "caller" and scn.world.callers_of(scn.culprit):
        assert out.subject != scn.culprit
    if sig.subject == "node":
        assert any(t.startswith("Name:") and "Capacity:" in t for t in out.files.values())
    assert out.alert_name == sig.alert[0]
    assert out.alert_labels["service"] in ("kube-prometheus-stack-kube-state-metrics", "kube-state-metrics",
                                           "prometheus-kube-state-metrics", "kube-prometheus-stack-kubelet", "kubelet",
                                           "node-problem-detector", "kube-prometheus-stack-npd")
    named = {"pod": out.alert_labels.get("pod", ""), "deployment": scn.culprit, "statefulset": scn.culprit,
             "node": scn.culprit,
             "persistentvolumeclaim": f"data-{scn.culprit}-0", "horizontalpodautoscaler": scn.culprit}
    assert out.alert_labels[sig.alert[1]] == named[sig.alert[1]]


@pytest.mark.parametrize(("cause", "language"), [(c, lang) for c, table in TAILS.items() for lang in table])
def test_crash_tails_fill_every_value(cause: str, language: str) -> None:
    values = {"ts": "2026-03-03T09:43:57.118Z", "gts": "2026-03-03 09:43:57 +0000", "rts": "03 Mar 2026 09:43:57.118",
              "kts": "2026-03-03 09:43:57,118", "svc": "cart", "dep": "orders-db", "db": "orders-db",
              "host": "ledger.shop.svc.cluster.local:8443", "ip": "10.96.4.20", "var": "DATABASE_URL",
              "prop": "app.datasource.url", "pkg": "github.com/example/cart", "jpkg": "com.example.cart", "mod": "cart",
              "now": "2026-03-03T09:43:57Z", "expiry": "2026-03-02T23:59:59Z",
              "expiry_java": "Mon Mar 02 23:59:59 UTC 2026", "nts": "2026/03/03 09:43:57",
              "ets": "2026-03-03 09:43:57.118"}
    for seed in range(4):
        lines = crash_tail(cause, language if language != "*" else "go", random.Random(seed), values)
        assert not _PLACEHOLDER.search("\n".join(lines)) and "{{" not in "\n".join(lines)


def _digest(root: Path) -> list[tuple[str, bytes]]:
    return [(str(p.relative_to(root)), p.read_bytes()) for p in sorted(root.rglob("*")) if p.is_file()]


def test_field_evidence_is_deterministic_by_seed(tmp_path: Path) -> None:
    args = {"kind": "oom_kill", "service": "cart", "difficulty": "normal", "history": False}
    seeds = [s for s in range(40) if plan_field(build_scenario("oom_kill", service="cart", seed=s))[0].kube == "folder"]
    assert seeds, "some seed renders a kubernetes/ folder"
    one = generate_bundle(tmp_path / "one", seed=seeds[0], **args)  # type: ignore[arg-type]
    two = generate_bundle(tmp_path / "two", seed=seeds[0], **args)  # type: ignore[arg-type]
    assert (one / "kubernetes").is_dir() and _digest(one) == _digest(two)
    other = generate_bundle(tmp_path / "three", seed=seeds[0] + 1000, **args)  # type: ignore[arg-type]
    assert _digest(one) != _digest(other)
    assert validate_bundle(one) == []


def test_an_image_that_never_ran_leaves_no_app_fault_lines(tmp_path: Path) -> None:
    for seed in range(200):
        scn = build_scenario("bad_deploy", service="search", seed=seed, world="shop")
        plan = plan_field(scn)[0]
        if plan.signature == "pull_manifest_unknown" and not plan.sparse and not plan.short_log:
            break
    else:
        raise AssertionError("no seed draws an image-pull failure")
    bundle = generate_bundle(tmp_path / "b", kind="bad_deploy", service="search", seed=seed, world="shop",
                             history=False)
    log = (bundle / "logs" / "search.log").read_text()
    assert "unhandled exception while processing request" not in log
    kube = "\n".join(p.read_text() for p in (bundle / "kubernetes").iterdir()) if (bundle / "kubernetes").is_dir() \
        else (bundle / "events.jsonl").read_text()
    assert "not found" in kube and "ImagePullBackOff" in kube


@pytest.mark.parametrize("kind", ["cpu_throttling", "traffic_spike"])
def test_a_sparse_bundle_only_carries_kubectl_output_that_says_what_failed(kind: str) -> None:
    plans = [plan_field(build_scenario(kind, seed=s))[0] for s in range(80)]
    assert sum(p.kube == "folder" for p in plans) >= 10  # their kubectl output is drawn, only never alone
    assert not [p.signature for p in plans if p.sparse]
    sparse = [p for s in range(60) for p in [plan_field(build_scenario("crash_loop", service="cart", seed=s))[0]]
              if p.sparse]
    assert sparse and all({x.id: x for x in SIGNATURES}[p.signature].tells for p in sparse)


def test_validator_reads_kubernetes_files(tmp_path: Path) -> None:
    seeds = [s for s in range(60) if plan_field(build_scenario("crash_loop", service="cart", seed=s))[0].sparse]
    bundle = generate_bundle(tmp_path / "b", kind="crash_loop", service="cart", seed=seeds[0], history=False)
    assert validate_bundle(bundle) == [] and not (bundle / "logs").exists()
    kube = bundle / "kubernetes"
    (kube / "empty.txt").write_text("\n")
    (kube / "pod.yaml").write_text("apiVersion: v1\nmetadata: {name: x\n")
    (kube / "describe.txt").write_text("Name:  x\nContainers:\n  x:\n")
    (kube / "events.json").write_text('{\n    "kind": "List",\n    "items": [\n')
    (kube / "app.log").write_text('{"level": "error", "msg": "boom"}\n{"level": "info", "msg": "retry"}\n')
    problems = validate_bundle(bundle)
    assert any("empty.txt is empty" in p for p in problems)
    assert any("pod.yaml: not valid YAML" in p for p in problems)
    assert any("describe.txt: a describe without its Events section" in p for p in problems)
    assert any("events.json: not valid JSON" in p for p in problems)
    assert not any("app.log" in p for p in problems), "JSON log lines are container logs, not one JSON document"
    truth = json.loads((bundle / "truth.json").read_text())
    truth["root_cause_service"] = "ghost"
    (bundle / "truth.json").write_text(json.dumps(truth))
    assert any("'ghost' appears nowhere" in p for p in validate_bundle(bundle))


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_dataset(tmp_path_factory.mktemp("field") / "ds", n=60, seed=11, history=False)


def _bundles(root: Path) -> list[Path]:
    return sorted(p.parent for p in root.rglob("truth.json"))


def test_dataset_holds_the_new_evidence_in_its_shares(dataset: Path) -> None:
    bundles = _bundles(dataset)
    assert len(bundles) == 60
    plans = {b: json.loads((b / "truth.json").read_text())["field"] for b in bundles}
    count = Counter()
    for b, plan in plans.items():
        assert validate_bundle(b) == [], b
        if plan["kubernetes"] == "folder":
            count["folder"] += 1
            assert list((b / "kubernetes").iterdir())
        if plan["kubernetes"] == "events":
            count["events"] += 1
            rows = [json.loads(x) for x in (b / "events.jsonl").read_text().splitlines()]
            assert any(r["kind"] == "k8s_event" for r in rows)
        count["sparse"] += plan["sparse"]
        count["short"] += plan["short_log"]
        count[plan["alert_style"] or "plain alert"] += 1
        count["kernel"] += "kernel" in plan["lines"]
    eligible = sum(1 for p in plans.values() if p["signature"] or p["kubernetes"])
    assert count["folder"] + count["events"] == eligible >= 10
    assert count["folder"] > count["events"] >= 2 and count["sparse"] >= 1
    assert 0.15 * 60 <= count["short"] <= 0.45 * 60, count
    assert count["ksm"] >= 2 and count["kernel"] >= 2, count


def test_exporter_alerts_name_the_exporter_and_the_workload_in_labels(dataset: Path) -> None:
    seen = Counter()
    for b in _bundles(dataset):
        plan = json.loads((b / "truth.json").read_text())["field"]
        if not plan["alert_style"]:
            continue
        alert = json.loads((b / "alert.json").read_text())
        labels = alert["alerts"][0]["labels"]
        if plan["alert_style"] == "ksm":
            assert labels["service"] in ("kube-prometheus-stack-kube-state-metrics", "kube-state-metrics",
                                         "prometheus-kube-state-metrics", "kube-prometheus-stack-kubelet", "kubelet",
                                         "node-problem-detector", "kube-prometheus-stack-npd")
            assert {"pod", "deployment", "statefulset", "node", "persistentvolumeclaim",
                    "horizontalpodautoscaler"} & set(labels)
        else:
            assert "service" not in labels and labels["instance"].endswith(":9100")
        seen[plan["alert_style"]] += 1
    assert seen["ksm"] >= 2


def test_short_logs_keep_only_the_last_lines(dataset: Path) -> None:
    checked = 0
    for b in _bundles(dataset):
        truth = json.loads((b / "truth.json").read_text())
        log = b / "logs" / f"{truth['root_cause_service']}.log"
        if truth["field"]["short_log"] and log.is_file() and not truth["field"]["sparse"]:
            events = [ln for ln in log.read_text().splitlines() if ln and not ln.startswith(("\t", " "))]
            assert len(events) <= 60
            checked += 1
    assert checked >= 3


def test_shares_are_documented_fractions() -> None:
    assert all(0.0 < v < 1.0 for v in SHARES.values())
    assert SHARES["short_log"] == pytest.approx(0.3)


def test_an_unrelated_error_burst_never_lands_on_a_service_a_red_herring_deploy_touched(dataset: Path) -> None:
    # a deploy followed by fresh errors on the same service is what a bad deploy looks like: the noise of an
    # innocent service must not tell that story, or the bundle's evidence would contradict its truth
    burst = "failed to refresh feature flags"
    bursting = 0
    for b in _bundles(dataset):
        truth = json.loads((b / "truth.json").read_text())
        events = (b / "events.jsonl").read_text().splitlines() if (b / "events.jsonl").is_file() else []
        deployed = {json.loads(e)["service"] for e in events if json.loads(e)["kind"] == "deploy"}
        logs = {p.stem: p.read_text() for p in (b / "logs").glob("*.log")} if (b / "logs").is_dir() else {}
        noisy = {name for name, text in logs.items() if burst in text}
        bursting += bool(noisy)
        assert not noisy & (deployed - {truth["root_cause_service"]}), b
    assert bursting >= 3, "the dataset holds error bursts of innocent services"


@pytest.mark.parametrize("kind", sorted(KERNEL))
def test_kernel_lines_drawn_for_a_fault_read_as_that_fault_or_as_nothing_decisive(kind: str) -> None:
    # what the detectors read in a line is what the line says (docs/causes.md): a line drawn for one kind that
    # reads as another would make the bundle's evidence contradict its truth
    expected = "oom_kill" if kind == "node_oom" else kind
    for line in KERNEL[kind]:
        text = re.sub(r"\{(\w+)\}", lambda m: "java" if m.group(1) == "proc" else "7", line)
        readings = {r.kind for r in RULES if not r.weak and r.matches(text, text.lower())}
        assert readings <= {expected}, f"{line!r} reads as {readings}"

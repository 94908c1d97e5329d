"""The simulator's Kubernetes evidence reads back through the project's own parsers and detectors.

Every signature is rendered in every layout the simulator writes (``KubeEvidence.every_format``: describe pod /
node / deployment, get pod -o yaml|json, get events as a table and as core/v1 or events.k8s.io/v1 objects, get
pods, rollout history, networkpolicy, logs --previous); each layout must parse (``detectors.kubernetes.parse``)
into the reasons, states and exit codes the signature says, and a ``kubernetes/``-only bundle of them must give the
signature's cause as its strongest decisive finding. A generated bundle's ``kubernetes/`` folder is read by
``sherlog analyze``.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli.main import app
from bot.domain import KubeText
from bot.pipeline.bundle import load_bundle
from bot.simulation import generate_bundle
from bot.simulation.crashes import crash_tail
from bot.simulation.evidence import EvidenceWriter
from bot.simulation.faults import CATALOG
from bot.simulation.field import plan_field
from bot.simulation.k8s_signatures import SIGNATURES, Signature
from bot.simulation.kube_evidence import KubeEvidence, target_of
from bot.simulation.scenario import Scenario, build_scenario, candidates
from bot.simulation.world import build_world
from detectors.kubernetes.parse import parse_kube_text
from detectors.logs.decisive import classify_line
from detectors.registry import load_detectors

# signatures whose Kubernetes evidence does not decide the cause on its own, and why (the rest must)
NOT_DECIDED_BY_KUBERNETES = {
    "throttled_limits": "no Kubernetes reason says CPU throttling: the kubelet's cAdvisor metrics do",
    "liveness_deadlock": "the liveness timeouts read as a busy pool; the deadlock is in the thread dump, which the "
                         "log rules do not read as a deadlock yet",
}


def _scenario(sig: Signature, seed: int = 0) -> Scenario:
    world = build_world("shop")
    for culprit in candidates(CATALOG[sig.kind], world):
        scn = build_scenario(sig.kind, service=culprit, seed=seed, world="shop")
        if target_of(scn) in sig.targets:
            return scn
    raise AssertionError(f"no culprit fits {sig.id}")


def _formats(sig: Signature, seed: int = 0) -> tuple[Scenario, dict[str, str]]:
    scn = _scenario(sig, seed)
    writer = EvidenceWriter(scn)
    return scn, KubeEvidence(scn, writer, random.Random(f"{sig.id}:{seed}"), writer.timed_logs()).every_format(sig)


@pytest.mark.parametrize("sig", SIGNATURES, ids=lambda s: s.id)
def test_every_layout_parses_into_the_signatures_reasons(sig: Signature) -> None:
    _, texts = _formats(sig)
    wanted = {e.reason for e in sig.events}
    event_layouts = [k for k in texts if k.startswith("kubectl get events")]
    assert len(event_layouts) == 3
    readings = []
    for command in event_layouts:
        found = parse_kube_text(KubeText(name=command, text=texts[command]))
        pairs = {(e.reason, " ".join(e.message.split())) for e in found.events}
        assert wanted <= {reason for reason, _ in pairs}, command
        readings.append(pairs)
    assert readings[0] == readings[1] == readings[2], "table, core/v1 and events.k8s.io/v1 layouts say the same"
    for command in ("kubectl describe pod", "kubectl get pod -o yaml", "kubectl get pod -o json"):
        if command not in texts:
            continue
        pods = parse_kube_text(KubeText(name=command, text=texts[command])).pods
        assert len(pods) == 1, command
        if not sig.state:  # never scheduled: no container status (describe lists the spec's container, no state)
            assert all(c.current is None and c.last is None for c in pods[0].containers), command
            continue
        assert len(pods[0].containers) == 1, command
        status = pods[0].containers[0]
        if sig.state == "Waiting":
            assert status.current is not None and status.current.reason == sig.reason, command
        if sig.last:
            assert status.last is not None, command
            assert (status.last.reason, status.last.exit_code) == sig.last, command
    if "kubectl describe node" in texts:
        nodes = parse_kube_text(KubeText(name="node", text=texts["kubectl describe node"])).nodes
        assert len(nodes) == 1
        conditions = {(c.type, c.status) for c in nodes[0].conditions}
        assert {(c[0], c[1]) for c in sig.conditions} <= conditions
        assert {t.split(":")[0] for t in sig.taints} <= set(nodes[0].taints)
    if "kubectl logs --previous" in texts and sig.tail != "oom_quiet":
        logs = parse_kube_text(KubeText(name="previous", text=texts["kubectl logs --previous"])).logs
        assert logs and logs[0].previous and logs[0].lines


def test_a_rollout_reads_as_two_revisions_with_the_new_one_crashing() -> None:
    sig = next(s for s in SIGNATURES if s.id == "new_revision_crash")
    scn, texts = _formats(sig)
    deployment = parse_kube_text(KubeText(name="d", text=texts["kubectl describe deployment"]))
    assert [r.workload for r in deployment.rollouts] == [scn.culprit]
    new_rs = next(rs for rs, owner in deployment.owners.items() if owner.name == scn.culprit)
    history = parse_kube_text(KubeText(name="h", text=texts["kubectl rollout history deployment"]))
    assert [r.workload for r in history.rollouts] == [scn.culprit] and history.rollouts[0].revision
    pods = parse_kube_text(KubeText(name="p", text=texts["kubectl get pods -o wide"])).pods
    crashing = [p for p in pods if any(c.current and c.current.reason for c in p.containers)]
    running = [p for p in pods if all(c.ready for c in p.containers)]
    assert crashing and all(p.name.startswith(new_rs + "-") for p in crashing)
    assert running and not any(p.name.startswith(new_rs + "-") for p in running)


def _strongest_decisive(texts: dict[str, str], tmp: Path, starts_at: str) -> tuple[str, str] | None:
    (tmp / "kubernetes").mkdir()
    for i, text in enumerate(texts.values()):
        (tmp / "kubernetes" / f"saved-{i}.txt").write_text(text, encoding="utf-8")
    (tmp / "alert.json").write_text(json.dumps({"title": "KubernetesAlert", "starts_at": starts_at}), encoding="utf-8")
    context, _ = load_bundle(tmp)
    signals = [s for _, detector in load_detectors() for s in detector(context)]
    decisive = sorted((s for s in signals if s.kind and s.attributes.get("decisive")), key=lambda s: -s.score)
    return (decisive[0].service or "", decisive[0].kind or "") if decisive else None


@pytest.mark.parametrize("sig", [s for s in SIGNATURES if s.id not in NOT_DECIDED_BY_KUBERNETES], ids=lambda s: s.id)
def test_a_kubernetes_only_bundle_names_the_signatures_cause(sig: Signature, tmp_path: Path) -> None:
    scn, texts = _formats(sig, seed=1)
    found = _strongest_decisive(texts, tmp_path, scn.timeline.at(scn.timeline.alert_at).isoformat())
    assert found is not None
    service, kind = found
    assert kind == sig.kind
    if sig.subject != "caller":  # a caller's own crash names the dependency's fault on the caller (the ranker moves it)
        assert service == scn.culprit


@pytest.mark.parametrize(("cause", "kind"), [("app_exception", "crash_loop"), ("segfault", "crash_loop"),
                                             ("dns", "dns_failure"), ("x509", "certificate_expired"),
                                             ("missing_env", "config_change")])
def test_edge_proxy_crash_tails_have_their_decisive_line(cause: str, kind: str) -> None:
    values = {"nts": "2026/03/03 09:43:57", "ets": "2026-03-03 09:43:57.118", "gts": "2026-03-03 09:43:57 +0000",
              "dep": "checkout", "host": "ledger.shop.svc.cluster.local:8443", "ip": "10.96.4.20", "var": "UPSTREAM"}
    for seed in range(6):  # nginx and Envoy variants
        lines = crash_tail(cause, "nginx", random.Random(seed), values)
        readings = {f.kind for f in map(classify_line, lines) if f is not None}
        assert kind in readings, lines


def test_a_generated_bundles_kubernetes_folder_is_read_by_sherlog_analyze(tmp_path: Path) -> None:
    seed = next(s for s in range(1, 200) if plan_field(build_scenario("config_change", service="cart", seed=s,
                                                                      world="shop"))[0].kube == "folder")
    bundle = generate_bundle(tmp_path / "b", kind="config_change", service="cart", seed=seed, world="shop",
                             vendor="alertmanager", history=False)
    assert any((bundle / "kubernetes").iterdir())
    result = CliRunner().invoke(app, ["analyze", str(bundle), "--json", "--no-index"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout.strip().splitlines()[-1])
    evidence = [e for h in out["hypotheses"] for e in h["evidence"]]
    assert any(str(e.get("id", "")).startswith("k8s:") for e in evidence), "Kubernetes findings are cited"
    assert (out["hypotheses"][0]["service"], out["hypotheses"][0]["kind"]) == ("cart", "config_change")

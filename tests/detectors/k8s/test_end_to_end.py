"""A responder's pasted cluster evidence, through the bundle reader and the whole pipeline: the decisive
Kubernetes finding is among the top causes and its evidence quotes the event."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from bot.domain import Analysis
from bot.pipeline import Pipeline, load_bundle

from .factories import ALERT_TIME, DATA


def _alert(path: Path, *, pod: str, alertname: str = "KubePodCrashLooping") -> None:
    payload = {
        "receiver": "sherlog", "status": "firing", "version": "4",
        "alerts": [{
            "status": "firing",
            "labels": {"alertname": alertname, "namespace": "shop", "pod": pod, "severity": "warning"},
            "annotations": {"summary": f"Pod shop/{pod} is not healthy."},
            "startsAt": ALERT_TIME.isoformat().replace("+00:00", "Z"), "endsAt": "0001-01-01T00:00:00Z",
            "fingerprint": "a1b2c3d4e5f60718",
        }],
    }
    (path / "alert.json").write_text(json.dumps(payload), encoding="utf-8")


def _analyse(bundle: Path, settings) -> tuple[Analysis, list[str]]:  # type: ignore[no-untyped-def]
    context, report = load_bundle(bundle)
    return Pipeline(settings=settings).analyze_context(context, lacked=report.lacked), report.lacked


def _top3(analysis: Analysis, service: str, kind: str) -> str:
    top = [(h.service, h.kind) for h in analysis.hypotheses[:3]]
    assert (service, kind) in top, top
    hypothesis = next(h for h in analysis.hypotheses if (h.service, h.kind) == (service, kind))
    return " | ".join(e.summary for e in hypothesis.evidence)


def test_kubectl_files_only(tmp_path: Path, settings) -> None:  # type: ignore[no-untyped-def]
    _alert(tmp_path, pod="checkout-7c9d8f6b5-x2kbc")
    kube = tmp_path / "kubernetes"
    kube.mkdir()
    (kube / "describe.txt").write_text("$ kubectl -n shop describe pod checkout-7c9d8f6b5-x2kbc\n"
                                       + (DATA / "describe_pod_oom.txt").read_text(), encoding="utf-8")
    (kube / "previous.txt").write_text("$ kubectl -n shop logs checkout-7c9d8f6b5-x2kbc --previous\n"
                                       + (DATA / "logs_previous.txt").read_text(), encoding="utf-8")
    (kube / "events.txt").write_text((DATA / "get_events.txt").read_text(), encoding="utf-8")
    context, _ = load_bundle(tmp_path)
    assert "java.lang.OutOfMemoryError: Java heap space" in context.logs["checkout"]  # for the log detectors
    assert len(context.kubernetes) == 3  # and kept as Kubernetes evidence
    analysis, lacked = _analyse(tmp_path, settings)
    evidence = _top3(analysis, "checkout", "oom_kill")
    assert "pod/checkout-7c9d8f6b5-x2kbc" in evidence and "OOMKilled" in evidence and "exit code 137" in evidence
    assert "logs" not in lacked


def test_image_pull_of_a_missing_tag(tmp_path: Path, settings) -> None:  # type: ignore[no-untyped-def]
    _alert(tmp_path, pod="web-5b7d9c6f8-qq7zt", alertname="KubeDeploymentReplicasMismatch")
    (tmp_path / "kubernetes").mkdir()
    (tmp_path / "kubernetes" / "ev").write_text((DATA / "get_events_wide.txt").read_text(), encoding="utf-8")
    analysis, _ = _analyse(tmp_path, settings)
    evidence = _top3(analysis, "web", "bad_deploy")
    assert "Failed" in evidence and "ghcr.io/acme/web:2.3.1: not found" in evidence
    assert not any(h.kind == "dns_failure" for h in analysis.hypotheses[:3])


@pytest.mark.parametrize(("rows", "service", "kind", "quote"), [
    ([("Warning  BackOff  pod/checkout-7c9d8f6b5-x2kbc  Back-off restarting failed container checkout", 6),
      ("pod/checkout-7c9d8f6b5-x2kbc: Last State: Terminated, Reason: OOMKilled, Exit Code: 137", 7)],
     "checkout", "oom_kill", "OOMKilled"),
    ([("Warning  Failed  pod/checkout-7c9d8f6b5-x2kbc  Error: couldn't find key STRIPE_KEY in Secret "
       "shop/checkout-secrets", 4),
      ("Warning  BackOff  pod/checkout-7c9d8f6b5-x2kbc  Back-off restarting failed container checkout", 3)],
     "checkout", "config_change", "couldn't find key STRIPE_KEY"),
])
def test_events_jsonl_k8s_event_rows(tmp_path: Path, settings, rows: list[tuple[str, int]], service: str,
                                     kind: str, quote: str) -> None:  # type: ignore[no-untyped-def]
    _alert(tmp_path, pod="checkout-7c9d8f6b5-x2kbc")
    lines = [json.dumps({"ts": (ALERT_TIME - timedelta(minutes=ago)).isoformat(), "kind": "k8s_event",
                         "service": "checkout", "text": text}) for text, ago in rows]
    (tmp_path / "events.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    analysis, _ = _analyse(tmp_path, settings)
    evidence = _top3(analysis, service, kind)
    assert quote in evidence


def test_node_not_ready(tmp_path: Path, settings) -> None:  # type: ignore[no-untyped-def]
    _alert(tmp_path, pod="api-6c8d7f9b4-lm2xs", alertname="KubeNodeNotReady")
    (tmp_path / "kubernetes").mkdir()
    (tmp_path / "kubernetes" / "node.txt").write_text((DATA / "describe_node_notready.txt").read_text(),
                                                     encoding="utf-8")
    (tmp_path / "kubernetes" / "events.txt").write_text((DATA / "get_events_old.txt").read_text(), encoding="utf-8")
    analysis, _ = _analyse(tmp_path, settings)
    evidence = _top3(analysis, "node-3", "node_failure")
    assert "node/node-3" in evidence and "Kubelet stopped posting node status" in evidence

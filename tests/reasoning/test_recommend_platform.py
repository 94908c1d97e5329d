"""Recommended steps fit the platform the evidence comes from: host steps on a plain host, kubectl only
for Kubernetes evidence."""

from __future__ import annotations

import pytest

from bot.domain import Hypothesis, Signal
from bot.reasoning.recommend import HOST_CHECKS, KIND_CHECKS, kind_checks, platform_of, recommend

KUBECTL = ("kubectl", "pod", "OOMKilled", "namespace")


def _metric(metric: str, labels: dict[str, str]) -> Signal:
    return Signal(source="metrics", detector="metric.changepoint", service="web-1", metric=metric,
                  kind="cpu_saturation", title="x", score=0.9, attributes={"labels": labels})


def _hyp(kind: str) -> Hypothesis:
    return Hypothesis(service="web-1", kind=kind, title=f"{kind} on web-1", confidence=0.9)


def test_platform_from_the_evidence() -> None:
    assert platform_of([_metric("node_cpu_busy_ratio", {"instance": "web-1:9100"})]) == "host"
    assert platform_of([], {"alertname": "HostHighCpuLoad", "instance": "web-1:9100", "job": "node"}) == "host"
    assert platform_of([_metric("kube_pod_restarts", {"namespace": "shop", "pod": "api-1"})]) == "kubernetes"
    assert platform_of([], {"alertname": "KubePodCrashLooping", "namespace": "shop"}) == "kubernetes"
    k8s = Signal(source="kubernetes", detector="k8s.events", service="api", kind="oom_kill", title="x", score=0.95)
    assert platform_of([_metric("node_cpu_busy_ratio", {}), k8s]) == "kubernetes"
    assert platform_of([], {"alertname": "HighLatency", "service": "checkout"}) is None


@pytest.mark.parametrize("kind", sorted(HOST_CHECKS))
def test_host_steps_never_name_kubernetes(kind: str) -> None:
    steps = kind_checks(kind, "host")
    assert steps and not any(word in step for step in steps for word in KUBECTL)


@pytest.mark.parametrize(("kind", "tool"), [
    ("cpu_saturation", "pidstat"), ("disk_full", "du -xh"), ("oom_kill", "journalctl -k"),
    ("memory_leak", "systemctl"),
])
def test_host_steps_use_host_tools(kind: str, tool: str) -> None:
    recs = recommend(hypotheses=[_hyp(kind)], runbooks=[], similar=[], platform="host")
    assert any(tool in r.text for r in recs)
    assert not any(word in r.text for r in recs for word in KUBECTL)


def test_kubernetes_evidence_keeps_kubernetes_steps() -> None:
    recs = recommend(hypotheses=[_hyp("crash_loop")], runbooks=[], similar=[], platform="kubernetes")
    assert any("kubectl logs --previous" in r.text for r in recs)
    assert kind_checks("crash_loop", None) == KIND_CHECKS["crash_loop"]


def test_host_without_a_host_step_drops_kubernetes_worded_checks() -> None:
    assert kind_checks("resource_quota", "host") == ()  # "namespace quotas and pending pods"
    assert kind_checks("bad_deploy", "host") == KIND_CHECKS["bad_deploy"]  # nothing Kubernetes-only in it

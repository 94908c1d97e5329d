"""Kubernetes evidence in a live incident's context: the client built from settings (a kubeconfig file pointing
at a recorded cluster on a local HTTP server), the objects in ``context.kubernetes``, the previous logs in
``context.logs`` under the workload, and failures as notes."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.domain import Alert, ConnectorError, Incident
from bot.pipeline.context import LiveContextProvider
from bot.pipeline.wiring import kubernetes_factory
from config.settings import KubernetesSettings, load_settings
from connectors.kubernetes.evidence import KubernetesEvidenceCollector, api_client_from_settings
from tests.connectors.kubernetes_evidence.cluster import NODE, NS, POD, FakeCluster
from tests.connectors.logsources.standin import serve
from tests.webhook_flow import analysis_via_api


def kubeconfig(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "other",
        "clusters": [{"name": "test", "cluster": {"server": url}},
                     {"name": "elsewhere", "cluster": {"server": "http://127.0.0.1:9"}}],
        "users": [{"name": "reader", "user": {"token": "not-a-real-token"}}],
        "contexts": [{"name": "test", "context": {"cluster": "test", "user": "reader"}},
                     {"name": "other", "context": {"cluster": "elsewhere", "user": "reader"}}]}))
    return path


def crashloop() -> Incident:
    labels = {"alertname": "KubePodCrashLooping", "namespace": NS, "pod": POD, "container": "checkout",
              "job": "kube-state-metrics"}
    return Incident(title="crash", service="checkout",
                    alerts=[Alert(source="alertmanager", name="KubePodCrashLooping", service="checkout", labels=labels)])


def test_live_context_holds_kubernetes_objects_and_previous_logs(settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with serve(FakeCluster()) as (url, seen):
        cfg = KubernetesSettings(enabled=True, kubeconfig=str(kubeconfig(tmp_path, url)), context="test")
        live = settings.model_copy(update={"kubernetes": cfg})
        provider = LiveContextProvider(settings=live, kubernetes_factory=kubernetes_factory(live))
        incident = crashloop()
        context = provider(incident)
    names = {t.name for t in context.kubernetes}
    assert {f"live:pod/{NS}/{POD}.json", f"live:node/{NODE}.json", f"live:replicasets/{NS}/checkout.json"} <= names
    assert any("OutOfMemoryError" in line for line in context.logs["checkout"])
    assert provider.notes[incident.id] == []
    assert all(r.headers.get("authorization") == "Bearer not-a-real-token" for r in seen)


def test_forbidden_reads_are_notes_on_the_analysis(settings) -> None:  # type: ignore[no-untyped-def]
    with serve(FakeCluster(forbidden={f"/api/v1/namespaces/{NS}/pods/{POD}"})) as (url, _):
        from kubernetes.client import ApiClient, Configuration

        collector = KubernetesEvidenceCollector(api_client=ApiClient(Configuration(host=url)),
                                                settings=KubernetesSettings(enabled=True))
        provider = LiveContextProvider(settings=settings, kubernetes_factory=lambda: collector)
        incident = crashloop()
        context = provider(incident)
    assert context.kubernetes == [] and context.logs == {}
    assert provider.notes[incident.id] == [f"kubernetes: forbidden to read pod {NS}/{POD} (403); grant get/list on "
                                           "it (docs/integrations.md, Kubernetes evidence)"]


def test_no_cluster_configured_is_a_note(settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    live = settings.model_copy(update={"kubernetes": KubernetesSettings(
        enabled=True, kubeconfig=str(tmp_path / "missing-kubeconfig"))})
    provider = LiveContextProvider(settings=live, kubernetes_factory=kubernetes_factory(live))
    incident = crashloop()
    context = provider(incident)
    assert context.kubernetes == []
    (note,) = provider.notes[incident.id]
    assert note.startswith("kubernetes: no Kubernetes cluster configured:") and "kubernetes.kubeconfig" in note


def test_off_by_default(settings) -> None:  # type: ignore[no-untyped-def]
    assert settings.kubernetes.enabled is False and kubernetes_factory(settings) is None


def test_api_client_from_a_kubeconfig_context(tmp_path: Path) -> None:
    path = kubeconfig(tmp_path, "http://127.0.0.1:6443")
    client = api_client_from_settings(KubernetesSettings(enabled=True, kubeconfig=str(path), context="test"))
    assert client.configuration.host == "http://127.0.0.1:6443" and client.configuration.retries == 1
    with pytest.raises(ConnectorError, match="no Kubernetes cluster configured"):
        api_client_from_settings(KubernetesSettings(enabled=True, kubeconfig=str(path), context="absent"))


def test_kube_state_metrics_alert_end_to_end_reads_the_workloads_evidence(tmp_path: Path) -> None:
    """A KubePodCrashLooping webhook as kube-prometheus sends it (the exporter's `service`, `job`, `instance`)
    through the API of an app built from settings: the incident is about `checkout`, and its analysis has the
    previous container's log without a Kubernetes note."""
    labels = {"alertname": "KubePodCrashLooping", "container": "checkout", "endpoint": "http",
              "instance": "10.244.0.12:8080", "job": "kube-state-metrics", "namespace": NS, "pod": POD,
              "reason": "CrashLoopBackOff", "service": "prometheus-kube-state-metrics", "severity": "warning"}
    alert = {"status": "firing", "labels": labels, "annotations": {"summary": "Pod is crash looping."},
             "startsAt": "2026-03-14T09:41:30Z", "endsAt": "0001-01-01T00:00:00Z", "fingerprint": "5c1f0e3b9a7d2e41"}
    payload = {"receiver": "sherlog", "status": "firing", "alerts": [alert], "version": "4", "groupKey": "g",
               "commonLabels": labels}
    with serve(FakeCluster()) as (url, seen):
        settings = load_settings(data_dir=tmp_path / "data", retrieval={"backend": "memory"},
                                 kubernetes={"enabled": True, "kubeconfig": str(kubeconfig(tmp_path, url)),
                                             "context": "test"})
        analysis = analysis_via_api(settings, payload)
    assert "logs" not in analysis["lacked"]  # the previous container's log, under the workload
    assert not [n for n in analysis["notes"] if n.startswith("kubernetes")]
    services = {h["service"] for h in analysis["hypotheses"]}
    assert "checkout" in services and not services & {"prometheus-kube-state-metrics", "kube-state-metrics"}
    assert {r.method for r in seen} == {"GET"} and any(r.path.endswith(f"/pods/{POD}/log") for r in seen)

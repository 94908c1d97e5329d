"""Which service an alert is about, from the label sets real alerting stacks send.

The Kubernetes rows are the labels kube-prometheus(-stack) rules leave on their alerts: kube-state-metrics
alerts carry the exporter's own `service`, `job`, `container`, `instance` (and, for metrics without a pod
label, the exporter's `pod`) next to the object's labels (`deployment`, `job_name`, `pod`, ...).
"""

from __future__ import annotations

from typing import Any

import pytest

from connectors.alerts import parse_alerts
from connectors.alerts.common import (
    Tier,
    host_of,
    is_scraper,
    kubernetes_refs,
    resolve_service,
    workload_of_claim,
)

KSM = {"container": "kube-state-metrics", "endpoint": "http", "instance": "10.244.0.12:8080",
       "job": "kube-state-metrics", "service": "prometheus-kube-state-metrics", "prometheus": "monitoring/kps"}
KSM_POD = {"pod": "prometheus-kube-state-metrics-6d5b7c9f4-q8w2z"}  # the exporter's, on metrics without a pod
KUBELET = {"endpoint": "https-metrics", "instance": "10.0.3.17:10250", "job": "kubelet", "metrics_path": "/metrics",
           "service": "kube-prometheus-stack-kubelet"}
NODE_EXPORTER = {"container": "node-exporter", "endpoint": "http-metrics", "job": "node-exporter",
                 "namespace": "monitoring", "pod": "kube-prometheus-stack-prometheus-node-exporter-x7k2p",
                 "service": "kube-prometheus-stack-prometheus-node-exporter"}

ROWS: list[tuple[str, dict[str, str], str, Tier]] = [
    ("KubePodCrashLooping", {**KSM, "container": "checkout", "namespace": "shop", "pod": "checkout-7c9d8f6b5-x2kbc",
                             "reason": "CrashLoopBackOff", "uid": "0b6f"}, "checkout", Tier.WORKLOAD),
    ("KubePodNotReady", {"namespace": "shop", "pod": "ledger-0"}, "ledger", Tier.WORKLOAD),
    ("KubeJobFailed", {**KSM, **KSM_POD, "condition": "true", "job_name": "backup-28475520", "namespace": "ops"},
     "backup", Tier.WORKLOAD),
    ("KubeJobNotCompleted", {**KSM, **KSM_POD, "job_name": "db-migrate", "namespace": "ops"}, "db-migrate",
     Tier.WORKLOAD),
    ("KubeDeploymentReplicasMismatch", {**KSM, **KSM_POD, "deployment": "checkout", "namespace": "shop"}, "checkout",
     Tier.WORKLOAD),
    ("KubeStatefulSetReplicasMismatch", {**KSM, **KSM_POD, "statefulset": "ledger", "namespace": "shop"}, "ledger",
     Tier.WORKLOAD),
    ("KubeDaemonSetRolloutStuck", {**KSM, **KSM_POD, "daemonset": "fluent-bit", "namespace": "logging"},
     "fluent-bit", Tier.WORKLOAD),
    ("KubeCronJobRunning", {**KSM, **KSM_POD, "cronjob": "nightly-report", "namespace": "ops"}, "nightly-report",
     Tier.WORKLOAD),
    ("KubeHpaMaxedOut", {**KSM, **KSM_POD, "horizontalpodautoscaler": "search", "namespace": "shop"}, "search",
     Tier.WORKLOAD),
    ("KubeNodeNotReady", {**KSM, **KSM_POD, "condition": "Ready", "node": "ip-10-0-3-17.ec2.internal",
                          "status": "true"}, "ip-10-0-3-17.ec2.internal", Tier.NODE),
    ("KubeletTooManyPods", {**KUBELET, "node": "node-3"}, "node-3", Tier.NODE),
    ("KubeContainerWaiting", {**KSM, "container": "payments", "namespace": "shop",
                              "pod": "payments-5f6b8d9c7-2xkqp", "reason": "ContainerCreating"}, "payments",
     Tier.WORKLOAD),
    ("CPUThrottlingHigh", {"container": "search", "namespace": "shop", "pod": "search-7b9c6d5f8-mn4pq"}, "search",
     Tier.WORKLOAD),
    ("KubePersistentVolumeFillingUp", {**KUBELET, "namespace": "shop", "node": "ip-10-0-3-17",
                                       "persistentvolumeclaim": "data-ledger-0"}, "ledger", Tier.WORKLOAD),
    ("NodeFilesystemSpaceFillingUp", {**NODE_EXPORTER, "device": "/dev/nvme0n1p1", "fstype": "ext4",
                                      "instance": "10.0.3.17:9100", "mountpoint": "/"}, "10.0.3.17", Tier.NODE),
    # kube-prometheus (jsonnet) relabels node-exporter's instance to the node's name
    ("NodeFilesystemAlmostOutOfSpace", {**NODE_EXPORTER, "instance": "node-3", "mountpoint": "/var"}, "node-3",
     Tier.NODE),
    ("NodeMemoryHighUtilization", {"instance": "ip-10-0-3-17:9100", "job": "node-exporter"}, "ip-10-0-3-17",
     Tier.NODE),
    ("HostOutOfDiskSpace", {"instance": "db-host-2:9100", "job": "node", "mountpoint": "/data"}, "db-host-2",
     Tier.NODE),
    ("TargetDown", {"job": "kube-state-metrics", "namespace": "monitoring", "service": "kube-state-metrics"},
     "kube-state-metrics", Tier.SCRAPER),
    ("TargetDown", {"job": "checkout", "namespace": "shop", "service": "checkout"}, "checkout", Tier.APP),
    ("HighErrorRate", {"service": "checkout", "namespace": "shop", "pod": "checkout-7c9d8f6b5-x2kbc",
                       "job": "checkout", "instance": "10.244.1.7:8080"}, "checkout", Tier.APP),
    ("HighLatency", {"app_kubernetes_io_name": "cart", "job": "kubernetes-pods", "instance": "10.244.1.9:8080"},
     "cart", Tier.APP),
    ("HighLatency", {"job": "kubernetes-pods", "kubernetes_namespace": "shop",
                     "kubernetes_pod_name": "cart-6b8d9c7f5-p2x9z", "instance": "10.244.1.9:8080"}, "cart",
     Tier.WORKLOAD),
    ("ProbeFailed", {"job": "blackbox-exporter", "instance": "https://pay.example.com/health"}, "pay.example.com",
     Tier.NODE),
    ("QueueBacklog", {"job": "orders-worker", "instance": "10.244.2.4:9000"}, "orders-worker", Tier.JOB),
    ("ErrorRate", {"kube_deployment": "checkout", "kube_namespace": "shop", "pod_name": "checkout-7c9d8f6b5-x2kbc",
                   "host": "i-0abc"}, "checkout", Tier.WORKLOAD),
    ("ErrorRate", {"k8s.statefulset.name": "ledger", "k8s.pod.name": "ledger-1"}, "ledger", Tier.WORKLOAD),
    ("ReplicaSetStuck", {"replicaset": "checkout-7c9d8f6b5"}, "checkout", Tier.WORKLOAD),
    ("NodeJSHeapHigh", {"app": "storefront", "node": "node-3", "instance": "10.244.1.9:9229"}, "storefront",
     Tier.APP),
    ("HostHighCpuLoad", {"app": "storefront", "instance": "web-7:9100", "job": "node"}, "web-7", Tier.NODE),
    ("Nothing", {"severity": "page"}, "", Tier.APP),
]


@pytest.mark.parametrize(("alertname", "labels", "expected", "tier"), ROWS,
                         ids=[f"{r[0]}-{r[2] or 'none'}" for r in ROWS])
def test_service_of_a_real_label_set(alertname: str, labels: dict[str, str], expected: str, tier: Tier) -> None:
    choice = resolve_service({"alertname": alertname, "severity": "warning", **labels})
    assert (choice.service or "") == expected
    if expected:
        assert choice.tier == tier


def _am(labels: dict[str, str]) -> dict[str, Any]:
    return {"version": "4", "groupKey": "k", "status": "firing", "receiver": "sherlog",
            "alerts": [{"status": "firing", "labels": labels, "annotations": {},
                        "startsAt": "2026-03-14T09:41:30Z", "endsAt": "0001-01-01T00:00:00Z"}]}


@pytest.mark.parametrize(("alertname", "labels", "expected", "tier"), ROWS[:18], ids=[r[0] for r in ROWS[:18]])
def test_alertmanager_and_grafana_use_the_same_preference(alertname: str, labels: dict[str, str], expected: str,
                                                          tier: Tier) -> None:
    full = {"alertname": alertname, **labels}
    (am,) = parse_alerts(_am(full), source="alertmanager")
    grafana_payload = {**_am(full), "version": "1", "orgId": 1}
    (gf,) = parse_alerts(grafana_payload, source="grafana")
    assert am.service == gf.service == expected
    assert am.labels == full  # nothing dropped: namespace, pod, node, container stay for evidence collection


def test_pagerduty_opsgenie_and_generic_read_labels_the_same_way() -> None:
    crash = {"alertname": "KubePodCrashLooping", **KSM, "container": "checkout", "namespace": "shop",
             "pod": "checkout-7c9d8f6b5-x2kbc"}
    pd = {"event": {"id": "E1", "event_type": "incident.triggered", "resource_type": "incident",
                    "occurred_at": "2026-03-14T09:42:00Z",
                    "data": {"id": "P1", "type": "incident", "status": "triggered", "title": "CrashLooping",
                             "service": {"summary": "Platform on-call"}, "created_at": "2026-03-14T09:41:31Z",
                             "body": {"details": crash}}}}
    (p,) = parse_alerts(pd, source="pagerduty")
    assert p.service == "checkout" and p.labels["pagerduty_service"] == "Platform on-call"
    assert p.labels["namespace"] == "shop" and p.starts_at.isoformat() == "2026-03-14T09:41:31+00:00"
    og = {"action": "Create", "alert": {"alertId": "a1", "message": "CrashLooping", "entity": "k8s",
                                        "tags": ["env:prod", "service:prometheus-kube-state-metrics"],
                                        "details": crash, "createdAt": 1773481291000}}
    (o,) = parse_alerts(og, source="opsgenie")
    assert o.service == "checkout" and o.labels["pod"] == "checkout-7c9d8f6b5-x2kbc"
    (g,) = parse_alerts({"title": "CrashLooping", "labels": crash}, source="generic")
    assert g.service == "checkout"


def test_pagerduty_service_name_when_details_name_only_a_host_or_nothing() -> None:
    def payload(details: dict[str, str]) -> dict[str, Any]:
        return {"event": {"id": "E1", "event_type": "incident.triggered", "resource_type": "incident",
                          "occurred_at": "2026-03-14T09:42:00Z",
                          "data": {"id": "P1", "type": "incident", "title": "Disk", "service": {"summary": "ledger"},
                                   "custom_details": details}}}
    (host_only,) = parse_alerts(payload({"instance": "10.0.3.17:9100"}), source="pagerduty")
    assert host_only.service == "ledger"
    (nothing,) = parse_alerts(payload({}), source="pagerduty")
    assert nothing.service == "ledger" and nothing.starts_at.isoformat() == "2026-03-14T09:42:00+00:00"


def test_pagerduty_reads_alertmanager_firing_text_in_details() -> None:
    firing = ("Labels:\n - alertname = KubeDeploymentReplicasMismatch\n - deployment = checkout\n"
              " - job = kube-state-metrics\n - namespace = shop\nAnnotations:\n - summary = mismatch\n")
    payload = {"event": {"id": "E1", "event_type": "incident.triggered", "resource_type": "incident",
                         "occurred_at": "2026-03-14T09:42:00Z",
                         "data": {"id": "P2", "type": "incident", "title": "[FIRING:1] KubeDeploymentReplicasMismatch",
                                  "service": {"summary": "Alertmanager"},
                                  "alerts": [{"body": {"cef_details": {"details": {"firing": firing,
                                                                                   "num_firing": "1"}}}}]}}}
    (alert,) = parse_alerts(payload, source="pagerduty")
    assert alert.service == "checkout" and alert.labels["namespace"] == "shop"


def test_kubernetes_refs_skip_the_exporters_own_pod() -> None:
    refs = kubernetes_refs({**KSM, **KSM_POD, "deployment": "checkout", "namespace": "shop"})
    assert refs == {"namespace": "shop", "deployment": "checkout"}
    refs = kubernetes_refs({"kube_namespace": "shop", "pod_name": "checkout-7c9d8f6b5-x2kbc",
                            "kube_container_name": "app", "exported_namespace": "pay", "node": "n1"})
    assert refs == {"namespace": "pay", "pod": "checkout-7c9d8f6b5-x2kbc", "container": "app", "node": "n1"}


@pytest.mark.parametrize(("name", "scraper"), [
    ("kube-state-metrics", True), ("prometheus-kube-state-metrics", True),
    ("kube-prometheus-stack-prometheus-node-exporter", True), ("kubelet", True), ("cadvisor", True),
    ("blackbox-exporter", True), ("kube-rbac-proxy-main", True), ("prometheus", True), ("kubernetes-pods", True),
    ("checkout", False), ("postgres-exporter", False), ("prometheus-adapter-client", False), ("", False),
])
def test_is_scraper(name: str, scraper: bool) -> None:
    assert is_scraper(name) is scraper


@pytest.mark.parametrize(("address", "host"), [
    ("10.0.3.17:9100", "10.0.3.17"), ("node-3", "node-3"), ("[fd00::1]:9100", "fd00::1"), ("fd00::1", "fd00::1"),
    ("https://pay.example.com:443/health", "pay.example.com"), ("tcp://user@db-1:5432", "db-1"),
])
def test_host_of(address: str, host: str) -> None:
    assert host_of(address) == host


@pytest.mark.parametrize(("claim", "workload"), [
    ("data-ledger-0", "ledger"), ("pgdata-postgres-main-2", "postgres-main"), ("checkout-uploads", "checkout-uploads"),
])
def test_workload_of_claim(claim: str, workload: str) -> None:
    assert workload_of_claim(claim) == workload


def _pd(details: dict[str, str], title: str = "Disk") -> dict[str, Any]:
    return {"event": {"id": "E1", "event_type": "incident.triggered", "resource_type": "incident",
                      "occurred_at": "2026-03-14T09:42:00Z",
                      "data": {"id": "P1", "type": "incident", "title": title, "service": {"summary": "Platform"},
                               "custom_details": details}}}


def test_pagerduty_node_alert_names_the_node_not_the_pagerduty_service() -> None:
    (node,) = parse_alerts(_pd({"alertname": "KubeNodeNotReady", "node": "node-3", **KSM}), source="pagerduty")
    assert node.service == "node-3"
    (scraper,) = parse_alerts(_pd({"job": "kube-state-metrics"}), source="pagerduty")
    assert scraper.service == "Platform"


@pytest.mark.parametrize(("details", "tags", "service"), [
    ({"service": "checkout"}, ["host:web-1"], "checkout"),
    ({}, ["host:web-1"], "payments-api"),  # the entity over a bare host
    ({"job": "kube-state-metrics", "service": "kube-state-metrics"}, [], "payments-api"),  # ... and over a scraper
    ({"alertname": "HostOutOfMemory", "instance": "web-1:9100"}, [], "web-1"),  # a host alert names the host
])
def test_opsgenie_details_tags_and_entity(details: dict[str, str], tags: list[str], service: str) -> None:
    payload = {"action": "Create", "alert": {"alertId": "a1", "message": "Memory", "entity": "payments-api",
                                             "tags": tags, "details": details, "createdAt": 1773481291000}}
    (alert,) = parse_alerts(payload, source="opsgenie")
    assert alert.service == service

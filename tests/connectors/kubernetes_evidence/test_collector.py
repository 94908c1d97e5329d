"""Kubernetes evidence around an alert, read through the official client from a recorded cluster served by a
real local HTTP server (tests/connectors/kubernetes_evidence/cluster.py)."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from kubernetes.client import ApiClient, Configuration

from bot.domain import Alert, Incident
from config.settings import KubernetesSettings
from connectors.kubernetes.evidence import KubeEvidence, KubernetesEvidenceCollector
from tests.connectors.kubernetes_evidence.cluster import (
    HEALTHY_POD,
    JOB_POD,
    LEDGER_POD,
    NODE,
    NS,
    POD,
    RS,
    FakeCluster,
)
from tests.connectors.logsources.standin import Request, serve

AT = datetime(2026, 3, 14, 9, 41, 30, tzinfo=UTC)
KSM = {"job": "kube-state-metrics", "service": "prometheus-kube-state-metrics", "container": "kube-state-metrics",
       "instance": "10.244.0.12:8080", "pod": "prometheus-kube-state-metrics-6d5b7c9f4-q8w2z"}


def incident(name: str, labels: dict[str, str], service: str | None = "checkout") -> Incident:
    alert = Alert(source="alertmanager", name=name, service=service, labels={"alertname": name, **labels},
                  starts_at=AT)
    return Incident(title=name, service=service, alerts=[alert])


def client(url: str) -> ApiClient:
    configuration = Configuration(host=url)
    configuration.retries = 0  # type: ignore[assignment]
    return ApiClient(configuration)


@contextmanager
def cluster(fake: FakeCluster | None = None, **settings: Any) -> Iterator[tuple[KubernetesEvidenceCollector,
                                                                                 list[Request]]]:
    with serve(fake or FakeCluster()) as (url, seen):
        yield KubernetesEvidenceCollector(api_client=client(url), settings=KubernetesSettings(enabled=True, **settings)), seen


def texts(evidence: KubeEvidence) -> dict[str, str]:
    return {t.name: t.text for t in evidence.texts}


CRASHLOOP = incident("KubePodCrashLooping", {**KSM, "namespace": NS, "pod": POD, "container": "checkout",
                                             "reason": "CrashLoopBackOff"})


def test_pod_alert_reads_pod_owners_rollouts_node_events_and_previous_log() -> None:
    with cluster() as (collector, seen):
        evidence = collector.collect(CRASHLOOP)
    got = texts(evidence)
    assert set(got) == {
        f"live:pod/{NS}/{POD}.json", f"live:events/{NS}/{POD}.json",
        f"live:replicaset/{NS}/{RS}.json", f"live:events/{NS}/{RS}.json",
        f"live:deployment/{NS}/checkout.json", f"live:events/{NS}/checkout.json",
        f"live:replicasets/{NS}/checkout.json",
        f"live:logs/{NS}/{POD}/checkout.previous.log",
        f"live:node/{NODE}.json", f"live:events/{NODE}.json",
    }
    assert evidence.notes == []
    pod = json.loads(got[f"live:pod/{NS}/{POD}.json"])  # the API's own JSON shape, read back by the client
    status = pod["status"]["containerStatuses"][0]
    assert status["lastState"]["terminated"] == {"exitCode": 137, "reason": "OOMKilled",
                                                 "startedAt": "2026-03-14T09:40:58+00:00",
                                                 "finishedAt": "2026-03-14T09:41:29+00:00"}
    assert status["state"]["waiting"]["reason"] == "CrashLoopBackOff" and status["restartCount"] == 5
    assert "managedFields" not in pod["metadata"] and pod["metadata"]["ownerReferences"][0]["name"] == RS
    events = json.loads(got[f"live:events/{NS}/{POD}.json"])
    assert events["kind"] == "EventList"
    assert [e["reason"] for e in events["items"]] == ["Killing", "BackOff"]  # oldest first
    rollouts = json.loads(got[f"live:replicasets/{NS}/checkout.json"])
    assert [(r["metadata"]["name"], r["metadata"]["annotations"]["deployment.kubernetes.io/revision"],
             r["metadata"]["creationTimestamp"]) for r in rollouts["items"]] == [
        (RS, "7", "2026-03-14T09:30:00+00:00"), ("checkout-5f6b8d9c7", "6", "2026-03-10T10:00:00+00:00"),
        ("checkout-6b8d9c7f5", "5", "2026-03-01T10:00:00+00:00")]  # the other owner's ReplicaSet left out
    node = json.loads(got[f"live:node/{NODE}.json"])
    assert node["status"]["conditions"][0]["reason"] == "KubeletHasInsufficientMemory"
    assert "images" not in node["status"]
    assert "NodeHasInsufficientMemory" in got[f"live:events/{NODE}.json"]
    assert "OutOfMemoryError" in got[f"live:logs/{NS}/{POD}/checkout.previous.log"]
    assert evidence.logs["checkout"] == ["2026-03-14T09:40:58.123456Z Starting checkout v2.8.0",
                                         "2026-03-14T09:41:29Z java.lang.OutOfMemoryError: Java heap space"]


def test_requests_are_reads_namespaced_and_bounded() -> None:
    with cluster(log_lines=150, max_log_bytes=4096, max_events=20) as (collector, seen):
        collector.collect(CRASHLOOP)
    assert seen and {r.method for r in seen} == {"GET"}
    for request in seen:
        assert request.path.startswith((f"/api/v1/namespaces/{NS}/", f"/apis/apps/v1/namespaces/{NS}/",
                                        f"/api/v1/nodes/{NODE}", "/api/v1/namespaces/default/events")), request.path
    (log_request,) = [r for r in seen if r.path.endswith("/log")]
    assert log_request.query == {"container": ["checkout"], "previous": ["true"], "tailLines": ["150"],
                                 "limitBytes": ["4096"], "timestamps": ["true"]}
    event_requests = [r for r in seen if r.path.endswith("/events")]
    assert {r.query["fieldSelector"][0] for r in event_requests} == {
        f"involvedObject.kind=Pod,involvedObject.name={POD}", f"involvedObject.kind=ReplicaSet,involvedObject.name={RS}",
        "involvedObject.kind=Deployment,involvedObject.name=checkout",
        f"involvedObject.kind=Node,involvedObject.name={NODE}"}
    assert all(r.query["limit"] == ["20"] for r in event_requests)
    lists = [r for r in seen if r.path.endswith("/replicasets")]
    assert [r.query["labelSelector"] for r in lists] == [["app=checkout"]] and lists[0].query["limit"] == ["100"]
    assert len(seen) == len({(r.path, str(sorted(r.query.items()))) for r in seen})  # nothing asked twice


def test_deployment_alert_reads_its_least_ready_pods_up_to_max_pods() -> None:
    alert = incident("KubeDeploymentReplicasMismatch", {**KSM, "namespace": NS, "deployment": "checkout"})
    with cluster(max_pods=1) as (collector, seen):
        evidence = collector.collect(alert)
    got = texts(evidence)
    assert f"live:pod/{NS}/{POD}.json" in got and f"live:pod/{NS}/{HEALTHY_POD}.json" not in got
    pod = json.loads(got[f"live:pod/{NS}/{POD}.json"])  # read from a list, whose items carry no kind
    assert (pod["apiVersion"], pod["kind"], pod["metadata"]["name"]) == ("v1", "Pod", POD)
    assert f"live:replicasets/{NS}/checkout.json" in got and f"live:node/{NODE}.json" in got
    pod_lists = [r for r in seen if r.path == f"/api/v1/namespaces/{NS}/pods"]
    assert [r.query["labelSelector"] for r in pod_lists] == [["app=checkout"]]
    assert not any(r.path.startswith(f"/api/v1/namespaces/{NS}/pods/prometheus-kube-state") for r in seen)
    assert evidence.logs["checkout"][-1].endswith("Java heap space")


def test_node_alert_reads_the_node_and_its_events_only() -> None:
    alert = incident("KubeNodeNotReady", {**KSM, "node": NODE, "condition": "Ready"}, service=NODE)
    with cluster() as (collector, seen):
        evidence = collector.collect(alert)
    assert set(texts(evidence)) == {f"live:node/{NODE}.json", f"live:events/{NODE}.json"}
    assert [r.path for r in seen] == [f"/api/v1/nodes/{NODE}", "/api/v1/namespaces/default/events"]


def test_application_alert_with_service_and_namespace_finds_the_workload_by_name() -> None:
    alert = incident("HighErrorRate", {"service": "checkout", "namespace": NS, "job": "checkout"})
    with cluster(max_pods=2) as (collector, seen):
        evidence = collector.collect(alert)
    got = texts(evidence)
    assert f"live:deployment/{NS}/checkout.json" in got and f"live:pod/{NS}/{HEALTHY_POD}.json" in got
    assert evidence.notes == []


def test_forbidden_object_is_a_note_and_the_rest_is_read() -> None:
    fake = FakeCluster(forbidden={f"/api/v1/nodes/{NODE}", f"/apis/apps/v1/namespaces/{NS}/deployments/checkout"})
    with cluster(fake) as (collector, _):
        evidence = collector.collect(CRASHLOOP)
    got = texts(evidence)
    assert f"live:pod/{NS}/{POD}.json" in got and f"live:logs/{NS}/{POD}/checkout.previous.log" in got
    assert f"live:node/{NODE}.json" not in got and f"live:deployment/{NS}/checkout.json" not in got
    assert sorted(evidence.notes) == [
        f"kubernetes: forbidden to read deployment {NS}/checkout (403); grant get/list on it "
        "(docs/integrations.md, Kubernetes evidence)",
        f"kubernetes: forbidden to read node {NODE} (403); grant get/list on it "
        "(docs/integrations.md, Kubernetes evidence)"]
    assert evidence.logs["checkout"]  # the ReplicaSet still names the workload by its Deployment's name


def test_missing_pod_is_a_note() -> None:
    alert = incident("KubePodNotReady", {"namespace": NS, "pod": "checkout-7c9d8f6b5-zzzzz"})
    with cluster() as (collector, _):
        evidence = collector.collect(alert)
    assert evidence.texts == []
    assert evidence.notes == [f"kubernetes: pod {NS}/checkout-7c9d8f6b5-zzzzz not found (404)"]


def test_dead_api_server_is_one_note_and_no_more_requests() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    collector = KubernetesEvidenceCollector(api_client=client(f"http://127.0.0.1:{port}"),
                                            settings=KubernetesSettings(enabled=True, timeout_s=2))
    started = time.monotonic()
    evidence = collector.collect(incident("KubePodCrashLooping", {"namespace": NS, "pod": POD}))
    assert time.monotonic() - started < 10
    assert evidence.texts == [] and len(evidence.notes) == 1
    assert evidence.notes[0].startswith("kubernetes: the API server is unreachable (NewConnectionError) while "
                                        f"reading pod {NS}/{POD}; nothing more read")


def test_slow_api_server_times_out_into_a_note() -> None:
    fake = FakeCluster()

    def slow(req: Request) -> Any:
        if req.path.startswith("/api/v1/nodes/"):
            time.sleep(1.5)
        return fake(req)

    with serve(slow) as (url, _):
        collector = KubernetesEvidenceCollector(api_client=client(url),
                                                settings=KubernetesSettings(enabled=True, timeout_s=0.5))
        evidence = collector.collect(CRASHLOOP)
    assert f"live:pod/{NS}/{POD}.json" in texts(evidence)
    assert f"kubernetes: the API server did not answer node {NODE} within 0.5 s; nothing more read " \
           "(kubernetes.timeout_s)" in evidence.notes


def test_time_budget_stops_the_collection_with_a_note() -> None:
    ticks = iter(range(0, 10_000, 10))  # every request takes 10 s on this clock
    with serve(FakeCluster()) as (url, seen):
        collector = KubernetesEvidenceCollector(api_client=client(url), clock=lambda: float(next(ticks)),
                                                settings=KubernetesSettings(enabled=True, budget_s=25))
        evidence = collector.collect(CRASHLOOP)
    assert len(seen) == 2  # the pod and its events; the third request would start past the budget
    assert evidence.notes[-1].startswith("kubernetes: time budget of 25 s spent;")


def test_names_outside_the_allowed_namespaces_or_the_naming_rules_are_never_sent() -> None:
    alerts = [
        incident("KubePodCrashLooping", {"namespace": "payments", "pod": "pay-0"}),
        incident("KubePodCrashLooping", {"namespace": NS, "pod": "x,involvedObject.name=y"}),
        incident("KubePodCrashLooping", {"namespace": "../../nodes", "pod": POD}),
        incident("KubeNodeNotReady", {"node": "node/../../secrets"}),
    ]
    with cluster(namespaces=[NS, "../../nodes"]) as (collector, seen):
        notes = [n for a in alerts for n in collector.collect(a).notes]
    assert seen == []
    assert notes == [
        "kubernetes: namespace 'payments' of pod 'pay-0' is not in kubernetes.namespaces; not read",
        "kubernetes: pod 'x,involvedObject.name=y' is not a valid Kubernetes name; not read",
        "kubernetes: namespace '../../nodes' of pod 'checkout-7c9d8f6b5-x2kbc' is not a valid namespace name; not read",
        "kubernetes: node 'node/../../secrets' is not a valid Kubernetes name; not read",
    ]


def test_targets_are_capped_per_incident() -> None:
    alerts = [Alert(source="alertmanager", name="KubePodNotReady", starts_at=AT,
                    labels={"alertname": "KubePodNotReady", "namespace": NS, "pod": f"web-{i}"}) for i in range(5)]
    with cluster(max_targets=2) as (collector, seen):
        evidence = collector.collect(Incident(title="many", alerts=alerts))
    assert {r.path for r in seen if "/pods/" in r.path} == {f"/api/v1/namespaces/{NS}/pods/web-0",
                                                           f"/api/v1/namespaces/{NS}/pods/web-1"}
    assert "kubernetes: 3 more Kubernetes objects named by the alerts were not read (kubernetes.max_targets)" in \
        evidence.notes


def test_cronjob_alert_reads_its_newest_job_and_the_jobs_pods() -> None:
    alert = incident("KubeCronJobFailed", {**KSM, "namespace": NS, "cronjob": "backup"}, service="backup")
    with cluster() as (collector, seen):
        evidence = collector.collect(alert)
    got = texts(evidence)
    assert {f"live:cronjob/{NS}/backup.json", f"live:job/{NS}/backup-28475520.json", f"live:pod/{NS}/{JOB_POD}.json",
            f"live:logs/{NS}/{JOB_POD}/main.previous.log"} <= set(got)
    assert "BackoffLimitExceeded" in got[f"live:job/{NS}/backup-28475520.json"]
    assert evidence.logs["backup"] == [f"2026-03-14T02:00:07Z {JOB_POD}: fatal: could not reach s3"]
    pod_lists = [r for r in seen if r.path == f"/api/v1/namespaces/{NS}/pods"]
    assert [r.query["labelSelector"] for r in pod_lists] == [["batch.kubernetes.io/controller-uid=job-1"]]


def test_job_pod_alert_names_the_cronjob_as_the_workload() -> None:
    alert = incident("KubePodNotReady", {"namespace": NS, "pod": JOB_POD}, service="backup")
    with cluster() as (collector, seen):
        evidence = collector.collect(alert)
    got = texts(evidence)
    assert {f"live:job/{NS}/backup-28475520.json", f"live:cronjob/{NS}/backup.json"} <= set(got)
    assert list(evidence.logs) == ["backup"]
    assert not any(r.path.endswith("/jobs") for r in seen)  # from a pod, the CronJob's other Jobs are not listed


def test_statefulset_pod_reads_the_statefulset() -> None:
    alert = incident("KubePodCrashLooping", {"namespace": NS, "pod": LEDGER_POD}, service="ledger")
    with cluster() as (collector, _):
        evidence = collector.collect(alert)
    got = texts(evidence)
    assert f"live:statefulset/{NS}/ledger.json" in got and f"live:pod/{NS}/{LEDGER_POD}.json" in got
    assert f"live:events/{NS}/{LEDGER_POD}.json" not in got  # no events recorded for it: an empty list is not kept
    assert list(evidence.logs) == ["ledger"]


def test_a_pod_without_status_or_node_still_leads_to_its_owners() -> None:
    fake = FakeCluster()
    del fake.objects[f"/api/v1/namespaces/{NS}/pods/{POD}"]["status"]
    del fake.objects[f"/api/v1/namespaces/{NS}/pods/{POD}"]["spec"]["nodeName"]
    with cluster(fake) as (collector, _):
        evidence = collector.collect(CRASHLOOP)
    got = texts(evidence)
    assert f"live:pod/{NS}/{POD}.json" in got and f"live:deployment/{NS}/checkout.json" in got
    assert f"live:node/{NODE}.json" not in got and evidence.logs == {} and evidence.notes == []

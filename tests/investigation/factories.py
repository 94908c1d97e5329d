"""An incident in namespace ``shop`` whose ``checkout`` pod crash-loops, and the cluster that shows it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bot.domain import Alert, Analysis, Evidence, EvidenceType, Hypothesis, Incident, IncidentContext
from config.settings import LLMSettings

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
POD = "checkout-7d9f8b6c5d-x2x8q"


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def stamp(minutes: float) -> str:
    return at(minutes).strftime("%Y-%m-%dT%H:%M:%SZ")


def settings(**kw: Any) -> LLMSettings:
    base: dict[str, Any] = {"enabled": True, "investigate": True, "model": "scripted", "api_key": "sk-test-0000000000000000",
                            "price_per_1k_input": 0.5, "price_per_1k_output": 1.5, "max_retries": 0}
    return LLMSettings(**{**base, **kw})


def context() -> IncidentContext:
    alert = Alert(name="KubePodCrashLooping", service="checkout", summary="checkout pod restarting",
                  labels={"namespace": "shop", "service": "checkout", "pod": POD}, starts_at=at(0))
    incident = Incident(title="checkout pods crash-looping", service="checkout", alerts=[alert])
    return IncidentContext(
        incident=incident, topology={"frontend": ["checkout"], "checkout": ["db"]},
        logs={"checkout": [f"{stamp(-3)} ERROR pool: dial tcp db:5432: connect: connection refused",
                           f"{stamp(-200)} INFO started long ago"]})


def analysis(ctx: IncidentContext) -> Analysis:
    alert_ev = Evidence(id="alert:0", type=EvidenceType.ALERT, summary="KubePodCrashLooping checkout",
                        service="checkout", ts=at(0), weight=0.5)
    hyps = [Hypothesis(rank=1, service="checkout", kind="bad_deploy", title="bad deploy of checkout", confidence=0.4,
                       evidence=[alert_ev]),
            Hypothesis(rank=2, service="checkout", kind="crash_loop", title="checkout crash-looping",
                       confidence=0.3, evidence=[alert_ev])]
    return Analysis(incident_id=ctx.incident.id, hypotheses=hyps, summary="checkout is restarting")


def pod_json() -> dict[str, Any]:
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": POD, "namespace": "shop", "labels": {"app": "checkout"},
                     "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "checkout-7d9f8b6c5d",
                                          "uid": "6f1c2a8e-0000-4000-8000-000000000001", "controller": True}]},
        "spec": {"nodeName": "node-a", "containers": [{"name": "checkout", "image": "shop/checkout:2.4.1",
                                                        "resources": {"limits": {"memory": "512Mi"}}}]},
        "status": {
            "phase": "Running",
            "conditions": [{"type": "Ready", "status": "False", "reason": "ContainersNotReady",
                            "message": "containers with unready status: [checkout]"}],
            "containerStatuses": [{
                "name": "checkout", "image": "shop/checkout:2.4.1", "imageID": "docker.io/shop/checkout@sha256:ab12",
                "ready": False, "restartCount": 6, "started": False,
                "state": {"waiting": {"reason": "CrashLoopBackOff",
                                      "message": f"back-off 5m0s restarting failed container=checkout pod={POD}"}},
                "lastState": {"terminated": {"reason": "Error", "exitCode": 1, "startedAt": stamp(-2),
                                             "finishedAt": stamp(-1), "containerID": "containerd://9a"}},
            }],
        },
    }


def events_json() -> list[dict[str, Any]]:
    def event(name: str, reason: str, message: str, count: int, obj: str = POD, ns: str = "shop") -> dict[str, Any]:
        return {"metadata": {"name": f"{obj}.{name}", "namespace": ns},
                "involvedObject": {"kind": "Pod", "namespace": ns, "name": obj, "apiVersion": "v1"},
                "reason": reason, "message": message, "type": "Warning", "count": count,
                "firstTimestamp": stamp(-20), "lastTimestamp": stamp(-1),
                "source": {"component": "kubelet", "host": "node-a"}}

    return [event("17a1", "BackOff", "Back-off restarting failed container checkout in pod " + POD, 14),
            event("17a2", "Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 503", 3),
            event("17a3", "Killing", "Stopping container etcd", 1, obj="etcd-0", ns="kube-system")]


PREVIOUS_LOG = "\n".join([
    f"{stamp(-2)} INFO checkout 2.4.1 starting",
    f"{stamp(-2)} INFO connecting to postgres://checkout:hunter22@db:5432/shop",
    f"{stamp(-1)} FATAL cannot start: dial tcp db:5432: connect: connection refused",
])

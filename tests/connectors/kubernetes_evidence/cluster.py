"""A small recorded cluster served in the Kubernetes API's JSON shape (written for these tests from the API
reference: core/v1 Pod, Node, Event; apps/v1 Deployment, ReplicaSet), behind a real local HTTP server."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from tests.connectors.logsources.standin import Reply, Request

NS = "shop"
NODE = "ip-10-0-3-17"
POD = "checkout-7c9d8f6b5-x2kbc"
HEALTHY_POD = "checkout-7c9d8f6b5-q8w2z"
RS = "checkout-7c9d8f6b5"
MANAGED = [{"manager": "kube-controller-manager", "operation": "Update", "apiVersion": "apps/v1"}]
PREVIOUS_LOG = ("2026-03-14T09:40:58.123456789Z Starting checkout v2.8.0\n"
                "2026-03-14T09:41:29.000000001Z java.lang.OutOfMemoryError: Java heap space\n")


def _meta(name: str, *, uid: str, ns: str | None = NS, owner: tuple[str, str, str] | None = None,
          **extra: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "uid": uid, "creationTimestamp": "2026-03-14T08:00:00Z",
                            "managedFields": MANAGED, **extra}
    if ns:
        meta["namespace"] = ns
    if owner:
        kind, owner_name, owner_uid = owner
        api = "apps/v1" if kind in {"ReplicaSet", "Deployment"} else "batch/v1"
        meta["ownerReferences"] = [{"apiVersion": api, "kind": kind, "name": owner_name, "uid": owner_uid,
                                    "controller": True, "blockOwnerDeletion": True}]
    return meta


def _pod(name: str, *, restarts: int, ready: bool) -> dict[str, Any]:
    status: dict[str, Any] = {"name": "checkout", "ready": ready, "restartCount": restarts,
                              "image": "registry.example.com/shop/checkout:2.8.0",
                              "imageID": "registry.example.com/shop/checkout@sha256:9f2c", "started": ready}
    if restarts:
        status["state"] = {"waiting": {"reason": "CrashLoopBackOff",
                                       "message": "back-off 5m0s restarting failed container=checkout"}}
        status["lastState"] = {"terminated": {"exitCode": 137, "reason": "OOMKilled",
                                              "startedAt": "2026-03-14T09:40:58Z",
                                              "finishedAt": "2026-03-14T09:41:29Z"}}
    else:
        status["state"] = {"running": {"startedAt": "2026-03-14T08:00:05Z"}}
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": _meta(name, uid=f"pod-{name}", owner=("ReplicaSet", RS, "rs-7"),
                              labels={"app": "checkout", "pod-template-hash": "7c9d8f6b5"}),
            "spec": {"nodeName": NODE, "containers": [{"name": "checkout",
                                                       "image": "registry.example.com/shop/checkout:2.8.0",
                                                       "resources": {"limits": {"memory": "512Mi"}}}]},
            "status": {"phase": "Running", "podIP": "10.244.1.7", "containerStatuses": [status],
                       "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}}


def _replicaset(name: str, revision: int, *, uid: str, owner_uid: str = "dep-1", image: str = "2.8.0",
                created: str = "2026-03-14T09:30:00Z") -> dict[str, Any]:
    meta = _meta(name, uid=uid, owner=("Deployment", "checkout", owner_uid), labels={"app": "checkout"},
                 annotations={"deployment.kubernetes.io/revision": str(revision)})
    meta["creationTimestamp"] = created
    return {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": meta,
            "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "checkout"}},
                     "template": {"spec": {"containers": [{"name": "checkout",
                                                           "image": f"registry.example.com/shop/checkout:{image}"}]}}},
            "status": {"replicas": 3, "readyReplicas": 1}}


def _event(name: str, kind: str, obj: str, reason: str, message: str, *, ns: str = NS, type_: str = "Warning",
           count: int = 1, at: str = "2026-03-14T09:41:30Z") -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Event",
            "metadata": {"name": name, "namespace": ns, "creationTimestamp": at},
            "involvedObject": {"kind": kind, "name": obj, **({"namespace": ns} if kind != "Node" else {})},
            "reason": reason, "message": message, "type": type_, "count": count,
            "firstTimestamp": at, "lastTimestamp": at, "source": {"component": "kubelet", "host": NODE}}


def objects() -> dict[str, dict[str, Any]]:
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment",
                  "metadata": _meta("checkout", uid="dep-1", labels={"app": "checkout"},
                                    annotations={"deployment.kubernetes.io/revision": "7"}),
                  "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "checkout"}},
                           "template": {"metadata": {"labels": {"app": "checkout"}},
                                        "spec": {"containers": [{"name": "checkout", "image": "x"}]}}},
                  "status": {"replicas": 3, "readyReplicas": 1, "unavailableReplicas": 2}}
    node = {"apiVersion": "v1", "kind": "Node", "metadata": _meta(NODE, uid="node-1", ns=None),
            "spec": {"providerID": "aws:///eu-west-1a/i-0abc"},
            "status": {"conditions": [
                {"type": "MemoryPressure", "status": "True", "reason": "KubeletHasInsufficientMemory",
                 "message": "kubelet has insufficient memory available",
                 "lastTransitionTime": "2026-03-14T09:39:00Z"},
                {"type": "Ready", "status": "True", "reason": "KubeletReady",
                 "message": "kubelet is posting ready status", "lastTransitionTime": "2026-03-01T00:00:00Z"}],
                "images": [{"names": [f"registry.example.com/img{i}:1"], "sizeBytes": 1000 + i} for i in range(30)]}}
    rs_path = f"/apis/apps/v1/namespaces/{NS}/replicasets"
    return {
        f"/api/v1/namespaces/{NS}/pods/{POD}": _pod(POD, restarts=5, ready=False),
        f"/api/v1/namespaces/{NS}/pods/{HEALTHY_POD}": _pod(HEALTHY_POD, restarts=0, ready=True),
        f"{rs_path}/{RS}": _replicaset(RS, 7, uid="rs-7"),
        f"{rs_path}/checkout-5f6b8d9c7": _replicaset("checkout-5f6b8d9c7", 6, uid="rs-6", image="2.7.3",
                                                     created="2026-03-10T10:00:00Z"),
        f"{rs_path}/checkout-6b8d9c7f5": _replicaset("checkout-6b8d9c7f5", 5, uid="rs-5", image="2.7.2",
                                                     created="2026-03-01T10:00:00Z"),
        # same labels, another owner (a Deployment of the same name deleted and recreated): not a rollout of ours
        f"{rs_path}/checkout-bcdf24567": _replicaset("checkout-bcdf24567", 9, uid="rs-x", owner_uid="dep-old"),
        f"/apis/apps/v1/namespaces/{NS}/deployments/checkout": deployment,
        f"/api/v1/nodes/{NODE}": node,
        **batch_and_stateful(),
    }


JOB_POD = "backup-28475520-q7k2z"
LEDGER_POD = "ledger-0"


def batch_and_stateful() -> dict[str, dict[str, Any]]:
    """A CronJob ``backup`` whose Job's pod failed, and a StatefulSet ``ledger`` whose pod is not ready."""
    template = {"spec": {"containers": [{"name": "main", "image": "registry.example.com/ops/backup:1"}]}}
    job_labels = {"batch.kubernetes.io/controller-uid": "job-1", "job-name": "backup-28475520"}
    job_pod = _pod(JOB_POD, restarts=0, ready=False)
    job_pod["metadata"] = _meta(JOB_POD, uid="pod-job", owner=("Job", "backup-28475520", "job-1"), labels=job_labels)
    job_pod["status"]["containerStatuses"][0].update(
        name="main", state={"terminated": {"exitCode": 1, "reason": "Error"}},
        lastState={"terminated": {"exitCode": 1, "reason": "Error"}})
    ledger = _pod(LEDGER_POD, restarts=2, ready=False)
    ledger["metadata"] = _meta(LEDGER_POD, uid="pod-ledger", owner=("StatefulSet", "ledger", "sts-1"),
                               labels={"app": "ledger"})
    ledger["metadata"]["ownerReferences"][0]["apiVersion"] = "apps/v1"
    return {
        f"/apis/batch/v1/namespaces/{NS}/cronjobs/backup": {
            "apiVersion": "batch/v1", "kind": "CronJob", "metadata": _meta("backup", uid="cj-1"),
            "spec": {"schedule": "0 2 * * *", "jobTemplate": {"spec": {"template": template}}},
            "status": {"lastScheduleTime": "2026-03-14T02:00:00Z"}},
        f"/apis/batch/v1/namespaces/{NS}/jobs/backup-28475520": {
            "apiVersion": "batch/v1", "kind": "Job",
            "metadata": _meta("backup-28475520", uid="job-1", owner=("CronJob", "backup", "cj-1")),
            "spec": {"backoffLimit": 6, "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": "job-1"}},
                     "template": template},
            "status": {"failed": 7, "conditions": [{"type": "Failed", "status": "True",
                                                    "reason": "BackoffLimitExceeded",
                                                    "message": "Job has reached the specified backoff limit"}]}},
        f"/api/v1/namespaces/{NS}/pods/{JOB_POD}": job_pod,
        f"/apis/apps/v1/namespaces/{NS}/statefulsets/ledger": {
            "apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": _meta("ledger", uid="sts-1"),
            "spec": {"serviceName": "ledger", "selector": {"matchLabels": {"app": "ledger"}}, "template": template},
            "status": {"replicas": 1, "readyReplicas": 0}},
        f"/api/v1/namespaces/{NS}/pods/{LEDGER_POD}": ledger,
    }


def events() -> list[dict[str, Any]]:
    return [
        _event("e1", "Pod", POD, "BackOff", "Back-off restarting failed container checkout in pod " + POD, count=6),
        _event("e2", "Pod", POD, "Killing", "Container checkout failed liveness probe", at="2026-03-14T09:41:00Z"),
        _event("e3", "Pod", HEALTHY_POD, "Pulled", "Container image already present", type_="Normal"),
        _event("e4", "ReplicaSet", RS, "SuccessfulCreate", f"Created pod: {POD}", type_="Normal"),
        _event("e5", "Deployment", "checkout", "ScalingReplicaSet", f"Scaled up replica set {RS} to 3",
               type_="Normal", at="2026-03-14T09:30:00Z"),
        _event("e6", "Node", NODE, "NodeHasInsufficientMemory", f"Node {NODE} status is now: "
               "NodeHasInsufficientMemory", ns="default", at="2026-03-14T09:39:00Z"),
    ]


@dataclass
class FakeCluster:
    """Answers the read paths the client calls; ``forbidden`` paths answer 403 like RBAC does."""

    objects: dict[str, dict[str, Any]] = field(default_factory=objects)
    events: list[dict[str, Any]] = field(default_factory=events)
    forbidden: set[str] = field(default_factory=set)

    def __call__(self, req: Request) -> Reply:
        if req.method != "GET":
            return Reply(405, _status(405, "MethodNotAllowed"))
        if req.path in self.forbidden:
            return Reply(403, _status(403, "Forbidden", f'cannot get path "{req.path}"'))
        if req.path in self.objects:
            return Reply(body=copy.deepcopy(self.objects[req.path]))
        if req.path == f"/api/v1/namespaces/{NS}/pods/{POD}/log":
            return Reply(body=PREVIOUS_LOG, headers={"Content-Type": "text/plain"})
        if req.path.endswith("/log") and req.path.startswith(f"/api/v1/namespaces/{NS}/pods/"):
            pod = req.path.split("/")[-2]
            return Reply(body=f"2026-03-14T02:00:07Z {pod}: fatal: could not reach s3\n",
                         headers={"Content-Type": "text/plain"})
        if req.path.endswith("/events"):
            return Reply(body=self._events(req))
        for list_path, kind in ((f"/api/v1/namespaces/{NS}/pods", "PodList"),
                                (f"/apis/apps/v1/namespaces/{NS}/replicasets", "ReplicaSetList"),
                                (f"/apis/batch/v1/namespaces/{NS}/jobs", "JobList")):
            if req.path == list_path:
                items = [{k: v for k, v in copy.deepcopy(o).items() if k not in {"kind", "apiVersion"}}  # as lists do
                         for p, o in self.objects.items() if p.startswith(list_path + "/")]
                wanted = dict(pair.split("=", 1) for pair in req.query.get("labelSelector", [""])[0].split(",") if pair)
                items = [o for o in items if all(o["metadata"].get("labels", {}).get(k) == v for k, v in wanted.items())]
                return Reply(body={"apiVersion": "v1", "kind": kind, "metadata": {}, "items": items})
        return Reply(404, _status(404, "NotFound", f"{req.path} not found"))

    def _events(self, req: Request) -> dict[str, Any]:
        ns = req.path.split("/")[4]
        wanted = dict(p.split("=", 1) for p in req.query.get("fieldSelector", [""])[0].split(",") if p)
        items = [e for e in self.events if e["metadata"]["namespace"] == ns
                 and e["involvedObject"]["kind"] == wanted.get("involvedObject.kind")
                 and e["involvedObject"]["name"] == wanted.get("involvedObject.name")]
        limit = int(req.query.get("limit", ["500"])[0])
        return {"apiVersion": "v1", "kind": "EventList", "metadata": {}, "items": items[:limit]}


def _status(code: int, reason: str, message: str = "") -> dict[str, Any]:
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
            "reason": reason, "code": code}

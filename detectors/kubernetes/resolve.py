"""Which component a finding is named on (docs/causes.md): a pod's owning workload, the node it ran on, the
image registry or the host a message could not reach."""

from __future__ import annotations

import re

from bot.domain.workloads import workload_of_job, workload_of_pod, workload_of_replicaset
from detectors.kubernetes.model import Findings, KubeEvent, ObjectRef, PodInfo

_WORKLOAD_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "CronJob", "Service"}
_POD_IN_MESSAGE = re.compile(r"\b(?:in pod|pod)[ /]\"?(?P<pod>[a-z0-9][a-z0-9.-]*[a-z0-9])\"?", re.I)
# ``pods/"zk-1"`` (kubectl drain), ``zk-1 (PodDisruptionBudget ns/zk allows 0 disruptions)``
_POD_NAMED = re.compile(r"\bpods?/\"?(?P<pod>[a-z0-9][a-z0-9.-]*[a-z0-9])\"?|"
                        r"(?P<pod2>[a-z0-9][a-z0-9.-]*[a-z0-9]) \(PodDisruptionBudget")
_NODE_IN_MESSAGE = re.compile(r"\bNode (?P<node>[a-z0-9][\w.-]*) (?:status is now|event)")
_ASSIGNED = re.compile(r"Successfully assigned (?:[\w.-]+/)?(?P<pod>[\w.-]+) to (?P<node>[\w.-]+)")
_IMAGE = re.compile(r"image \"(?P<image>[^\"\s]+)\"|reference \"(?P<ref>[^\"\s]+)\"")
_URL_HOST = re.compile(r"https?://(?P<host>[^/:\"\s]+)")
_DIAL_HOST = re.compile(r"(?:dial tcp:? (?:lookup )?|lookup )(?P<host>[A-Za-z0-9][\w.-]*)")
_CLAIM_ORDINAL = re.compile(r"^(?P<stem>[a-z0-9]+-[a-z0-9][a-z0-9-]*)-\d+$")  # <template>-<statefulset>-<ordinal>
_CLUSTER_SUFFIX = re.compile(r"\.(?:svc(?:\.cluster\.local)?|cluster\.local)\.?$")


class Resolver:
    """Names from one bundle's findings: pods' owners and nodes, ReplicaSet/Job controllers."""

    def __init__(self, findings: Findings) -> None:
        self.pods: dict[str, PodInfo] = {}
        for pod in findings.pods:
            known = self.pods.get(pod.name)
            if known is None or (not known.node and pod.node) or (known.owner is None and pod.owner):
                self.pods[pod.name] = pod
        self.owners = findings.owners
        self.listed = set(findings.workloads)
        # where the scheduler put each pod (Scheduled events), and the nodes the evidence is about
        self.assigned: dict[str, str] = {}
        for event in findings.events:
            match = _ASSIGNED.search(event.message) if event.reason == "Scheduled" else None
            if match:
                self.assigned[match.group("pod")] = match.group("node")
        self.nodes = sorted({n.name for n in findings.nodes}
                            | {e.obj.name for e in findings.events if e.obj.kind == "Node"})
        # the nodes whose Ready condition is not True (``describe node``, ``get nodes``)
        self.not_ready = sorted({n.name for n in findings.nodes
                                 if any(c.type == "Ready" and c.status != "True" for c in n.conditions)})

    def workload(self, ref: ObjectRef) -> str:
        if ref.kind in _WORKLOAD_KINDS:
            return ref.name
        if ref.kind == "Node":
            return ref.name
        if ref.kind == "HorizontalPodAutoscaler":  # the workload it scales, when its reference was read
            owner = self.owners.get(ref.name)
            # else KEDA's own name for the autoscaler it makes for a ScaledObject: ``keda-hpa-<scaledobject>``
            return owner.name if owner else ref.name.removeprefix(KEDA_HPA_PREFIX) or ref.name
        if ref.kind == "ReplicaSet":
            owner = self.owners.get(ref.name)
            return owner.name if owner else workload_of_replicaset(ref.name)
        if ref.kind == "Job":
            owner = self.owners.get(ref.name)
            return owner.name if owner else workload_of_job(ref.name)
        if ref.kind == "PersistentVolumeClaim":
            owner = self.owners.get(ref.name)
            return self.workload_of_pod(owner.name) if owner else self.workload_of_claim(ref.name)
        return self.workload_of_pod(ref.name)

    def workload_of_claim(self, claim: str) -> str:
        """The workload whose pod a claim no owner was read for serves. A StatefulSet names each pod's claim
        ``<template>-<pod>`` (``data-kafka-2`` for pod ``kafka-2``): the known pod it ends with, else the known
        workload before its ordinal, else the name less the template's first word and the ordinal
        (``datadir-catalog-mongo-2`` -> ``catalog-mongo``); a claim of another shape is its own name."""
        pods = [p for p in self.pods if claim.endswith(f"-{p}")]
        if pods:
            return self.workload_of_pod(max(pods, key=len))
        ordinal = _CLAIM_ORDINAL.match(claim)
        if not ordinal:
            return claim
        stem = ordinal.group("stem")
        known = [w for w in self.workloads() if stem.endswith(f"-{w}")]
        if known:
            return max(known, key=len)
        return stem.split("-", 1)[1] if "-" in stem else claim

    def workloads(self) -> list[str]:
        """The workloads of every pod the evidence shows, and those a table lists (a DaemonSet with no pod seen)."""
        return sorted(({self.workload_of_pod(name) for name in self.pods} | self.listed) - {""})

    def workload_of_pod(self, name: str) -> str:
        pod = self.pods.get(name)
        if pod is not None and pod.workload:
            return pod.workload
        if pod is not None and pod.owner is not None and pod.owner.name:
            if pod.owner.kind == "Node":  # a static pod: kube-apiserver-node-1 on node-1 is kube-apiserver
                return name.removesuffix(f"-{pod.owner.name}") or name
            return self.workload(pod.owner) if pod.owner.kind in ("ReplicaSet", "Job") else pod.owner.name
        return workload_of_pod(name)

    def node_of(self, event: KubeEvent | None, ref: ObjectRef) -> str:
        if ref.kind == "Node":
            return ref.name
        pod = self.pods.get(ref.name)
        if pod is not None and pod.node:
            return pod.node
        if ref.name in self.assigned:
            return self.assigned[ref.name]
        if event is not None:
            if event.source_host:
                return event.source_host
            named = _NODE_IN_MESSAGE.search(event.message)
            if named:
                return named.group("node")
        # the one node the evidence is about (a pod told "Node is not ready" while node-3 is NotReady)
        return self.nodes[0] if len(self.nodes) == 1 else ""

    def pod_in_message(self, message: str) -> str:
        match = _POD_IN_MESSAGE.search(message) or _POD_NAMED.search(message)
        pod = (match.group("pod") or match.groupdict().get("pod2") or "") if match else ""
        return self.workload_of_pod(pod) if pod else ""

    def image_of(self, ref: ObjectRef, container: str = "") -> str:
        pod = self.pods.get(ref.name)
        for status in pod.containers if pod else []:
            if status.image and (not container or status.container == container):
                return status.image
        return ""


_REGISTRY_REQUEST = re.compile(r"https?://(?P<host>[^/:\"\s]+)(?::\d+)?/v2/")
# Docker Hub's API and auth hosts are Docker Hub
_DOCKER_HUB_HOSTS = frozenset({"registry-1.docker.io", "index.docker.io", "auth.docker.io", "registry.docker.io"})


KEDA_HPA_PREFIX = "keda-hpa-"


def registry_host(message: str, image: str = "") -> str:
    """The registry a failed pull talked to: the host of the registry API request the message quotes
    (``https://mirror:5000/v2/...``: a pull-through mirror or proxy answers for the image's registry), else the
    registry of the image it names (``docker.io`` for a bare ``nginx:1.25``)."""
    request = _REGISTRY_REQUEST.search(message)
    if request:
        server = short_host(request.group("host")).lower()
        return "docker.io" if server in _DOCKER_HUB_HOSTS else server
    match = _IMAGE.search(message)
    ref = (match.group("image") or match.group("ref")) if match else image
    if not ref:
        host = _DIAL_HOST.search(message) or _URL_HOST.search(message)
        return short_host(host.group("host")) if host else ""
    first = ref.split("/", 1)[0]
    if "/" in ref and ("." in first or ":" in first or first == "localhost"):
        return first.split(":", 1)[0]
    return "docker.io"


_ADAPTER = re.compile(r"adapter|keda-operator-metrics|metrics-apiserver|custom-metrics|external-metrics", re.I)
_RESOURCE_METRICS = re.compile(r"resource metrics API|\(get (?:pods|nodes)\.metrics\.k8s\.io\)")


def metrics_api_server(message: str, workloads: list[str]) -> str:
    """Who serves the metrics API a failed autoscaler read names: metrics-server for the resource metrics API
    (``pods.metrics.k8s.io``); for custom/external metrics the adapter among the bundle's workloads, "" when none
    is seen (an adapter's name is the cluster's own choice)."""
    if _RESOURCE_METRICS.search(message):
        return next((w for w in workloads if "metrics-server" in w), "metrics-server")
    adapters = sorted({w for w in workloads if _ADAPTER.search(w)})
    return adapters[0] if len(adapters) == 1 else ""


def dependency_host(message: str) -> str:
    """The host a message could not reach (a webhook's service, a server), port and cluster suffix stripped."""
    match = _URL_HOST.search(message) or _DIAL_HOST.search(message)
    return short_host(match.group("host")) if match else ""


# suffixes charts give a workload's Service (``kyverno-svc``, ``webhook-service``): a Service so named whose stem is a
# workload the evidence shows is that workload
SERVICE_SUFFIXES = ("-svc", "-service", "-webhook-service", "-webhook-svc", "-headless")


def service_workload(service: str, workloads: list[str]) -> str:
    """The workload behind a Service name: itself when it is a workload or nothing says otherwise, else the workload
    its name is plus a chart's Service suffix."""
    if not service or service in workloads:
        return service
    for suffix in sorted(SERVICE_SUFFIXES, key=len, reverse=True):
        if service.endswith(suffix) and service[: -len(suffix)] in workloads:
            return service[: -len(suffix)]
    return service


def short_host(host: str) -> str:
    host = host.strip().rstrip(".").split(":", 1)[0]
    if _CLUSTER_SUFFIX.search(host):
        return host.split(".", 1)[0]
    return host


def provisioner_workload(reporter: str, workloads: list[str]) -> str:
    """The workload of the external provisioner that reported a claim's event: a CSI provisioner names itself
    ``<driver>_<pod>_<id>`` (``ebs.csi.aws.com_ebs-csi-controller-6b9d8f7c5-x2kqm_0d1e...`` -> ``ebs-csi-controller``);
    without that, the one CSI controller among the bundle's workloads; "" when none or several, or when the event
    names a reporter that is no CSI provisioner (the in-tree ``persistentvolume-controller`` acting with the control
    plane's own cloud identity: a CSI controller the bundle shows may serve another driver entirely)."""
    parts = reporter.strip().split("_")
    if len(parts) >= 3 and "." in parts[0] and parts[1]:
        return workload_of_pod(parts[1])
    if reporter.strip() and "csi" not in reporter.lower():
        return ""
    found = sorted({w for w in workloads if "csi" in w.lower() and _CSI_CONTROLLER.search(w)})
    return found[0] if len(found) == 1 else ""


_CSI_DRIVER = re.compile(r"driver name (?P<driver>[\w.-]+) not found in the list of registered CSI drivers")
# a CSI driver's controller side (provisioner, attacher, resizer) does not register it on nodes
_CSI_CONTROLLER = re.compile(r"provisioner|attacher|resizer|snapshotter|controller", re.I)
_CSI_GENERIC = frozenset({"csi", "k8s", "io", "com", "net", "org", "driver", "storage", "cloud"})


def csi_node_plugin(message: str, workloads: list[str]) -> str:
    """The node plugin that registers the CSI driver a mount failed for (``driver name rbd.csi.ceph.com not found
    in the list of registered CSI drivers`` -> ``csi-rbdplugin``): among the bundle's workloads with ``csi`` in
    their name, not a controller-side one, the one sharing a word of the driver's name; "" when none or several."""
    match = _CSI_DRIVER.search(message)
    if not match:
        return ""
    words = {w for w in re.split(r"[.-]", match.group("driver").lower()) if w and w not in _CSI_GENERIC}
    found = sorted({w for w in workloads if "csi" in w.lower() and not _CSI_CONTROLLER.search(w)
                    and any(word in w.lower() for word in words)})
    return found[0] if len(found) == 1 else ""

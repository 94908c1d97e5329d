"""Small typed objects the Kubernetes parsers produce, whatever the input format (describe, get, yaml, json).

Times are absolute when the source printed them (``first_seen``/``last_seen``); kubectl's relative ages
(``3m12s``) are kept apart (``first_age``/``last_age``) and resolved against the alert time by the detector.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta


@dataclass
class ObjectRef:
    kind: str  # "Pod", "Node", "Job", ... ("" when unknown)
    name: str
    namespace: str = ""

    @property
    def label(self) -> str:
        return f"{self.kind.lower()}/{self.name}" if self.kind else self.name


@dataclass
class KubeEvent:
    """One Kubernetes event (or an object condition that reads like one: a Job's ``BackoffLimitExceeded``)."""

    reason: str
    message: str
    obj: ObjectRef
    type: str = ""  # Normal / Warning
    count: int = 1
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    first_age: timedelta | None = None
    last_age: timedelta | None = None
    source_host: str = ""  # the node that reported it (kubelet's host), when printed
    reporter: str = ""  # the component that reported it as printed (describe's From, reportingInstance)
    origin: str = ""  # the KubeText it came from
    service_hint: str = ""  # the service an events.jsonl row named


@dataclass
class ContainerState:
    state: str  # running / waiting / terminated
    reason: str = ""
    message: str = ""
    exit_code: int | None = None
    started: datetime | None = None
    finished: datetime | None = None


@dataclass
class ContainerStatus:
    pod: str
    container: str
    current: ContainerState | None = None
    last: ContainerState | None = None
    restart_count: int = 0
    ready: bool | None = None
    image: str = ""
    restart_policy: str = ""  # a container's own (``Always``: an init container run as a native sidecar)


@dataclass
class PodInfo:
    name: str
    namespace: str = ""
    node: str = ""
    owner: ObjectRef | None = None  # the controller (ReplicaSet/x, Job/x, StatefulSet/x, ...)
    containers: list[ContainerStatus] = field(default_factory=list)
    start_time: datetime | None = None
    workload: str = ""  # when the source named the workload itself (an events.jsonl row)


@dataclass
class NodeCondition:
    node: str
    type: str
    status: str
    reason: str = ""
    message: str = ""
    since: datetime | None = None


@dataclass
class NodeInfo:
    name: str
    conditions: list[NodeCondition] = field(default_factory=list)
    taints: list[str] = field(default_factory=list)  # taint keys
    allocated: dict[str, tuple[int, int]] = field(default_factory=dict)  # resource -> (requests %, limits %)


@dataclass
class Rollout:
    """A workload's new revision: from ScalingReplicaSet events, ReplicaSets or ``kubectl rollout history``."""

    workload: str
    revision: str = ""
    at: datetime | None = None
    age: timedelta | None = None
    detail: str = ""
    origin: str = ""


@dataclass
class NetworkPolicy:
    """A NetworkPolicy: which pods it selects (None = every pod of its namespace) and whether it isolates them
    (no ingress or egress allowed at all in a direction it governs)."""

    name: str
    namespace: str = ""
    selector: dict[str, str] | None = None
    created: datetime | None = None
    age: timedelta | None = None
    isolates: tuple[str, ...] = ()  # "ingress" / "egress" with nothing allowed
    origin: str = ""
    peers: tuple[str, ...] = ()  # the pod selectors of the peers it admits (``app=api-gateway``), as printed
    # per peer, its namespace selector as printed ("" when none: the policy's own namespace); a peer that admits by
    # namespace only is ``namespace:<selector>``, by address ``ipblock:<cidr>``
    peer_namespaces: tuple[str, ...] = ()


@dataclass
class ContainerLog:
    origin: str
    lines: list[str]
    pod: str = ""
    container: str = ""
    previous: bool = False
    form: str = ""  # the line format of text cut from a paste that named no pod (log_forms.split_forms)


@dataclass
class Findings:
    events: list[KubeEvent] = field(default_factory=list)
    pods: list[PodInfo] = field(default_factory=list)
    nodes: list[NodeInfo] = field(default_factory=list)
    rollouts: list[Rollout] = field(default_factory=list)
    logs: list[ContainerLog] = field(default_factory=list)
    owners: dict[str, ObjectRef] = field(default_factory=dict)  # ReplicaSet/Job name -> its controller
    policies: list[NetworkPolicy] = field(default_factory=list)
    workloads: set[str] = field(default_factory=set)  # workload objects a table lists (``kubectl get ds``)
    uids: dict[str, str] = field(default_factory=dict)  # an object's UID -> its name, from a listing that shows both

    def extend(self, other: Findings) -> None:
        self.events.extend(other.events)
        self.pods.extend(other.pods)
        self.nodes.extend(other.nodes)
        self.rollouts.extend(other.rollouts)
        self.logs.extend(other.logs)
        self.owners.update(other.owners)
        self.policies.extend(other.policies)
        self.workloads.update(other.workloads)
        self.uids.update(other.uids)

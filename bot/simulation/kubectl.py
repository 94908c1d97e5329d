"""kubectl output as a responder saves it: ``describe pod``, ``describe node``, ``describe deployment``,
``get events`` (table, ``-o yaml`` / ``-o json`` as core/v1 or events.k8s.io/v1 objects), ``get pods``,
``get hpa``, ``get networkpolicy``, ``get pod -o yaml`` / ``-o json``, ``rollout history`` and ``logs --previous``.

Pure functions over small dataclasses. The layouts follow kubectl's printers (describe's ``Key:  value``
blocks and Events table, the tab-aligned tables of ``get``, kubectl's human-readable ages such as ``95s``,
``5m3s``, ``2h10m``), so parsers written against real kubectl output read them.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import yaml


def human_age(delta: timedelta) -> str:
    """kubectl's short duration (apimachinery ``HumanDuration``)."""
    seconds = int(delta.total_seconds())
    if seconds < -1:
        return "<invalid>"
    if seconds < 0:
        return "0s"
    if seconds < 120:
        return f"{seconds}s"
    minutes = seconds // 60
    if minutes < 10:
        rest = seconds % 60
        return f"{minutes}m{rest}s" if rest else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    hours = minutes // 60
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h{rest}m" if rest else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    days = hours // 24
    if hours < 24 * 8:
        rest = hours % 24
        return f"{days}d{rest}h" if rest else f"{days}d"
    return f"{days}d"


def rfc1123(ts: datetime) -> str:
    """``Mon, 05 Jan 2026 10:12:40 +0000`` as describe prints times."""
    return ts.strftime("%a, %d %b %Y %H:%M:%S +0000")


@dataclass
class KubeEvent:
    type: str  # Normal | Warning
    reason: str
    obj: str  # kind/name as `get events` prints it: pod/x, node/y, replicaset/z
    message: str
    first: datetime
    last: datetime
    count: int = 1
    source: str = "kubelet"
    namespace: str = "default"


@dataclass
class ContainerView:
    name: str
    image: str
    state: str = "Running"  # Running | Waiting | Terminated | "" (never created)
    state_reason: str = ""
    state_message: str = ""
    last_reason: str = ""
    last_exit: int | None = None
    last_started: datetime | None = None
    last_finished: datetime | None = None
    started: datetime | None = None
    ready: bool = True
    restarts: int = 0
    limits: dict[str, str] = field(default_factory=dict)
    requests: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    port: int = 8080
    liveness: str = ""
    readiness: str = ""
    container_id: str = ""
    image_id: str = ""


@dataclass
class PodView:
    name: str
    namespace: str
    node: str
    node_ip: str
    ip: str
    owner: str  # ReplicaSet/x, StatefulSet/y, Job/z
    labels: dict[str, str]
    start: datetime
    phase: str
    container: ContainerView
    conditions: dict[str, str]  # type -> True/False
    events: list[KubeEvent]
    now: datetime
    qos: str = "Burstable"
    node_selector: dict[str, str] = field(default_factory=dict)
    volumes: list[tuple[str, str]] = field(default_factory=list)  # (name, "ConfigMap (...)" description)


def _kv(key: str, value: str, width: int) -> str:
    return f"{key + ':':<{width}}{value}"


def _describe_events(events: list[KubeEvent], now: datetime, indent: str = "  ") -> list[str]:
    if not events:
        return ["Events:                      <none>"]
    rows = [("Type", "Reason", "Age", "From", "Message"), ("----", "------", "----", "----", "-------")]
    for ev in sorted(events, key=lambda e: e.last):
        age = human_age(now - ev.last)
        if ev.count > 1:
            age = f"{age} (x{ev.count} over {human_age(now - ev.first)})"
        rows.append((ev.type, ev.reason, age, ev.source, ev.message))
    widths = [max(len(r[i]) for r in rows) + 2 for i in range(4)]
    out = ["Events:"]
    for r in rows:
        out.append(indent + "".join(f"{r[i]:<{widths[i]}}" for i in range(4)) + r[4])
    return out


def _container_state(c: ContainerView, start: datetime) -> list[str]:
    lines: list[str] = []
    if c.state == "Running":
        lines += ["    State:          Running", f"      Started:      {rfc1123(c.started or start)}"]
    elif c.state == "Waiting":
        lines += ["    State:          Waiting", f"      Reason:       {c.state_reason}"]
        if c.state_message:
            lines.append(f"      Message:      {c.state_message}")
    elif c.state == "Terminated":
        lines += ["    State:          Terminated", f"      Reason:       {c.state_reason}",
                  f"      Exit Code:    {c.last_exit if c.last_exit is not None else 1}"]
    if c.last_reason:
        lines += ["    Last State:     Terminated", f"      Reason:       {c.last_reason}",
                  f"      Exit Code:    {c.last_exit if c.last_exit is not None else 1}"]
        if c.last_started:
            lines.append(f"      Started:      {rfc1123(c.last_started)}")
        if c.last_finished:
            lines.append(f"      Finished:     {rfc1123(c.last_finished)}")
    return lines


def describe_pod(pod: PodView) -> str:
    """``kubectl describe pod`` of a one-container pod."""
    c = pod.container
    w = 18
    labels = list(pod.labels.items())
    out = [_kv("Name", pod.name, w), _kv("Namespace", pod.namespace, w), _kv("Priority", "0", w),
           _kv("Service Account", pod.labels.get("app", "default"), w),
           _kv("Node", f"{pod.node}/{pod.node_ip}" if pod.node else "<none>", w)]
    if pod.node:
        out.append(_kv("Start Time", rfc1123(pod.start), w))
    out.append(_kv("Labels", f"{labels[0][0]}={labels[0][1]}" if labels else "<none>", w))
    out += [" " * w + f"{k}={v}" for k, v in labels[1:]]
    out += [_kv("Annotations", "<none>", w), _kv("Status", pod.phase, w)]
    if pod.ip:
        out += [_kv("IP", pod.ip, w), "IPs:", f"  IP:           {pod.ip}"]
    else:
        out += [_kv("IP", "", w).rstrip(), "IPs:              <none>"]
    out += [_kv("Controlled By", pod.owner, w), "Containers:", f"  {c.name}:"]
    if c.container_id and c.state:
        out.append(f"    Container ID:   {c.container_id}")
    out.append(f"    Image:          {c.image}")
    if c.image_id and (c.state == "Running" or c.last_reason):
        out.append(f"    Image ID:       {c.image_id}")
    out += [f"    Port:           {c.port}/TCP", "    Host Port:      0/TCP"]
    out += _container_state(c, pod.start)
    if c.state:
        out += [f"    Ready:          {c.ready}", f"    Restart Count:  {c.restarts}"]
    for title, res in (("Limits", c.limits), ("Requests", c.requests)):
        if res:
            out.append(f"    {title}:")
            out += [f"      {k + ':':<9}{v}" for k, v in res.items()]
    if c.liveness:
        out.append(f"    Liveness:     {c.liveness}")
    if c.readiness:
        out.append(f"    Readiness:    {c.readiness}")
    out.append("    Environment:" + ("" if c.env else "  <none>"))
    out += [f"      {k}:  {v}" for k, v in c.env.items()]
    suffix = pod.name[-5:]
    out += ["    Mounts:", f"      /var/run/secrets/kubernetes.io/serviceaccount from kube-api-access-{suffix} (ro)"]
    out += [f"      /etc/{name} from {name} (ro)" for name, _ in pod.volumes]
    width = max(len(k) for k in pod.conditions) + 3
    out += ["Conditions:", f"  {'Type':<{width}}Status"]
    out += [f"  {k:<{width}}{v}" for k, v in pod.conditions.items()]
    out.append("Volumes:")
    for name, desc in pod.volumes:
        out += [f"  {name}:", f"    Type:      {desc}"]
    out += [f"  kube-api-access-{suffix}:",
            "    Type:                    Projected (a volume that contains injected data from multiple sources)",
            "    TokenExpirationSeconds:  3607", "    ConfigMapName:           kube-root-ca.crt",
            "    DownwardAPI:             true",
            _kv("QoS Class", pod.qos, 29),
            _kv("Node-Selectors", ",".join(f"{k}={v}" for k, v in pod.node_selector.items()) or "<none>", 29),
            _kv("Tolerations", "node.kubernetes.io/not-ready:NoExecute op=Exists for 300s", 29),
            " " * 29 + "node.kubernetes.io/unreachable:NoExecute op=Exists for 300s"]
    out += _describe_events(pod.events, pod.now)
    return "\n".join(out) + "\n"


def get_events(events: list[KubeEvent], now: datetime, *, all_namespaces: bool = False) -> str:
    """``kubectl get events`` (``-A`` adds the NAMESPACE column), oldest first as kubectl sorts them."""
    head = ("LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE")
    rows: list[tuple[str, ...]] = [head]
    for ev in sorted(events, key=lambda e: e.last):
        rows.append((human_age(now - ev.last), ev.type, ev.reason, ev.obj, ev.message))
    if all_namespaces:
        rows = [("NAMESPACE", *head)] + [(ev.namespace, *r) for ev, r in
                                         zip(sorted(events, key=lambda e: e.last), rows[1:], strict=True)]
    return _table(rows)


def _table(rows: Sequence[tuple[str, ...]]) -> str:
    """kubectl's tab-writer layout: columns padded to the widest cell plus three spaces, last column free."""
    n = len(rows[0])
    widths = [max(len(r[i]) for r in rows) + 3 for i in range(n - 1)]
    return "\n".join("".join(f"{r[i]:<{widths[i]}}" for i in range(n - 1)) + r[-1] for r in rows) + "\n"


def get_pods(rows: list[tuple[str, str, str, str, str, str, str]], *, wide: bool = True) -> str:
    """``kubectl get pods [-o wide]``: rows of (name, ready, status, restarts, age, ip, node)."""
    table: list[tuple[str, ...]]
    if wide:
        table = [("NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE", "NOMINATED NODE", "READINESS GATES")]
        table += [(*r, "<none>", "<none>") for r in rows]
    else:
        table = [("NAME", "READY", "STATUS", "RESTARTS", "AGE")] + [r[:5] for r in rows]
    return _table(table)


def get_hpa(name: str, kind: str, current: int, target: int, min_pods: int, max_pods: int, replicas: int,
            age: str) -> str:
    """``kubectl get hpa`` of one autoscaler."""
    return _table([("NAME", "REFERENCE", "TARGETS", "MINPODS", "MAXPODS", "REPLICAS", "AGE"),
                   (name, f"{kind}/{name}", f"cpu: {current}%/{target}%", str(min_pods), str(max_pods),
                    str(replicas), age)])


def get_networkpolicies(rows: list[tuple[str, str, str]]) -> str:
    """``kubectl get networkpolicy``: rows of (name, pod selector, age)."""
    return _table([("NAME", "POD-SELECTOR", "AGE"), *rows])


def describe_networkpolicy(name: str, namespace: str, created: datetime, selector: str, allow_from: list[str],
                           policy_types: str = "Ingress") -> str:
    """``kubectl describe networkpolicy`` of an ingress policy (``allow_from`` empty: all ingress denied)."""
    out = [f"Name:         {name}", f"Namespace:    {namespace}", f"Created on:   {created.strftime('%Y-%m-%d %H:%M:%S +0000 UTC')}",
           "Labels:       <none>", "Annotations:  <none>", "Spec:", f"  PodSelector:     {selector}",
           "  Allowing ingress traffic:"]
    if not allow_from:
        out.append("    <none> (Selected pods are isolated for ingress connectivity)")
    else:
        out += ["    To Port: 8080/TCP", "    From:"]
        out += [f"      PodSelector: {src}" for src in allow_from]
    out += ["  Not affecting egress traffic", f"  Policy Types: {policy_types}"]
    return "\n".join(out) + "\n"


@dataclass
class NodeView:
    name: str
    ip: str
    created: datetime
    now: datetime
    conditions: list[tuple[str, str, str, str]]  # (type, status, reason, message)
    heartbeat: datetime
    transition: datetime
    taints: list[str]
    pods: list[tuple[str, str]]  # (namespace, name)
    events: list[KubeEvent]
    cpu: int = 8
    memory_gi: int = 32
    ephemeral_gi: int = 100
    kernel: str = "6.1.102"
    runtime: str = "containerd://1.7.22"
    kubelet: str = "v1.30.4"


def describe_node(node: NodeView) -> str:
    """``kubectl describe node``."""
    w = 20
    mem_ki = node.memory_gi * 1024 * 1024
    out = [_kv("Name", node.name, w), _kv("Roles", "<none>", w),
           _kv("Labels", "kubernetes.io/arch=amd64", w), " " * w + f"kubernetes.io/hostname={node.name}",
           " " * w + "kubernetes.io/os=linux", _kv("Annotations", "node.alpha.kubernetes.io/ttl: 0", w),
           _kv("CreationTimestamp", rfc1123(node.created), w),
           _kv("Taints", node.taints[0] if node.taints else "<none>", w)]
    out += [" " * w + t for t in node.taints[1:]]
    out += [_kv("Unschedulable", "false", w), "Conditions:"]
    hb, tr = rfc1123(node.heartbeat), rfc1123(node.transition)
    rows = [("Type", "Status", "LastHeartbeatTime", "LastTransitionTime", "Reason", "Message"),
            ("----", "------", "-----------------", "------------------", "------", "-------")]
    rows += [(t, s, hb, tr, r, m) for t, s, r, m in node.conditions]
    widths = [max(len(r[i]) for r in rows) + 2 for i in range(5)]
    out += ["  " + "".join(f"{r[i]:<{widths[i]}}" for i in range(5)) + r[5] for r in rows]
    out += ["Addresses:", f"  InternalIP:  {node.ip}", f"  Hostname:    {node.name}", "Capacity:",
            f"  cpu:                {node.cpu}", f"  ephemeral-storage:  {node.ephemeral_gi * 1048576}Ki",
            f"  memory:             {mem_ki}Ki", "  pods:               110", "Allocatable:",
            f"  cpu:                {node.cpu * 1000 - 90}m",
            f"  ephemeral-storage:  {int(node.ephemeral_gi * 1048576 * 0.9)}Ki",
            f"  memory:             {mem_ki - 1_400_000}Ki", "  pods:               110", "System Info:",
            f"  Kernel Version:             {node.kernel}", "  Operating System:           linux",
            "  Architecture:               amd64", f"  Container Runtime Version:  {node.runtime}",
            f"  Kubelet Version:            {node.kubelet}",
            f"Non-terminated Pods:          ({len(node.pods)} in total)",
            "  Namespace                   Name                                 CPU Requests  CPU Limits  "
            "Memory Requests  Memory Limits  Age",
            "  ---------                   ----                                 ------------  ----------  "
            "---------------  -------------  ---"]
    age = human_age(node.now - node.created)
    out += [f"  {ns:<28}{name:<37}{'250m (3%)':<14}{'1 (12%)':<12}{'256Mi (0%)':<17}{'1Gi (3%)':<15}{age}"
            for ns, name in node.pods]
    out += _describe_events(node.events, node.now)
    return "\n".join(out) + "\n"


def pod_object(pod: PodView) -> dict[str, object]:
    """The Pod as the API returns it (the fields a responder reads: spec, conditions, container statuses)."""
    c = pod.container
    status: dict[str, object] = {"name": c.name, "image": c.image, "ready": c.ready, "restartCount": c.restarts,
                                 "started": c.state == "Running"}
    if c.state == "Waiting":
        status["state"] = {"waiting": {"reason": c.state_reason, **({"message": c.state_message}
                                                                     if c.state_message else {})}}
    elif c.state == "Running":
        status["state"] = {"running": {"startedAt": _z(c.started or pod.start)}}
    if c.last_reason:
        term: dict[str, object] = {"exitCode": c.last_exit if c.last_exit is not None else 1,
                                   "reason": c.last_reason, "containerID": c.container_id}
        if c.last_started and c.last_finished:
            term.update(startedAt=_z(c.last_started), finishedAt=_z(c.last_finished))
        status["lastState"] = {"terminated": term}
    if c.container_id:
        status["containerID"] = c.container_id
    owner_kind, _, owner_name = pod.owner.partition("/")
    doc: dict[str, object] = {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": pod.name, "namespace": pod.namespace, "labels": pod.labels,
                     "creationTimestamp": _z(pod.start),
                     "ownerReferences": [{"apiVersion": "apps/v1" if owner_kind != "Job" else "batch/v1",
                                          "kind": owner_kind, "name": owner_name, "controller": True,
                                          "blockOwnerDeletion": True}]},
        "spec": {"containers": [{"name": c.name, "image": c.image,
                                 "ports": [{"containerPort": c.port, "protocol": "TCP"}],
                                 "resources": {"limits": c.limits, "requests": c.requests},
                                 **({"env": [{"name": k, "value": v} for k, v in c.env.items()]} if c.env else {})}],
                 **({"nodeName": pod.node} if pod.node else {}),
                 **({"nodeSelector": pod.node_selector} if pod.node_selector else {}),
                 "restartPolicy": "Always" if owner_kind != "Job" else "Never"},
        "status": {"phase": pod.phase,
                   "conditions": [{"type": k, "status": v} for k, v in pod.conditions.items()],
                   **({"hostIP": pod.node_ip, "podIP": pod.ip} if pod.ip else {}),
                   "qosClass": pod.qos, "startTime": _z(pod.start),
                   **({"containerStatuses": [status]} if c.state else {})},
    }
    return doc


def pod_yaml(pod: PodView) -> str:
    """``kubectl get pod -o yaml``."""
    return yaml.safe_dump(pod_object(pod), sort_keys=False, default_flow_style=False)


def pod_json(pod: PodView) -> str:
    """``kubectl get pod -o json`` (kubectl indents JSON by four spaces)."""
    return json.dumps(pod_object(pod), indent=4) + "\n"


_API_KINDS = {"pod": "Pod", "node": "Node", "replicaset": "ReplicaSet", "deployment": "Deployment",
              "statefulset": "StatefulSet", "horizontalpodautoscaler": "HorizontalPodAutoscaler", "job": "Job",
              "cronjob": "CronJob"}


def event_objects(events: list[KubeEvent], *, api: str = "v1") -> dict[str, object]:
    """``kubectl get events -o yaml|json``: a List of core/v1 Events (``involvedObject``, ``count``,
    ``firstTimestamp``) or, with ``api="events.k8s.io/v1"``, of the newer Events (``regarding``, ``note``,
    ``series``, ``deprecatedCount``)."""
    items: list[dict[str, object]] = []
    for i, ev in enumerate(sorted(events, key=lambda e: e.last)):
        kind, _, name = ev.obj.partition("/")
        about = {"kind": _API_KINDS.get(kind, kind.capitalize()), "name": name,
                 **({} if kind == "node" else {"namespace": ev.namespace})}
        meta = {"name": f"{name}.{zlib.crc32(f'{name}/{ev.reason}/{i}'.encode()):x}{i:04x}",
                "namespace": "default" if kind == "node" else ev.namespace, "creationTimestamp": _z(ev.first)}
        if api == "v1":
            items.append({"apiVersion": "v1", "kind": "Event", "count": ev.count, "firstTimestamp": _z(ev.first),
                          "lastTimestamp": _z(ev.last), "involvedObject": about, "message": ev.message,
                          "metadata": meta, "reason": ev.reason, "source": {"component": ev.source},
                          "type": ev.type})
        else:
            item: dict[str, object] = {"apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": meta,
                                       "eventTime": None, "note": ev.message, "reason": ev.reason, "regarding": about,
                                       "reportingController": ev.source, "type": ev.type,
                                       "deprecatedFirstTimestamp": _z(ev.first),
                                       "deprecatedLastTimestamp": _z(ev.last), "deprecatedCount": ev.count}
            items.append(item)
    return {"apiVersion": "v1", "items": items, "kind": "List", "metadata": {"resourceVersion": ""}}


def get_events_as(events: list[KubeEvent], *, output: str, api: str = "v1") -> str:
    """``kubectl get events -o yaml`` or ``-o json`` (``output``)."""
    doc = event_objects(events, api=api)
    if output == "json":
        return json.dumps(doc, indent=4) + "\n"
    return yaml.safe_dump(doc, sort_keys=False, default_flow_style=False)


@dataclass
class DeploymentView:
    name: str
    namespace: str
    created: datetime
    now: datetime
    revision: int
    replicas: int
    updated: int
    available: int
    new_rs: str
    old_rs: str  # "" when the Deployment never rolled
    image: str
    progressing: tuple[str, str] = ("True", "NewReplicaSetAvailable")  # (status, reason)
    events: list[KubeEvent] = field(default_factory=list)


def describe_deployment(dep: DeploymentView) -> str:
    """``kubectl describe deployment`` of a one-container Deployment."""
    w = 24
    unavailable = max(0, dep.replicas - dep.available)
    total = dep.replicas + (dep.updated if dep.old_rs and dep.updated < dep.replicas else 0)
    out = [_kv("Name", dep.name, w), _kv("Namespace", dep.namespace, w),
           _kv("CreationTimestamp", rfc1123(dep.created), w), _kv("Labels", f"app={dep.name}", w),
           _kv("Annotations", f"deployment.kubernetes.io/revision: {dep.revision}", w),
           _kv("Selector", f"app={dep.name}", w),
           _kv("Replicas", f"{dep.replicas} desired | {dep.updated} updated | {total} total | {dep.available} "
                           f"available | {unavailable} unavailable", w),
           _kv("StrategyType", "RollingUpdate", w), _kv("MinReadySeconds", "0", w),
           _kv("RollingUpdateStrategy", "25% max unavailable, 25% max surge", w), "Pod Template:",
           f"  Labels:  app={dep.name}", "  Containers:", f"   {dep.name}:", f"    Image:      {dep.image}",
           "    Port:       8080/TCP", "    Host Port:  0/TCP", "    Environment:  <none>", "    Mounts:       <none>",
           "  Volumes:        <none>", "  Node-Selectors: <none>", "  Tolerations:    <none>", "Conditions:",
           "  Type           Status  Reason", "  ----           ------  ------",
           f"  {'Available':<15}{'True' if dep.available * 4 >= dep.replicas * 3 else 'False':<8}"
           f"{'MinimumReplicasAvailable' if dep.available * 4 >= dep.replicas * 3 else 'MinimumReplicasUnavailable'}",
           f"  {'Progressing':<15}{dep.progressing[0]:<8}{dep.progressing[1]}",
           _kv("OldReplicaSets", f"{dep.old_rs} ({dep.replicas - unavailable}/{dep.replicas - unavailable} replicas "
                                 "created)" if dep.old_rs else "<none>", 16),
           _kv("NewReplicaSet", f"{dep.new_rs} ({dep.updated}/{dep.updated} replicas created)", 16)]
    out += _describe_events(dep.events, dep.now)
    return "\n".join(out) + "\n"


def rollout_history(kind: str, name: str, causes: list[str]) -> str:
    """``kubectl rollout history``: one row per revision, oldest first (``<none>`` without a change cause)."""
    rows = [("REVISION", "CHANGE-CAUSE")] + [(str(i + 1), cause or "<none>") for i, cause in enumerate(causes)]
    width = max(len(r[0]) for r in rows) + 2
    return f"{kind}.apps/{name} \n" + "\n".join(f"{r[0]:<{width}}{r[1]}" for r in rows) + "\n"


def _z(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%SZ")


def logs_previous(lines: list[str], *, pod: str, container: str, header: bool) -> str:
    """``kubectl logs --previous`` output; ``header`` keeps the command line the responder pasted above it."""
    body = "\n".join(lines) + "\n"
    if header:
        return f"$ kubectl logs {pod} -c {container} --previous\n" + body
    return body

"""``kubectl describe pod|node|deployment|job|replicaset|pvc|hpa`` text into findings.

A describe document is ``Key:  value`` lines at column 0, each followed by its indented section; several
documents may follow each other, each starting with ``Name:``. What the parser keeps: the object, its
controller and node, container states (State / Last State / Reason / Exit Code / Restart Count / Ready),
conditions, taints, a pod's eviction status, and the Events table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from detectors.kubernetes import policies
from detectors.kubernetes.conditions import condition_event, pile_up_event
from detectors.kubernetes.events_table import DESCRIBE_ROW, parse_describe_events
from detectors.kubernetes.model import (
    ContainerState,
    ContainerStatus,
    Findings,
    KubeEvent,
    NodeCondition,
    NodeInfo,
    ObjectRef,
    PodInfo,
    Rollout,
)
from detectors.kubernetes.text import parse_ref, parse_time

_TOP = re.compile(r"^(?P<key>[A-Z][\w ()./-]*?):(?:\s+(?P<value>.*))?$")
_RFC1123 = re.compile(r"[A-Z][a-z]{2}, \d{1,2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} [+-]\d{4}|<unknown>")
_CONDITION = re.compile(r"^\s+(?P<type>[A-Z]\w+)\s+(?P<status>True|False|Unknown)\b(?P<rest>.*)$")
_CONTAINER = re.compile(r"^ {2}(?P<name>[a-z0-9][\w.-]*):\s*$")
_FIELD = re.compile(r"^ {4}(?P<key>[A-Z][\w ]*?):\s*(?P<value>.*)$")
_SUBFIELD = re.compile(r"^ {6,}(?P<key>[A-Z][\w ]*?):\s*(?P<value>.*)$")
_ALLOCATED = re.compile(r"^\s+(?P<res>[a-z][\w./-]*)\s+\S+\s+\((?P<req>\d+)%\)\s+\S+\s+\((?P<lim>\d+)%\)")
_REPLICASET = re.compile(r"^\s*(?P<name>[a-z0-9][\w.-]*)\s+\(")

# keys that tell a describe document's kind, tried in order
_KIND_MARKS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Node", ("System Info", "Allocated resources", "Non-terminated Pods", "PodCIDR", "Unschedulable")),
    ("Pod", ("QoS Class", "Containers", "Node")),
    ("Deployment", ("StrategyType", "NewReplicaSet", "OldReplicaSets", "RollingUpdateStrategy")),
    ("CronJob", ("Schedule", "Concurrency Policy")),
    ("Job", ("Completions", "Parallelism", "Pods Statuses", "Completion Mode")),
    ("HorizontalPodAutoscaler", ("Min replicas", "Max replicas", "Reference")),
    ("PersistentVolumeClaim", ("StorageClass", "Access Modes", "VolumeMode", "Used By")),
    ("StatefulSet", ("Update Strategy", "Volume Claims")),
    ("DaemonSet", ("Desired Number of Nodes Scheduled",)),
    ("ReplicaSet", ("Pods Status", "Replicas")),
)


@dataclass
class _Doc:
    fields: dict[str, str] = field(default_factory=dict)
    sections: dict[str, list[str]] = field(default_factory=dict)


def looks_like_describe(text: str) -> bool:
    head = text.lstrip("\n").split("\n", 40)[:40]
    keys = {m.group("key") for m in (_TOP.match(line) for line in head) if m}
    return "Name" in keys and len(keys & {"Namespace", "Labels", "Annotations", "Events", "Roles",
                                          "CreationTimestamp", "Selector", "Status"}) >= 1


def _documents(text: str) -> list[_Doc]:
    docs: list[_Doc] = []
    key = ""
    for line in text.split("\n"):
        top = _TOP.match(line)
        if top:
            key = top.group("key")
            if key == "Name" or not docs:
                docs.append(_Doc())
            docs[-1].fields.setdefault(key, (top.group("value") or "").strip())
            docs[-1].sections.setdefault(key, [])
        elif docs and key and line.strip():
            docs[-1].sections[key].append(line)
    return docs


def _kind_of(doc: _Doc) -> str:
    if any(line.strip().startswith("PodSelector:") for line in doc.sections.get("Spec", [])):
        return "NetworkPolicy"
    for kind, marks in _KIND_MARKS:
        if any(mark in doc.fields for mark in marks):
            if kind == "Pod" and "Containers" not in doc.fields:
                continue
            return kind
    return ""


def parse_describe(text: str, *, origin: str = "") -> Findings:
    findings = Findings()
    for doc in _documents(text):
        name = doc.fields.get("Name", "")
        if not name:
            continue
        ref = ObjectRef(_kind_of(doc), name, doc.fields.get("Namespace", ""))
        findings.events.extend(parse_describe_events(doc.sections.get("Events", []), ref, origin=origin))
        if ref.kind == "Pod":
            _pod(doc, ref, findings, origin)
        elif ref.kind == "Node":
            findings.nodes.append(_node(doc, name))
        elif ref.kind == "NetworkPolicy":
            findings.policies.append(policies.from_describe(name, doc.fields, doc.sections.get("Spec", []), origin))
        else:
            _workload(doc, ref, findings, origin)
    return findings


def _pod(doc: _Doc, ref: ObjectRef, findings: Findings, origin: str) -> None:
    owner = doc.fields.get("Controlled By", "")
    pod = PodInfo(
        name=ref.name, namespace=ref.namespace, node=doc.fields.get("Node", "").split("/", 1)[0].strip(),
        owner=parse_ref(owner) if owner and owner != "<none>" else None,
        start_time=parse_time(doc.fields.get("Start Time")),
    )
    if pod.node == "<none>":
        pod.node = ""
    for section in ("Init Containers", "Containers"):
        pod.containers.extend(_containers(ref.name, doc.sections.get(section, [])))
    findings.pods.append(pod)
    reason = doc.fields.get("Reason", "")
    if reason and doc.fields.get("Status") in ("Failed", "Pending", "Unknown"):  # e.g. Evicted
        findings.events.append(KubeEvent(reason=reason, message=doc.fields.get("Message", ""), obj=ref,
                                         type="Warning", origin=origin))


def parse_describe_fragment(text: str, ref: ObjectRef, *, origin: str = "") -> Findings:
    """Lines a filter kept from ``kubectl describe <kind> <name>`` (``| grep -A3 "Last State"``, ``| grep Warning``)
    without the describe's ``Name:``: a container's state, a node's conditions and event rows, read as the described
    object's (``ref``, from the command). The container's name is not known ("")."""
    findings = Findings()
    lines = text.split("\n")
    rows = [line for line in lines if DESCRIBE_ROW.match(line)]
    findings.events.extend(parse_describe_events(rows, ref, origin=origin))
    if ref.kind == "Pod":
        containers = [c for c in _containers(ref.name, lines, unnamed=True) if c.current or c.last]
        if containers:
            findings.pods.append(PodInfo(name=ref.name, namespace=ref.namespace, containers=containers))
    if ref.kind == "Node":  # its Conditions table (``| grep -A8 Conditions``)
        node = _node(_Doc(sections={"Conditions": lines}), ref.name)
        if node.conditions:
            findings.nodes.append(node)
    elif ref.kind != "Pod":  # a workload's or an autoscaler's Conditions table (``| sed -n '/^Metrics/,$p'``)
        for ctype, status, reason, message, since in conditions_of(_section(lines, "Conditions")):
            event = condition_event(ref, ctype, status, reason, message, parse_time(since), origin=origin)
            if event is not None:
                findings.events.append(event)
    return findings


def _section(lines: list[str], title: str) -> list[str]:
    """The indented lines under a describe's ``Title:`` header (none when the fragment does not hold it)."""
    out: list[str] = []
    inside = False
    for line in lines:
        if re.match(rf"^{re.escape(title)}:\s*$", line):
            inside = True
            continue
        if inside and line[:1] not in (" ", "\t"):
            break
        if inside:
            out.append(line)
    return out


def _containers(pod: str, lines: list[str], *, unnamed: bool = False) -> list[ContainerStatus]:
    out: list[ContainerStatus] = [ContainerStatus(pod=pod, container="")] if unnamed else []
    state: ContainerState | None = None
    for line in lines:
        head = _CONTAINER.match(line)
        if head:
            out.append(ContainerStatus(pod=pod, container=head.group("name")))
            state = None
            continue
        if not out:
            continue
        status = out[-1]
        sub = _SUBFIELD.match(line)
        if sub and state is not None:
            _state_field(state, sub.group("key"), sub.group("value").strip())
            continue
        top = _FIELD.match(line)
        if not top:
            continue
        key, value = top.group("key"), top.group("value").strip()
        state = None
        if key in ("State", "Last State") and value:
            state = ContainerState(state=value.split()[0].lower())
            if key == "State":
                status.current = state
            else:
                status.last = state
        elif key == "Ready":
            status.ready = value.lower() == "true"
        elif key == "Restart Count" and value.isdigit():
            status.restart_count = int(value)
        elif key == "Image":
            status.image = value
        elif key == "Restart Policy":
            status.restart_policy = value
    return out


def _state_field(state: ContainerState, key: str, value: str) -> None:
    if key == "Reason":
        state.reason = value
    elif key == "Message":
        state.message = value
    elif key == "Exit Code" and value.lstrip("-").isdigit():
        state.exit_code = int(value)
    elif key == "Started":
        state.started = parse_time(value)
    elif key == "Finished":
        state.finished = parse_time(value)


def conditions_of(lines: list[str]) -> list[tuple[str, str, str, str, str]]:
    """Rows of a describe Conditions table: (type, status, reason, message, last transition)."""
    rows = []
    for line in lines:
        match = _CONDITION.match(line)
        if not match:
            continue
        rest = match.group("rest")
        dates = _RFC1123.findall(rest)
        tail = _RFC1123.split(rest)[-1].strip()
        reason, _, message = tail.partition(" ")
        rows.append((match.group("type"), match.group("status"), reason, message.strip(),
                     dates[-1] if dates else ""))
    return rows


def _node(doc: _Doc, name: str) -> NodeInfo:
    node = NodeInfo(name=name)
    for ctype, status, reason, message, since in conditions_of(doc.sections.get("Conditions", [])):
        node.conditions.append(NodeCondition(node=name, type=ctype, status=status, reason=reason,
                                             message=message, since=parse_time(since)))
    for value in [doc.fields.get("Taints", ""), *doc.sections.get("Taints", [])]:
        key = re.split(r"[:=]", value.strip(), maxsplit=1)[0]
        if key and key != "<none>" and key not in node.taints:
            node.taints.append(key)
    for line in doc.sections.get("Allocated resources", []):
        row = _ALLOCATED.match(line)
        if row:
            node.allocated[row.group("res")] = (int(row.group("req")), int(row.group("lim")))
    return node


def _workload(doc: _Doc, ref: ObjectRef, findings: Findings, origin: str) -> None:
    owner = doc.fields.get("Controlled By", "")
    if owner and owner != "<none>":
        findings.owners[ref.name] = parse_ref(owner)
    reference = doc.fields.get("Reference", "")
    if ref.kind == "HorizontalPodAutoscaler" and "/" in reference:
        findings.owners[ref.name] = parse_ref(reference)  # the workload it scales
    used_by = doc.fields.get("Used By", "").split()
    if ref.kind == "PersistentVolumeClaim" and used_by and used_by[0] != "<none>":
        findings.owners[ref.name] = ObjectRef("Pod", used_by[0])  # the claim's workload is its pod's
    if ref.kind == "CronJob":
        active = [j for j in doc.fields.get("Active Jobs", "").replace(",", " ").split() if j != "<none>"]
        piled = pile_up_event(ref, len(active), doc.fields.get("Concurrency Policy", ""), origin=origin)
        if piled is not None:
            findings.events.append(piled)
    for ctype, status, reason, message, since in conditions_of(doc.sections.get("Conditions", [])):
        event = condition_event(ref, ctype, status, reason, message, parse_time(since), origin=origin)
        if event is not None:
            findings.events.append(event)
    if ref.kind == "Deployment":
        new = _REPLICASET.match(doc.fields.get("NewReplicaSet", ""))
        old = _REPLICASET.match(doc.fields.get("OldReplicaSets", ""))
        if new:
            findings.owners[new.group("name")] = ref
        if new and old:  # a rollout left an old ReplicaSet behind; its time comes from ScalingReplicaSet events
            findings.rollouts.append(Rollout(workload=ref.name, detail=f"new ReplicaSet {new.group('name')} "
                                             f"replaces {old.group('name')}", origin=origin))
